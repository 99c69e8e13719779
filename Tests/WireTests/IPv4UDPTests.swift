import NICCore
import XCTest
@testable import Wire

final class IPv4UDPTests: XCTestCase {
    let a = UDPEndpoint(mac: clientMAC, ip: IPv4Address(10, 0, 0, 50), port: 2070)
    let b = UDPEndpoint(mac: serverMAC, ip: IPv4Address(10, 0, 0, 1), port: 69)

    private func frame(_ payload: [UInt8]) throws -> [UInt8] {
        let buffer = FrameBuffer(capacity: 1600)
        try payload.withUnsafeBytes { try UDPFrame.build(buffer, from: a, to: b, payload: $0, identification: 7) }
        return contents(buffer)
    }

    func testHeaderChecksumOfBuiltHeaderVerifies() throws {
        // RFC 791: the checksum field makes the header's ones'-complement sum 0xFFFF.
        let f = try frame([1, 2, 3])
        XCTAssertEqual(f.count, 42 + 3)
        XCTAssertEqual(f[14], 0x45)
        XCTAssertEqual(withBytes(Array(f[14..<34])) { InternetChecksum.compute($0) }, 0)
    }

    func testBuiltFrameParsesBackToPayload() throws {
        let f = try frame(Array("hello".utf8))
        let d = try withBytes(f) { try UDPDatagram(parsing: $0) }
        XCTAssertEqual(d.source, a)
        XCTAssertEqual(d.destination, b)
        XCTAssertEqual(d.ip.identification, 7)
        XCTAssertEqual(Array(f[d.payloadRange]), Array("hello".utf8))
    }

    func testKnownUDPChecksumValue() throws {
        // RFC 768 by hand: 10.0.0.50:2070 -> 10.0.0.1:69, payload 00 01 'a' 00.
        // Pseudo-header words (source, destination, protocol 17, UDP length 12),
        // then the UDP header with a zero checksum field, then the payload.
        let f = try frame([0, 1, 0x61, 0])
        let words: [UInt32] = [0x0A00, 0x0032, 0x0A00, 0x0001, 0x0011, 0x000C, 0x0816, 0x0045, 0x000C, 0x0001, 0x6100]
        var s = words.reduce(0, +)
        while s >> 16 != 0 { s = (s & 0xFFFF) + (s >> 16) }
        let expected = UInt16(~s & 0xFFFF)
        XCTAssertEqual(UInt16(f[40]) << 8 | UInt16(f[41]), expected)
    }

    func testCorruptedHeaderChecksumIsRefused() throws {
        var f = try frame([1])
        f[22] ^= 0x01  // TTL
        XCTAssertThrowsError(try withBytes(f) { try UDPDatagram(parsing: $0) }) { XCTAssertEqual($0 as? WireError, .badChecksum) }
    }

    func testCorruptedUDPPayloadIsRefused() throws {
        var f = try frame([1, 2, 3, 4])
        f[43] ^= 0xFF
        XCTAssertThrowsError(try withBytes(f) { try UDPDatagram(parsing: $0) }) { XCTAssertEqual($0 as? WireError, .badChecksum) }
    }

    func testZeroUDPChecksumMeansNone() throws {
        // RFC 768: an all-zero checksum field means the sender computed none.
        var f = try frame([1, 2, 3, 4])
        f[40] = 0
        f[41] = 0
        f[43] ^= 0xFF
        XCTAssertNoThrow(try withBytes(f) { try UDPDatagram(parsing: $0) })
    }

    func testTotalLengthBeyondBufferIsTruncated() throws {
        var f = try frame([1, 2, 3, 4])
        f.removeLast(2)
        XCTAssertThrowsError(try withBytes(f) { try UDPDatagram(parsing: $0) }) { XCTAssertEqual($0 as? WireError, .truncated) }
    }

    func testWrongVersionIsMalformed() throws {
        var f = try frame([1])
        f[14] = 0x65
        XCTAssertThrowsError(try withBytes(Array(f[14...])) { try IPv4Header(parsing: $0) }) { XCTAssertEqual($0 as? WireError, .malformed) }
    }

    func testIHLBelowFiveIsMalformed() throws {
        var f = try frame([1])
        f[14] = 0x44
        XCTAssertThrowsError(try withBytes(Array(f[14...])) { try IPv4Header(parsing: $0) }) { XCTAssertEqual($0 as? WireError, .malformed) }
    }

    func testEthernetPaddingAfterDatagramIsAllowed() throws {
        // Short frames are padded to 60 bytes; total length, not frame length, bounds the datagram.
        var f = try frame([9])
        f += [UInt8](repeating: 0, count: 60 - f.count)
        let d = try withBytes(f) { try UDPDatagram(parsing: $0) }
        XCTAssertEqual(d.payloadRange.count, 1)
    }

    func testFragmentIsRefused() throws {
        var f = try frame([1])
        f[20] |= 0x20  // more fragments
        f[24] = 0; f[25] = 0
        let sum = withBytes(Array(f[14..<34])) { InternetChecksum.compute($0) }
        f[24] = UInt8(sum >> 8); f[25] = UInt8(sum & 0xFF)
        XCTAssertThrowsError(try withBytes(f) { try UDPDatagram(parsing: $0) }) { XCTAssertEqual($0 as? WireError, .malformed) }
    }

    func testRandomBytesNeverTrap() {
        var rng = SeededRandom(seed: 42)
        for n in 0..<2000 {
            let count = Int(rng.next() % 600)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if count > 14, n % 2 == 0 { bytes[12] = 8; bytes[13] = 0; bytes[14] = 0x45 }
            _ = try? withBytes(bytes) { try UDPDatagram(parsing: $0) }
            _ = try? withBytes(bytes) { try ARPPacket(parsing: $0) }
            _ = try? withBytes(bytes) { try DHCPMessage(parsing: $0) }
            _ = try? withBytes(bytes) { try TFTPPacket(parsing: $0) }
            _ = try? PXEVendorOptions(decoding: bytes)
        }
    }
}
