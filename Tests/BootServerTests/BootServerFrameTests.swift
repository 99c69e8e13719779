import NICCore
import Wire
import XCTest
@testable import BootServer

final class BootServerFrameTests: XCTestCase {
    var tree: TemporaryTree!
    var server: BootServer!
    var client: ScriptedClient!

    override func setUp() {
        tree = TemporaryTree()
        server = try? BootServer(configuration: makeConfiguration(root: tree.path), clock: VirtualClock())
        if let server { client = ScriptedClient(server: server) }
    }

    func testMissingRootIsReportedAtStart() {
        var c = makeConfiguration(root: "/nonexistent/nicsim")
        c.tftpRoot = "/nonexistent/nicsim"
        XCTAssertThrowsError(try BootServer(configuration: c, clock: VirtualClock())) {
            XCTAssertEqual($0 as? BootServerError, .tftpRootUnusable("/nonexistent/nicsim"))
        }
    }

    /// Without a TFTP root (a plain DHCP server beside a proxyDHCP) the
    /// server has no TFTP at all: a read request to port 69 and a packet
    /// to a transfer port go unanswered, not even with an ERROR.
    func testWithoutTFTPRootTFTPIsNotAnswered() throws {
        var c = makeConfiguration(root: tree.path)
        c.tftpRoot = nil
        c.bootService = false
        tree.write("pxelinux.0", [1, 2, 3])
        let server = try BootServer(configuration: c, clock: VirtualClock())
        XCTAssertNil(server.tftp)
        let client = ScriptedClient(server: server, ip: IPv4Address(10, 0, 2, 100))
        client.sendTFTP(rrq("pxelinux.0"), from: 2070, toPort: 69)
        client.sendTFTP(ack(0), from: 2070, toPort: 50000)
        XCTAssertTrue(client.drain().isEmpty)
        XCTAssertEqual(server.counters.framesIgnored, 2)
    }

    /// A file name and an ERROR text are the peer's: the log line shows
    /// their control characters escaped, on one line, with no escape
    /// sequence reaching the terminal.
    func testEventLinesEscapePeerText() {
        let file = "x\n2026 tftp: sent pxelinux.0\u{1B}[2J"
        let line = BootServerEvent.transferFailed(client: IPv4Address(10, 0, 2, 100), file: file, reason: "client error 0: \u{1B}]0;t\u{7}").description
        XCTAssertEqual(line, "tftp: 10.0.2.100 x\\n2026 tftp: sent pxelinux.0\\x1B[2J: client error 0: \\x1B]0;t\\x07")
        XCTAssertFalse(BootServerEvent.transferStarted(client: .any, file: file, size: 1, blockSize: 512, windowSize: 1).description.contains("\n"))
    }

    func testARPRequestForServerAddressIsAnswered() throws {
        // RFC 826: the owner of the target address replies to the sender's hardware address.
        let buffer = FrameBuffer()
        try EthernetHeader(destination: .broadcast, source: client.mac, etherType: .arp).write(to: buffer.storage)
        try ARPPacket(operation: .request, senderMAC: client.mac, senderIP: IPv4Address(10, 0, 2, 100), targetMAC: .zero, targetIP: serverIP)
            .write(to: UnsafeMutableRawBufferPointer(rebasing: buffer.storage[14...]))
        buffer.setCount(42)
        XCTAssertEqual(server.port.offer(buffer.bytes), .delivered)
        let frames = client.drain()
        XCTAssertEqual(frames.count, 1)
        let f = try XCTUnwrap(frames.first)
        XCTAssertEqual(f.count, 60)  // padded to the Ethernet minimum
        let eth = try f.withUnsafeBytes { try EthernetHeader(parsing: $0) }
        XCTAssertEqual(eth.destination, client.mac)
        let arp = try Array(f[14...]).withUnsafeBytes { try ARPPacket(parsing: $0) }
        XCTAssertEqual(arp.operation, .reply)
        XCTAssertEqual(arp.senderIP, serverIP)
        XCTAssertEqual(arp.senderMAC, serverMAC)
    }

    func testARPForAnotherAddressIsNotAnswered() throws {
        let buffer = FrameBuffer()
        try EthernetHeader(destination: .broadcast, source: client.mac, etherType: .arp).write(to: buffer.storage)
        try ARPPacket(operation: .request, senderMAC: client.mac, senderIP: IPv4Address(10, 0, 2, 100), targetMAC: .zero,
                      targetIP: IPv4Address(10, 0, 2, 9)).write(to: UnsafeMutableRawBufferPointer(rebasing: buffer.storage[14...]))
        buffer.setCount(42)
        server.port.offer(buffer.bytes)
        XCTAssertTrue(client.drain().isEmpty)
    }

    func testFrameForAnotherMACIsFiltered() {
        var other = client.serverEndpoint
        other.mac = MACAddress(2, 9, 9, 9, 9, 9)
        other.port = 69
        XCTAssertEqual(client.send(rrq("x"), from: 2070, to: other), .filtered)
    }

    func testDiscoverBroadcastGetsOfferFrameFromPort67() throws {
        var m = pxeDiscover()
        m.flags = 0x8000
        client.sendDHCP(m)
        let replies = ScriptedClient.datagrams(client.drain())
        XCTAssertEqual(replies.count, 1)
        let (d, payload) = try XCTUnwrap(replies.first)
        XCTAssertEqual(d.source.port, 67)
        XCTAssertEqual(d.source.ip, serverIP)
        XCTAssertEqual(d.destination.port, 68)
        XCTAssertTrue(d.destination.ip.isBroadcast)
        let offer = try payload.withUnsafeBytes { try DHCPMessage(parsing: $0) }
        XCTAssertEqual(offer.messageType, .offer)
        XCTAssertEqual(server.counters.dhcpReplies, 1)
    }

    func testBootServerRequestOn4011IsAnswered() throws {
        client.ip = IPv4Address(10, 0, 2, 100)
        var m = pxeDiscover(type: .request)
        m.clientIP = client.ip
        client.sendDHCP(m, toPort: 4011)
        let (d, payload) = try XCTUnwrap(ScriptedClient.datagrams(client.drain()).first)
        XCTAssertEqual(d.source.port, 4011)
        XCTAssertEqual(d.destination.ip, client.ip)
        XCTAssertEqual(try payload.withUnsafeBytes { try DHCPMessage(parsing: $0) }.messageType, .ack)
    }

    func testCorruptFramesAreCountedNotAnswered() {
        var rng = SeededRandom(seed: 7)
        let buffer = FrameBuffer()
        for i in 0..<3000 {
            let n = Int(rng.next() % 700)
            for j in 0..<n { buffer.storage[j] = UInt8(truncatingIfNeeded: rng.next()) }
            if n > 24 {
                // Aim some at the server so they get past the Ethernet filter.
                serverMAC.store(to: buffer.baseAddress)
                buffer[12] = 0x08
                buffer[13] = i % 3 == 0 ? 0x06 : 0x00
                if i % 3 == 1 { buffer[14] = 0x45 }
            }
            buffer.setCount(n)
            server.port.offer(buffer.bytes)
        }
        XCTAssertTrue(client.drain().isEmpty)
        XCTAssertGreaterThan(server.counters.malformed, 0)
    }
}
