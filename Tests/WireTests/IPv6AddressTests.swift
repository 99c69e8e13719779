import NICCore
import XCTest
@testable import Wire

final class IPv6AddressTests: XCTestCase {
    func testLinkLocalFromMACUsesModifiedEUI64() {
        // RFC 4291 §2.5.1 and appendix A: OUI, ff:fe, the rest, with the
        // universal/local bit (0x02 of the first byte) inverted; prefix fe80::/64.
        XCTAssertEqual(IPv6Address.linkLocal(modifiedEUI64: MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)),
                       IPv6Address(0xFE80, 0, 0, 0, 0x5054, 0x00FF, 0xFE12, 0x3456))
        // A locally administered address has the bit set, so it is cleared.
        XCTAssertEqual(IPv6Address.linkLocal(modifiedEUI64: MACAddress(0x02, 0x6E, 0x69, 0x63, 0x73, 0x01)),
                       IPv6Address(0xFE80, 0, 0, 0, 0x006E, 0x69FF, 0xFE63, 0x7301))
    }

    func testTextFormFollowsRFC5952() {
        // RFC 5952 §4: lower case, no leading zeros, the longest run of two
        // or more zero groups becomes "::" (the first when tied); a single
        // zero group stays "0".
        XCTAssertEqual(IPv6Address(0xFE80, 0, 0, 0, 0x5054, 0xFF, 0xFE12, 0x3456).description, "fe80::5054:ff:fe12:3456")
        XCTAssertEqual(IPv6Address.allRouters.description, "ff02::2")
        XCTAssertEqual(IPv6Address.unspecified.description, "::")
        XCTAssertEqual(IPv6Address(0x2001, 0xDB8, 0, 1, 1, 1, 1, 1).description, "2001:db8:0:1:1:1:1:1")
        XCTAssertEqual(IPv6Address(0x2001, 0, 0, 1, 0, 0, 0, 1).description, "2001:0:0:1::1")
        XCTAssertEqual(IPv6Address(0x2001, 0xDB8, 0, 0, 1, 0, 0, 1).description, "2001:db8::1:0:0:1")
        XCTAssertEqual(IPv6Address(1, 0, 0, 0, 0, 0, 0, 0).description, "1::")
    }

    func testMulticastMapsToEthernetGroup() {
        // RFC 2464 §7: 33:33 followed by the last four bytes of the address.
        XCTAssertEqual(IPv6Address.allNodes.multicastMAC, MACAddress(0x33, 0x33, 0, 0, 0, 1))
        XCTAssertEqual(IPv6Address.allRouters.multicastMAC, MACAddress(0x33, 0x33, 0, 0, 0, 2))
        XCTAssertEqual(IPv6Address(0xFF02, 0, 0, 0, 0, 1, 0xFF12, 0x3456).multicastMAC, MACAddress(0x33, 0x33, 0xFF, 0x12, 0x34, 0x56))
    }

    func testScopesAreClassifiedByPrefix() {
        // RFC 4291 §2.4: fe80::/10 link-local, ff00::/8 multicast.
        XCTAssertTrue(IPv6Address(0xFEBF, 0, 0, 0, 0, 0, 0, 1).isLinkLocal)
        XCTAssertFalse(IPv6Address(0xFEC0, 0, 0, 0, 0, 0, 0, 1).isLinkLocal)
        XCTAssertFalse(IPv6Address(0x2001, 0xDB8, 0, 0, 0, 0, 0, 1).isLinkLocal)
        XCTAssertTrue(IPv6Address.allNodes.isMulticast)
        XCTAssertFalse(IPv6Address(0xFE80, 0, 0, 0, 0, 0, 0, 1).isMulticast)
        XCTAssertTrue(IPv6Address.unspecified.isUnspecified)
    }

    func testBytesAreInWireOrder() {
        let a = IPv6Address(0x2001, 0x0DB8, 0x0102, 0x0304, 0x0506, 0x0708, 0x090A, 0x0B0C)
        XCTAssertEqual(a.bytes, [0x20, 0x01, 0x0D, 0xB8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        XCTAssertEqual(IPv6Address(bytes: a.bytes), a)
        XCTAssertNil(IPv6Address(bytes: [UInt8](repeating: 0, count: 15)))
        var out = [UInt8](repeating: 0, count: 20)
        out.withUnsafeMutableBytes { $0.put(a, at: 2) }
        XCTAssertEqual(Array(out[2..<18]), a.bytes)
        XCTAssertEqual(withBytes(out) { $0.ipv6(2) }, a)
    }
}
