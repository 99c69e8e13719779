import XCTest
@testable import Wire

final class IPv4AddressTests: XCTestCase {
    func testParsesDottedQuadInWireOrder() {
        let a = IPv4Address("192.168.7.1")
        XCTAssertEqual(a?.rawValue, 0xC0A8_0701)
        XCTAssertEqual(a?.bytes, [192, 168, 7, 1])
        XCTAssertEqual(a?.description, "192.168.7.1")
    }

    func testRefusesMalformedText() {
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "a.b.c.d", "1.2.3.-4", "1.2.3.4 "] {
            XCTAssertNil(IPv4Address(bad), bad)
        }
    }

    func testSubnetComparisonUsesMask() {
        let mask = IPv4Address(255, 255, 255, 0)
        XCTAssertTrue(IPv4Address(10, 0, 2, 15).isSameSubnet(as: IPv4Address(10, 0, 2, 2), mask: mask))
        XCTAssertFalse(IPv4Address(10, 0, 3, 15).isSameSubnet(as: IPv4Address(10, 0, 2, 2), mask: mask))
    }
}
