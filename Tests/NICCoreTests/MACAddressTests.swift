import NICCore
import XCTest

final class MACAddressTests: XCTestCase {
    func testParsesColonAndDashForms() {
        XCTAssertEqual(MACAddress("52:54:00:12:34:56")?.rawValue, 0x5254_0012_3456)
        XCTAssertEqual(MACAddress("52-54-00-AB-cd-EF")?.rawValue, 0x5254_00AB_CDEF)
    }

    func testRejectsMalformedText() {
        for bad in ["", "52:54:00:12:34", "52:54:00:12:34:56:78", "5:54:00:12:34:56", "zz:54:00:12:34:56", "52:54:00-12:34:56"] {
            XCTAssertNil(MACAddress(bad), bad)
        }
    }

    func testFormatsLowerCaseWithColons() {
        XCTAssertEqual(MACAddress(0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF).description, "52:54:00:ab:cd:ef")
    }

    func testGroupAndLocalBits() {
        XCTAssertTrue(MACAddress.broadcast.isBroadcast)
        XCTAssertTrue(MACAddress("01:00:5e:00:00:01")!.isMulticast)
        XCTAssertFalse(MACAddress("52:54:00:12:34:56")!.isMulticast)
    }

    /// The default address for a seed is unicast, locally administered, and the same every time.
    func testSeededDefaultIsStableUnicastLocal() {
        let a = MACAddress.locallyAdministered(seed: 42)
        XCTAssertEqual(a, MACAddress.locallyAdministered(seed: 42))
        XCTAssertNotEqual(a, MACAddress.locallyAdministered(seed: 43))
        for seed in 0..<64 as Range<UInt64> {
            let m = MACAddress.locallyAdministered(seed: seed)
            XCTAssertFalse(m.isMulticast)
            XCTAssertTrue(m.isLocallyAdministered)
        }
    }
}
