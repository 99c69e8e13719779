import NICCore
import XCTest
@testable import Wire

final class IPv6HeaderTests: XCTestCase {
    let source = IPv6Address(0xFE80, 0, 0, 0, 0x5054, 0xFF, 0xFE12, 0x3456)

    private func packet(payload: Int, extra: Int = 0) throws -> [UInt8] {
        var h = IPv6Header(payloadLength: payload, nextHeader: .icmpv6, hopLimit: 255, source: source, destination: .allRouters)
        h.trafficClass = 0xB8
        h.flowLabel = 0xABCDE
        var out = [UInt8](repeating: 0, count: IPv6Header.size + payload + extra)
        try out.withUnsafeMutableBytes { try h.write(to: $0) }
        return out
    }

    func testWrittenHeaderHasRFC8200Layout() throws {
        // RFC 8200 §3: version 6 (4 bits), traffic class (8), flow label
        // (20), payload length, next header, hop limit, source, destination.
        let p = try packet(payload: 8)
        XCTAssertEqual(Array(p[0..<8]), [0x6B, 0x8A, 0xBC, 0xDE, 0x00, 0x08, 58, 255])
        XCTAssertEqual(Array(p[8..<24]), source.bytes)
        XCTAssertEqual(Array(p[24..<40]), IPv6Address.allRouters.bytes)
    }

    func testParsedHeaderMatchesWrittenOne() throws {
        let h = try withBytes(try packet(payload: 8)) { try IPv6Header(parsing: $0) }
        XCTAssertEqual(h.trafficClass, 0xB8)
        XCTAssertEqual(h.flowLabel, 0xABCDE)
        XCTAssertEqual(h.payloadLength, 8)
        XCTAssertEqual(h.nextHeader, .icmpv6)
        XCTAssertEqual(h.hopLimit, 255)
        XCTAssertEqual(h.source, source)
        XCTAssertEqual(h.destination, .allRouters)
        XCTAssertEqual(h.payloadRange, 40..<48)
    }

    func testEthernetPaddingAfterPayloadIsAllowed() throws {
        let h = try withBytes(try packet(payload: 8, extra: 10)) { try IPv6Header(parsing: $0) }
        XCTAssertEqual(h.payloadRange, 40..<48)
    }

    func testVersionOtherThanSixIsMalformed() throws {
        var p = try packet(payload: 8)
        p[0] = 0x45
        XCTAssertThrowsError(try withBytes(p) { try IPv6Header(parsing: $0) }) { XCTAssertEqual($0 as? WireError, .malformed) }
    }

    func testPayloadLengthBeyondBytesIsTruncated() throws {
        let p = try packet(payload: 8)
        XCTAssertThrowsError(try withBytes(Array(p.dropLast())) { try IPv6Header(parsing: $0) }) { XCTAssertEqual($0 as? WireError, .truncated) }
        XCTAssertThrowsError(try withBytes(Array(p[0..<39])) { try IPv6Header(parsing: $0) }) { XCTAssertEqual($0 as? WireError, .truncated) }
    }
}
