import NICCore
import Wire
import XCTest
@testable import BootServer

/// The built-in HTTP server through frames, against a scripted TCP peer on
/// the virtual clock.
final class HTTPServerTests: XCTestCase {
    var tree: TemporaryTree!
    var clock: VirtualClock!
    var server: BootServer!
    var client: ScriptedClient!
    var events: [BootServerEvent] = []

    override func setUpWithError() throws {
        tree = TemporaryTree()
        clock = VirtualClock()
        var c = makeConfiguration(root: tree.path)
        c.httpPort = 8080
        server = try BootServer(configuration: c, clock: clock)
        client = ScriptedClient(server: server, ip: IPv4Address(10, 0, 2, 100))
        server.onEvent = { [unowned self] in events.append($0) }
    }

    private func connection(port: UInt16 = 40000) -> TCPTestClient {
        TCPTestClient(client: client, port: port)
    }

    func testHandshakeOffersOurMSSAndNoWindowScaling() throws {
        // RFC 9293 §3.5: SYN, SYN-ACK, ACK; our MSS fits a 1500-byte MTU.
        let tcp = connection()
        let synAck = try XCTUnwrap(tcp.connect())
        XCTAssertEqual(synAck.acknowledgmentNumber, 1001)
        XCTAssertEqual(synAck.maximumSegmentSize, 1460)
        XCTAssertEqual(synAck.headerLength, 24)
        XCTAssertEqual(server.http?.activeConnections, 1)
    }

    func testGetSendsTheFileWithContentLength() throws {
        let file = tree.write("snponly.efi", patternBytes(100_000))
        let tcp = connection()
        tcp.connect()
        tcp.write("GET /snponly.efi HTTP/1.1\r\nHost: 10.0.2.2\r\n\r\n")
        let responses = tcp.receiveResponses(clock: clock)
        XCTAssertEqual(responses.count, 1)
        XCTAssertEqual(responses.first?.status, 200)
        XCTAssertEqual(responses.first?.headers["content-length"], "100000")
        XCTAssertEqual(responses.first?.headers["content-type"], "application/efi")
        XCTAssertEqual(responses.first?.body, file)
        XCTAssertEqual(events.last, .httpServed(client: client.ip, method: "GET", path: "/snponly.efi", status: 200, size: 100_000))
        XCTAssertEqual(server.http?.counters.retransmissions, 0)
    }

    func testSegmentsRespectThePeersMSSAndWindow() throws {
        tree.write("big", patternBytes(20000))
        let tcp = connection()
        tcp.window = 3000
        tcp.connect(mss: 536)
        tcp.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        let first = tcp.segments()
        // RFC 9293 §3.8.6: never more in flight than the window offered.
        XCTAssertEqual(first.map(\.1.count).reduce(0, +), 3000)
        XCTAssertTrue(first.allSatisfy { $0.1.count <= 536 })
    }

    func testHeadSendsHeadersOnly() throws {
        tree.write("ipxe.efi", patternBytes(5000))
        let tcp = connection()
        tcp.connect()
        tcp.write("HEAD /ipxe.efi HTTP/1.1\r\nHost: x\r\n\r\n")
        tcp.pump()
        let text = String(decoding: tcp.received, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 200 OK\r\n"), text)
        XCTAssertTrue(text.contains("Content-Length: 5000\r\n"), text)
        XCTAssertTrue(text.hasSuffix("\r\n\r\n"), text)
    }

    func testRangeGivesPartialContent() throws {
        // RFC 9110 §14.2: a satisfiable single range gets 206 and Content-Range.
        let file = tree.write("f", patternBytes(1000))
        let tcp = connection()
        tcp.connect()
        tcp.write("GET /f HTTP/1.1\r\nHost: x\r\nRange: bytes=100-199\r\n\r\n")
        let r = try XCTUnwrap(tcp.receiveResponses(clock: clock).first)
        XCTAssertEqual(r.status, 206)
        XCTAssertEqual(r.headers["content-range"], "bytes 100-199/1000")
        XCTAssertEqual(r.body, Array(file[100..<200]))
    }

    func testSuffixRangeAndUnsatisfiableRange() throws {
        let file = tree.write("f", patternBytes(1000))
        let tcp = connection()
        tcp.connect()
        tcp.write("GET /f HTTP/1.1\r\nHost: x\r\nRange: bytes=-10\r\n\r\nGET /f HTTP/1.1\r\nHost: x\r\nRange: bytes=1000-\r\n\r\n")
        let r = tcp.receiveResponses(2, clock: clock)
        XCTAssertEqual(r.map(\.status), [206, 416])
        XCTAssertEqual(r.first?.body, Array(file[990...]))
        XCTAssertEqual(r.last?.headers["content-range"], "bytes */1000")
    }

    func testPipelinedRequestsAreAnsweredInOrderOnOneConnection() throws {
        let a = tree.write("a", patternBytes(3000, seed: 2))
        let b = tree.write("dir/b", patternBytes(70000, seed: 3))
        let tcp = connection()
        tcp.connect()
        tcp.write("GET /dir/b HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\n\r\n")
        let r = tcp.receiveResponses(3, clock: clock)
        XCTAssertEqual(r.map(\.status), [200, 200, 404])
        XCTAssertEqual(r[0].body, b)
        XCTAssertEqual(r[1].body, a)
        XCTAssertFalse(tcp.serverFinished, "HTTP/1.1 keeps the connection open")
        XCTAssertEqual(server.http?.counters.connectionsAccepted, 1)
    }

    func testConnectionCloseEndsWithFIN() throws {
        tree.write("a", patternBytes(10))
        let tcp = connection()
        tcp.connect()
        tcp.write("GET /a HTTP/1.0\r\n\r\n")
        let r = tcp.receiveResponses(clock: clock)
        XCTAssertEqual(r.first?.headers["connection"], "close")
        XCTAssertTrue(tcp.serverFinished)
        tcp.finish()
        XCTAssertEqual(server.http?.activeConnections, 0, "both FINs acknowledged")
    }

    func testPathRulesAreTheTFTPRoots() throws {
        // The same TFTPRoot walk: nothing above the root, no absolute
        // symlink, only regular files.
        tree.write("ok", [1])
        tree.symlink("escape", to: "/etc/passwd")
        let tcp = connection()
        tcp.connect()
        tcp.write("GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\nGET /escape HTTP/1.1\r\nHost: x\r\n\r\n"
            + "GET /%2e%2e/ok HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET /ok?x=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(tcp.receiveResponses(5, clock: clock).map(\.status), [403, 403, 403, 404, 200])
    }

    func testBadRequestsAreRefusedAndClosed() throws {
        let tcp = connection()
        tcp.connect()
        tcp.write("POST /x HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(tcp.receiveResponses(clock: clock).map(\.status), [405])
        XCTAssertTrue(tcp.serverFinished)

        let other = connection(port: 40001)
        other.connect()
        other.write("GET /x HTTP/1.1\r\n\r\n")  // no Host
        XCTAssertEqual(other.receiveResponses(clock: clock).map(\.status), [400])
    }

    func testOversizedHeadGets431() throws {
        let tcp = connection()
        tcp.connect()
        let long = "GET /x HTTP/1.1\r\nX: " + String(repeating: "a", count: 1400) + "\r\n"
        for _ in 0..<6 { tcp.write(long) }
        XCTAssertEqual(tcp.receiveResponses(clock: clock).map(\.status), [431])
    }

    func testLostSegmentIsResentAfterThreeDuplicateAcks() throws {
        // RFC 5681 §3.2: the third duplicate ACK triggers a resend before the timer.
        let file = tree.write("big", patternBytes(60000))
        let tcp = connection()
        tcp.connect()
        tcp.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        var seen = 0
        var dropped = false
        let start = clock.now
        let r = tcp.receiveResponses(clock: clock) { _, payload in
            guard !payload.isEmpty else { return false }
            seen += 1
            dropped = dropped || seen == 3
            return seen == 3
        }
        XCTAssertTrue(dropped)
        XCTAssertEqual(r.first?.body, file)
        XCTAssertEqual(clock.now, start, "recovered without waiting for the retransmission timer")
        XCTAssertGreaterThan(server.http?.counters.retransmissions ?? 0, 0)
    }

    func testLostTailIsResentWhenTheTimerFires() throws {
        let file = tree.write("f", patternBytes(4000))
        let tcp = connection()
        tcp.connect()
        tcp.write("GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
        var lost = 0
        let start = clock.now
        let r = tcp.receiveResponses(clock: clock) { _, payload in
            guard !payload.isEmpty, lost < 3 else { return false }
            lost += 1
            return true
        }
        XCTAssertEqual(r.first?.body, file)
        // RFC 6298: the first retransmission after the initial 1 s timeout.
        XCTAssertEqual(clock.now - start, VirtualClock.second)
    }

    func testSilentPeerIsResetAfterTheRetries() throws {
        tree.write("f", patternBytes(4000))
        let tcp = connection()
        tcp.connect()
        tcp.write("GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = tcp.segments()
        while let next = clock.nextDeadline, server.http?.activeConnections != 0 { clock.advance(to: next) }
        XCTAssertEqual(server.http?.activeConnections, 0)
        XCTAssertEqual(events.last, .httpFailed(client: client.ip, path: "/f", reason: "no acknowledgement after 8 retransmissions"))
        XCTAssertTrue(tcp.segments().last?.0.flags.contains(.rst) == true)
        XCTAssertLessThan(clock.now, 60 * VirtualClock.second)
    }

    func testRepeatedSYNGetsTheSameSYNACKAndAnUnfinishedHandshakeEndsQuietly() throws {
        // RFC 9293 §3.8.1: the SYN-ACK is retransmitted on the timer and
        // answers a repeated SYN; a handshake never finished is dropped
        // after the retries, without a transfer event.
        let tcp = connection()
        tcp.send(sequence: 500, ack: 0, flags: .syn, mss: 1460)
        let first = try XCTUnwrap(tcp.segments().first?.0)
        tcp.send(sequence: 500, ack: 0, flags: .syn, mss: 1460)
        XCTAssertEqual(tcp.segments().first?.0, first)
        clock.advance(by: VirtualClock.second)
        XCTAssertEqual(tcp.segments().first?.0.sequenceNumber, first.sequenceNumber)
        while let next = clock.nextDeadline, server.http?.activeConnections != 0 { clock.advance(to: next) }
        XCTAssertEqual(server.http?.activeConnections, 0)
        XCTAssertTrue(events.isEmpty, "\(events)")
    }

    func testSegmentsForNoConnectionGetReset() throws {
        // RFC 9293 §3.10.7.1: ACK-bearing: RST with SEQ = SEG.ACK; else RST+ACK.
        let tcp = connection()
        tcp.send(sequence: 5, ack: 77, flags: .ack, payload: [1, 2, 3])
        let rst = try XCTUnwrap(tcp.segments().first?.0)
        XCTAssertEqual(rst.flags, .rst)
        XCTAssertEqual(rst.sequenceNumber, 77)
        tcp.send(sequence: 5, ack: 0, flags: .syn, toPort: 81)
        let refused = try XCTUnwrap(tcp.segments().first?.0)
        XCTAssertEqual(refused.flags, [.rst, .ack])
        XCTAssertEqual(refused.acknowledgmentNumber, 6)
        tcp.send(sequence: 5, ack: 0, flags: .rst)
        XCTAssertTrue(tcp.segments().isEmpty, "an RST is never answered")
    }

    func testConnectionLimitRefusesFurtherSYNs() throws {
        server.http?.maximumConnections = 2
        XCTAssertNotNil(connection(port: 1).connect())
        XCTAssertNotNil(connection(port: 2).connect())
        let third = connection(port: 3)
        third.send(sequence: 1, ack: 0, flags: .syn)
        XCTAssertEqual(third.segments().first?.0.flags, [.rst, .ack])
        XCTAssertEqual(server.http?.counters.connectionsRefused, 1)
    }

    func testAckForUnsentDataIsNotTaken() throws {
        tree.write("f", patternBytes(100))
        let tcp = connection()
        tcp.connect()
        // RFC 9293 §3.10.7.4: an ACK of something not yet sent is answered with an ACK and dropped.
        tcp.send(sequence: tcp.sequence, ack: tcp.acknowledged &+ 50_000, flags: .ack, payload: Array("GET /f HTTP/1.1\r\n\r\n".utf8))
        let reply = tcp.segments()
        XCTAssertEqual(reply.count, 1)
        XCTAssertEqual(reply.first?.0.acknowledgmentNumber, tcp.sequence, "the data was not taken")
    }

    func testIdleConnectionIsClosedAfterTheIdleTimeout() throws {
        let tcp = connection()
        tcp.connect()
        clock.advance(by: 31 * VirtualClock.second)
        XCTAssertEqual(server.http?.activeConnections, 0)
        XCTAssertEqual(tcp.segments().last?.0.flags, .rst)
    }

    func testSequenceNumbersWrap() throws {
        // The client's ISN just below 2^32: its sequence space wraps mid-request.
        let file = tree.write("f", patternBytes(3000))
        let tcp = TCPTestClient(client: client, port: 40000, initialSequence: 0xFFFF_FFF0)
        tcp.connect()
        tcp.write("GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(tcp.receiveResponses(clock: clock).first?.body, file)
    }

    func testWithoutAnHTTPPortEverySYNIsReset() throws {
        // A closed port answers with an RST, so a client fails at once.
        server = try BootServer(configuration: makeConfiguration(root: tree.path), clock: clock)
        client = ScriptedClient(server: server, ip: IPv4Address(10, 0, 2, 100))
        XCTAssertNil(server.http)
        let tcp = connection()
        tcp.send(sequence: 41, ack: 0, flags: .syn, mss: 1460)
        let rst = try XCTUnwrap(tcp.segments().first?.0)
        XCTAssertEqual(rst.flags, [.rst, .ack])
        XCTAssertEqual(rst.acknowledgmentNumber, 42)
    }
}
