import Board
import Bridge
import Foundation
import NICCore
import XCTest

extension QEMUSocket: PollSource {}

final class QEMUSocketTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = try ExternalTool.temporaryDirectory()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    // -netdev socket framing over TCP: a listener and a connector carry frames both ways.
    func testTCPListenerAndConnectorCarryFramesBothWays() throws {
        let a = TestStation(1), b = TestStation(2)
        let server = try QEMUSocket(.listen(.tcp(host: "127.0.0.1", port: 0)), port: a.port)
        let port = try XCTUnwrap(server.boundPort)
        let client = try QEMUSocket(.connect(.tcp(host: "127.0.0.1", port: port)), port: b.port)
        XCTAssertTrue(pollUntil([server, client]) { server.isConnected })
        a.send(to: b.mac, tag: 1)
        b.send(to: a.mac, tag: 2)
        b.send(to: a.mac, tag: 3)
        XCTAssertTrue(pollUntil([server, client]) { b.received.count == 1 && a.received.count == 2 })
        XCTAssertEqual(b.received.first, TestStation.frame(from: a.mac, to: b.mac, tag: 1))
        XCTAssertEqual(a.tags, [2, 3])
        XCTAssertEqual(server.counters.framesIn, 2)
        XCTAssertEqual(server.counters.framesOut, 1)
    }

    // The link is down until a peer connects and goes down when it leaves.
    func testLinkFollowsThePeerOverUnixStream() throws {
        let nic = TestStation(1)
        let path = dir + "/s.sock"
        let server = try QEMUSocket(.listen(.unix(path: path)), port: nic.port)
        XCTAssertFalse(nic.port.isLinkUp)
        var client: RawStreamClient? = try RawStreamClient(unixPath: path)
        XCTAssertTrue(pollUntil([server]) { nic.port.isLinkUp })
        client = nil
        XCTAssertNil(client)
        XCTAssertTrue(pollUntil([server]) { !nic.port.isLinkUp })
        XCTAssertEqual(server.lastCloseReason, "the peer closed the connection")
        XCTAssertEqual(nic.linkEvents, [false, true, false])
    }

    // Frames split across reads (and several in one read) are reassembled by their length prefixes.
    func testFramesSplitAcrossReadsAreReassembled() throws {
        let nic = TestStation(1)
        let path = dir + "/r.sock"
        let server = try QEMUSocket(.listen(.unix(path: path)), port: nic.port)
        let client = try RawStreamClient(unixPath: path)
        XCTAssertTrue(pollUntil([server]) { server.isConnected })
        let f1 = TestStation.frame(from: MACAddress(0x02, 0, 0, 0, 0, 9), to: nic.mac, tag: 1)
        let f2 = TestStation.frame(from: MACAddress(0x02, 0, 0, 0, 0, 9), to: nic.mac, tag: 2)
        let stream = RawStreamClient.framed(f1) + RawStreamClient.framed(f2)
        client.send(Array(stream[0..<2]))
        _ = pollUntil([server], seconds: 0.1) { false }
        client.send(Array(stream[2..<30]))
        _ = pollUntil([server], seconds: 0.1) { false }
        XCTAssertTrue(nic.received.isEmpty)
        client.send(Array(stream[30...]))
        XCTAssertTrue(pollUntil([server]) { nic.received.count == 2 })
        XCTAssertEqual(nic.received, [f1, f2])
    }

    // Frames nicsim sends reach the peer with a big-endian length in front.
    func testFramesToThePeerCarryABigEndianLength() throws {
        let nic = TestStation(1)
        let path = dir + "/t.sock"
        let server = try QEMUSocket(.listen(.unix(path: path)), port: nic.port)
        let client = try RawStreamClient(unixPath: path)
        XCTAssertTrue(pollUntil([server]) { server.isConnected })
        nic.send(to: .broadcast, tag: 0x0102)
        let got = client.receive(seconds: 0.5).bytes
        XCTAssertEqual(got, RawStreamClient.framed(TestStation.frame(from: nic.mac, to: .broadcast, tag: 0x0102)))
    }

    // An oversized length closes that connection with a logged reason; the
    // switch keeps forwarding between its other ports, and the next peer is served.
    func testOversizedLengthClosesTheConnectionAndTheSwitchKeepsRunning() throws {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock)
        let a = TestStation(1), b = TestStation(2)
        sw.connect(device: a.port)
        sw.connect(device: b.port)
        let path = dir + "/o.sock"
        let socket = try QEMUSocket(.listen(.unix(path: path)), port: sw.addBackendPort().port)
        var logged: [String] = []
        socket.log = { logged.append($0) }
        let bad = try RawStreamClient(unixPath: path)
        XCTAssertTrue(pollUntil([socket]) { socket.isConnected })
        bad.send([0x00, 0x10, 0x00, 0x00] + [UInt8](repeating: 0, count: 64))
        XCTAssertTrue(pollUntil([socket]) { !socket.isConnected })
        XCTAssertEqual(socket.counters.protocolErrors, 1)
        XCTAssertEqual(logged.count, 1)
        XCTAssertTrue(logged.first?.contains("frame length of 1048576 bytes") ?? false, logged.first ?? "")
        XCTAssertTrue(bad.receive(seconds: 1).closed)
        a.send(to: b.mac, tag: 5)
        XCTAssertEqual(b.tags, [5])
        let good = try RawStreamClient(unixPath: path)
        XCTAssertTrue(pollUntil([socket]) { socket.isConnected })
        good.send(RawStreamClient.framed(TestStation.frame(from: MACAddress(0x02, 0, 0, 0, 0, 7), to: b.mac, tag: 6)))
        XCTAssertTrue(pollUntil([socket]) { b.tags == [5, 6] })
    }

    // One peer at a time: a second is closed at once and logged; the first keeps working.
    func testSecondPeerIsRefusedWhileOneIsConnected() throws {
        let nic = TestStation(1)
        let path = dir + "/two.sock"
        let server = try QEMUSocket(.listen(.unix(path: path)), port: nic.port)
        var logged: [String] = []
        server.log = { logged.append($0) }
        let first = try RawStreamClient(unixPath: path)
        XCTAssertTrue(pollUntil([server]) { server.isConnected })
        let second = try RawStreamClient(unixPath: path)
        XCTAssertTrue(pollUntil([server]) { server.counters.refusedPeers == 1 })
        XCTAssertTrue(second.receive(seconds: 1).closed)
        XCTAssertEqual(logged, ["QEMU socket unix:\(path): refused another peer: one is already connected"])
        first.send(RawStreamClient.framed(TestStation.frame(from: MACAddress(0x02, 0, 0, 0, 0, 3), to: nic.mac, tag: 4)))
        XCTAssertTrue(pollUntil([server]) { nic.tags == [4] })
    }

    // QEMU's framing allows a zero-length record: it is skipped, the
    // connection stays, and the frames around it arrive.
    func testZeroLengthRecordIsSkipped() throws {
        let nic = TestStation(1)
        let path = dir + "/z.sock"
        let server = try QEMUSocket(.listen(.unix(path: path)), port: nic.port)
        server.log = { _ in }
        let client = try RawStreamClient(unixPath: path)
        XCTAssertTrue(pollUntil([server]) { server.isConnected })
        client.send([0, 0, 0, 0] + RawStreamClient.framed(TestStation.frame(from: MACAddress(0x02, 0, 0, 0, 0, 3), to: nic.mac, tag: 7)))
        XCTAssertTrue(pollUntil([server]) { nic.tags == [7] })
        XCTAssertTrue(server.isConnected)
        XCTAssertEqual(server.counters.emptyRecords, 1)
        XCTAssertEqual(server.counters.protocolErrors, 0)
    }

    // A length beyond the largest frame is not QEMU's framing: the
    // connection is closed and the reason says why.
    func testAnHTTPPeerIsNotQEMUFraming() throws {
        let nic = TestStation(1)
        let path = dir + "/big.sock"
        let server = try QEMUSocket(.listen(.unix(path: path)), port: nic.port)
        server.log = { _ in }
        let client = try RawStreamClient(unixPath: path)
        XCTAssertTrue(pollUntil([server]) { server.isConnected })
        client.send(Array("GET / HTTP/1.1\r\n".utf8))
        XCTAssertTrue(pollUntil([server]) { !server.isConnected })
        XCTAssertEqual(server.lastCloseReason, "the peer sent a frame length of 1195725856 bytes (more than 69632): not QEMU's 4-byte big-endian length framing")
    }

    // Connect mode with a reconnect interval: when the listener goes away
    // and comes back, the link drops and comes up again by itself.
    func testConnectModeReconnectsAfterThePeerReturns() throws {
        let path = dir + "/re.sock"
        let far = TestStation(1), near = TestStation(2)
        var server: QEMUSocket? = try QEMUSocket(.listen(.unix(path: path)), port: far.port)
        let client = try QEMUSocket(.connect(.unix(path: path)), port: near.port)
        client.log = { _ in }
        client.reconnectInterval = 0.05
        XCTAssertTrue(pollUntil([server!, client]) { server!.isConnected })
        server?.close()
        server = nil
        XCTAssertTrue(pollUntil([client]) { !near.port.isLinkUp })
        let again = try QEMUSocket(.listen(.unix(path: path)), port: far.port)
        XCTAssertTrue(pollUntil([again, client]) { again.isConnected && near.port.isLinkUp })
        XCTAssertEqual(client.reconnects, 1)
        near.send(to: far.mac, tag: 3)
        XCTAssertTrue(pollUntil([again, client]) { far.tags == [3] })
    }

    // Connecting where nobody listens is one clear error.
    func testConnectFailureIsOneClearLine() {
        XCTAssertThrowsError(try QEMUSocket(.connect(.unix(path: dir + "/nobody.sock")), port: FramePort())) { e in
            XCTAssertEqual("\(e)", "cannot connect to unix:\(dir)/nobody.sock: No such file or directory (start QEMU with server=on first)")
        }
    }

    // Endpoint syntax of the CLI: unix:/path, tcp:host:port, host:port.
    func testEndpointParsing() {
        XCTAssertEqual(SocketEndpoint("unix:/tmp/q.sock"), .unix(path: "/tmp/q.sock"))
        XCTAssertEqual(SocketEndpoint("tcp:127.0.0.1:1234"), .tcp(host: "127.0.0.1", port: 1234))
        XCTAssertEqual(SocketEndpoint(":5555"), .tcp(host: "0.0.0.0", port: 5555))
        XCTAssertNil(SocketEndpoint("tcp:host:99999"))
    }

    // The socket is an EventSource: the Board's loop drives it.
    func testBoardLoopDrivesTheSocket() throws {
        let board = Board(memorySize: 1 << 20)
        let a = TestStation(1), b = TestStation(2)
        let server = try QEMUSocket(.listen(.tcp(host: "127.0.0.1", port: 0)), port: a.port)
        let client = try QEMUSocket(.connect(.tcp(host: "127.0.0.1", port: server.boundPort ?? 0)), port: b.port)
        board.add(source: server)
        board.add(source: client)
        b.send(to: a.mac, tag: 1)
        let deadline = Date().addingTimeInterval(5)
        while a.received.isEmpty, Date() < deadline {
            board.step()
            usleep(1_000)
        }
        XCTAssertEqual(a.tags, [1])
    }

    // Random bytes from a peer: every connection ends in frames delivered or
    // a protocol-error close; the process neither traps nor stalls.
    func testRandomStreamsNeverCrashTheBackend() throws {
        let nic = TestStation(1)
        let path = dir + "/fuzz.sock"
        let server = try QEMUSocket(.listen(.unix(path: path)), port: nic.port, maxFrameSize: 2048)
        server.log = { _ in }
        var rng = SeededRandom(seed: 5)
        for round in 0..<40 {
            try fuzzRound(round, path: path, server: server, rng: &rng)
            // The client is gone: the server drops the connection (if the framing did not already).
            XCTAssertTrue(pollUntil([server]) { !server.isConnected }, "round \(round)")
        }
        XCTAssertEqual(server.counters.connections, 40)
        XCTAssertGreaterThan(server.counters.protocolErrors, 5)
        XCTAssertGreaterThan(nic.received.count, 5)
    }

    private func fuzzRound(_ round: Int, path: String, server: QEMUSocket, rng: inout SeededRandom) throws {
        let client = try RawStreamClient(unixPath: path)
        XCTAssertTrue(pollUntil([server]) { server.isConnected }, "round \(round)")
        var bytes: [UInt8] = []
        for _ in 0..<(1 + Int(rng.next() % 6)) {
            if rng.next() % 2 == 0 {
                bytes += RawStreamClient.framed((0..<(1 + Int(rng.next() % 1500))).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            } else {
                bytes += (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
        }
        client.send(bytes)
        _ = pollUntil([server], seconds: 0.05) { !server.isConnected }
    }
}
