import NICCore
import XCTest
@testable import Wire

final class EthernetARPTests: XCTestCase {
    func testEthernetHeaderRoundTrips() throws {
        var bytes = [UInt8](repeating: 0, count: 14)
        let h = EthernetHeader(destination: .broadcast, source: clientMAC, etherType: .arp)
        try bytes.withUnsafeMutableBytes { try h.write(to: $0) }
        // Destination first, then source, then the type big-endian at offset 12.
        XCTAssertEqual(Array(bytes[0..<6]), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(Array(bytes[12..<14]), [0x08, 0x06])
        XCTAssertEqual(try withBytes(bytes) { try EthernetHeader(parsing: $0) }, h)
    }

    func testEthernetHeaderRefusesRunt() {
        XCTAssertThrowsError(try withBytes([UInt8](repeating: 0, count: 13)) { try EthernetHeader(parsing: $0) }) {
            XCTAssertEqual($0 as? WireError, .truncated)
        }
    }

    func testARPRequestParsesAndReplySwapsAddresses() throws {
        // RFC 826: htype 1, ptype 0x0800, hlen 6, plen 4, op 1 (request).
        let req = ARPPacket(operation: .request, senderMAC: clientMAC, senderIP: IPv4Address(10, 0, 0, 50),
                            targetMAC: .zero, targetIP: IPv4Address(10, 0, 0, 1))
        var bytes = [UInt8](repeating: 0, count: 28)
        try bytes.withUnsafeMutableBytes { try req.write(to: $0) }
        XCTAssertEqual(Array(bytes[0..<8]), [0, 1, 8, 0, 6, 4, 0, 1])
        let parsed = try withBytes(bytes) { try ARPPacket(parsing: $0) }
        XCTAssertEqual(parsed, req)
        let reply = parsed.reply(from: serverMAC)
        XCTAssertEqual(reply.operation, .reply)
        XCTAssertEqual(reply.senderIP, IPv4Address(10, 0, 0, 1))
        XCTAssertEqual(reply.senderMAC, serverMAC)
        XCTAssertEqual(reply.targetMAC, clientMAC)
        XCTAssertEqual(reply.targetIP, IPv4Address(10, 0, 0, 50))
    }

    func testARPRefusesNonEthernetIPv4() {
        // Hardware type 6 (IEEE 802) is not Ethernet.
        var bytes: [UInt8] = [0, 6, 8, 0, 6, 4, 0, 1]
        bytes += [UInt8](repeating: 0, count: 20)
        XCTAssertThrowsError(try withBytes(bytes) { try ARPPacket(parsing: $0) }) {
            XCTAssertEqual($0 as? WireError, .malformed)
        }
    }
}
