import NICCore
import XCTest
@testable import Wire

/// The ICMPv6 checksum computed by hand from bytes (RFC 8200 §8.1): the
/// pseudo-header is source, destination, the 32-bit upper-layer length,
/// three zero bytes and next header 58; then the message with a zero
/// checksum field. Independent of `ICMPv6Header.checksum`.
func referenceICMPv6Checksum(_ message: [UInt8], source: IPv6Address, destination: IPv6Address) -> UInt16 {
    var m = message
    m[2] = 0
    m[3] = 0
    let n = UInt32(m.count)
    var bytes = source.bytes + destination.bytes
    bytes += [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF), 0, 0, 0, 58]
    bytes += m
    if bytes.count % 2 == 1 { bytes.append(0) }
    var sum: UInt32 = 0
    for i in stride(from: 0, to: bytes.count, by: 2) { sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]) }
    while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
    return UInt16(~sum & 0xFFFF)
}

final class NeighborDiscoveryTests: XCTestCase {
    let host = IPv6Address.linkLocal(modifiedEUI64: clientMAC)
    let router = IPv6Address.linkLocal(modifiedEUI64: serverMAC)

    private func ip(_ length: Int, from source: IPv6Address, to destination: IPv6Address, hopLimit: UInt8 = 255) -> IPv6Header {
        IPv6Header(payloadLength: length, nextHeader: .icmpv6, hopLimit: hopLimit, source: source, destination: destination)
    }

    private func solicitation(from source: IPv6Address, slla: MACAddress?) throws -> [UInt8] {
        let rs = RouterSolicitation(sourceLinkLayerAddress: slla)
        var out = [UInt8](repeating: 0xEE, count: rs.size)
        try out.withUnsafeMutableBytes { _ = try rs.write(to: $0, source: source, destination: .allRouters) }
        return out
    }

    private func advertisement() throws -> [UInt8] {
        let ra = RouterAdvertisement(currentHopLimit: 64, managed: true, otherConfiguration: false, routerLifetime: 0,
                                     reachableTime: 30_000, retransTimer: 1000, sourceLinkLayerAddress: serverMAC)
        var out = [UInt8](repeating: 0xEE, count: ra.size)
        try out.withUnsafeMutableBytes { _ = try ra.write(to: $0, source: router, destination: host) }
        return out
    }

    func testRouterAdvertisementHasRFC4861Layout() throws {
        // RFC 4861 §4.2: type 134, code 0, checksum, Cur Hop Limit, M|O|
        // reserved, Router Lifetime, Reachable Time, Retrans Timer; then the
        // Source Link-Layer Address option (§4.6.1: type 1, length 1 unit of 8).
        let m = try advertisement()
        XCTAssertEqual(m.count, 24)
        XCTAssertEqual(Array(m[0..<2]), [134, 0])
        XCTAssertEqual(Array(m[4..<16]), [64, 0x80, 0, 0, 0, 0, 0x75, 0x30, 0, 0, 0x03, 0xE8])
        XCTAssertEqual(Array(m[16..<24]), [1, 1] + serverMAC.bytes)
    }

    func testChecksumMatchesHandComputedPseudoHeaderSum() throws {
        let m = try advertisement()
        XCTAssertEqual(UInt16(m[2]) << 8 | UInt16(m[3]), referenceICMPv6Checksum(m, source: router, destination: host))
        XCTAssertEqual(withBytes(m) { ICMPv6Header.checksum($0, source: router, destination: host) }, 0)
    }

    func testOddLengthMessageIsSummedWithATrailingZeroByte() {
        // RFC 1071 / RFC 8200 §8.1: an odd count is padded with one zero byte
        // for the sum only; the length in the pseudo-header stays odd.
        var m: [UInt8] = [128, 0, 0, 0, 0x12, 0x34, 0, 1, 0xAB]
        m.withUnsafeMutableBytes { ICMPv6Header.fillChecksum($0, source: host, destination: router) }
        XCTAssertEqual(UInt16(m[2]) << 8 | UInt16(m[3]), referenceICMPv6Checksum(m, source: host, destination: router))
        XCTAssertNoThrow(try withBytes(m) { try ICMPv6Header(parsing: $0, source: host, destination: router) })
    }

    func testAdvertisementParsesBack() throws {
        let m = try advertisement()
        let ra = try withBytes(m) { try RouterAdvertisement(parsing: $0, ip: ip(m.count, from: router, to: host)) }
        XCTAssertEqual(ra.currentHopLimit, 64)
        XCTAssertTrue(ra.managed)
        XCTAssertFalse(ra.otherConfiguration)
        XCTAssertEqual(ra.routerLifetime, 0)
        XCTAssertEqual(ra.reachableTime, 30_000)
        XCTAssertEqual(ra.retransTimer, 1000)
        XCTAssertEqual(ra.sourceLinkLayerAddress, serverMAC)
    }

    func testAdvertisementFromNonLinkLocalSourceIsInvalid() throws {
        // RFC 4861 §6.1.2: the IP source of a valid RA is link-local.
        let global = IPv6Address(0x2001, 0xDB8, 0, 0, 0, 0, 0, 1)
        let ra = RouterAdvertisement(sourceLinkLayerAddress: serverMAC)
        var m = [UInt8](repeating: 0, count: ra.size)
        try m.withUnsafeMutableBytes { _ = try ra.write(to: $0, source: global, destination: host) }
        XCTAssertThrowsError(try withBytes(m) { try RouterAdvertisement(parsing: $0, ip: ip(m.count, from: global, to: host)) })
    }

    func testSolicitationParsesWithItsLinkLayerAddress() throws {
        // RFC 4861 §4.1: type 133, code 0, checksum, 4 reserved bytes, options.
        let m = try solicitation(from: host, slla: clientMAC)
        XCTAssertEqual(Array(m[0..<2]), [133, 0])
        XCTAssertEqual(Array(m[4..<8]), [0, 0, 0, 0])
        let rs = try withBytes(m) { try RouterSolicitation(parsing: $0, ip: ip(m.count, from: host, to: .allRouters)) }
        XCTAssertEqual(rs.sourceLinkLayerAddress, clientMAC)
    }

    func testSolicitationWithHopLimitBelow255IsInvalid() throws {
        // RFC 4861 §6.1.1: a hop limit other than 255 means it was forwarded.
        let m = try solicitation(from: host, slla: clientMAC)
        XCTAssertThrowsError(try withBytes(m) { try RouterSolicitation(parsing: $0, ip: ip(m.count, from: host, to: .allRouters, hopLimit: 64)) }) {
            XCTAssertEqual($0 as? WireError, .malformed)
        }
    }

    func testSolicitationFromUnspecifiedWithLinkLayerAddressIsInvalid() throws {
        // RFC 4861 §6.1.1: from :: there must be no Source Link-Layer Address option.
        let m = try solicitation(from: .unspecified, slla: clientMAC)
        XCTAssertThrowsError(try withBytes(m) { try RouterSolicitation(parsing: $0, ip: ip(m.count, from: .unspecified, to: .allRouters)) })
        let bare = try solicitation(from: .unspecified, slla: nil)
        XCTAssertNoThrow(try withBytes(bare) { try RouterSolicitation(parsing: $0, ip: ip(bare.count, from: .unspecified, to: .allRouters)) })
    }

    func testCorruptedSolicitationFailsChecksum() throws {
        var m = try solicitation(from: host, slla: clientMAC)
        m[10] ^= 0x01
        XCTAssertThrowsError(try withBytes(m) { try RouterSolicitation(parsing: $0, ip: ip(m.count, from: host, to: .allRouters)) }) {
            XCTAssertEqual($0 as? WireError, .badChecksum)
        }
    }

    func testZeroLengthOptionIsMalformed() throws {
        // RFC 4861 §6.1.1: every included option has a length greater than zero.
        var m = try solicitation(from: host, slla: clientMAC)
        m[9] = 0
        m.withUnsafeMutableBytes { ICMPv6Header.fillChecksum($0, source: host, destination: .allRouters) }
        XCTAssertThrowsError(try withBytes(m) { try RouterSolicitation(parsing: $0, ip: ip(m.count, from: host, to: .allRouters)) }) {
            XCTAssertEqual($0 as? WireError, .malformed)
        }
    }

    func testOptionRunningPastTheEndIsTruncated() throws {
        var m = try solicitation(from: host, slla: clientMAC)
        m[9] = 2  // claims 16 bytes; 8 are present
        m.withUnsafeMutableBytes { ICMPv6Header.fillChecksum($0, source: host, destination: .allRouters) }
        XCTAssertThrowsError(try withBytes(m) { try RouterSolicitation(parsing: $0, ip: ip(m.count, from: host, to: .allRouters)) }) {
            XCTAssertEqual($0 as? WireError, .truncated)
        }
    }

    func testShortSolicitationIsTruncated() throws {
        var m = Array(try solicitation(from: host, slla: nil)[0..<6])
        m.withUnsafeMutableBytes { ICMPv6Header.fillChecksum($0, source: host, destination: .allRouters) }
        XCTAssertThrowsError(try withBytes(m) { try RouterSolicitation(parsing: $0, ip: ip(m.count, from: host, to: .allRouters)) }) {
            XCTAssertEqual($0 as? WireError, .truncated)
        }
    }

    func testFrameCarriesMessageAfterIPv6Header() throws {
        // Ethernet type 0x86DD, IPv6 next header 58, payload length = message length.
        let buffer = FrameBuffer(capacity: 1514)
        let n = try RouterAdvertisement(sourceLinkLayerAddress: serverMAC)
            .write(to: ICMPv6Frame.messageArea(of: buffer), source: router, destination: .allNodes)
        try ICMPv6Frame.finish(buffer, from: serverMAC, router, to: IPv6Address.allNodes.multicastMAC, .allNodes, hopLimit: 255, messageCount: n)
        let f = contents(buffer)
        XCTAssertEqual(f.count, 14 + 40 + 24)
        XCTAssertEqual(Array(f[12..<14]), [0x86, 0xDD])
        let p = try withBytes(f) { try ICMPv6Packet(parsing: $0) }
        XCTAssertEqual(p.ethernet.destination, MACAddress(0x33, 0x33, 0, 0, 0, 1))
        XCTAssertEqual(p.ip.nextHeader, .icmpv6)
        XCTAssertEqual(p.ip.payloadLength, 24)
        XCTAssertEqual(p.type, .routerAdvertisement)
        XCTAssertEqual(p.messageRange, 54..<78)
        let message = Array(f[p.messageRange])
        XCTAssertEqual(UInt16(message[2]) << 8 | UInt16(message[3]), referenceICMPv6Checksum(message, source: router, destination: .allNodes))
    }

    func testIPv6PacketWithOtherNextHeaderIsNotICMPv6() throws {
        var f = [UInt8](repeating: 0, count: 14 + 40 + 8)
        try f.withUnsafeMutableBytes { b in
            try EthernetHeader(destination: serverMAC, source: clientMAC, etherType: .ipv6).write(to: b)
            try IPv6Header(payloadLength: 8, nextHeader: .udp, hopLimit: 64, source: host, destination: router)
                .write(to: UnsafeMutableRawBufferPointer(rebasing: b[14...]))
        }
        XCTAssertThrowsError(try withBytes(f) { try ICMPv6Packet(parsing: $0) }) { XCTAssertEqual($0 as? WireError, .malformed) }
    }
}
