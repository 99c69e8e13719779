import NICCore
import XCTest

/// The one byte view: network order and little-endian fields, zero for a
/// read that reaches outside, no write outside.
final class ByteViewTests: XCTestCase {
    func testFieldsReadInTheirByteOrder() {
        let bytes: [UInt8] = [0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0]
        XCTAssertEqual(bytes.be16(at: 0), 0x1234)
        XCTAssertEqual(bytes.le16(at: 0), 0x3412)
        XCTAssertEqual(bytes.be32(at: 1), 0x3456_789A)
        XCTAssertEqual(bytes.le32(at: 4), 0xF0DE_BC9A)
        XCTAssertEqual(bytes.le64(at: 0), 0xF0DE_BC9A_7856_3412)
        bytes.withUnsafeBytes { raw in
            XCTAssertEqual(raw.be64(at: 0), 0x1234_5678_9ABC_DEF0)
            XCTAssertEqual(raw.byte(at: 7), 0xF0)
        }
    }

    func testReadsThatReachOutsideAreZero() {
        let bytes: [UInt8] = [1, 2, 3]
        XCTAssertEqual(bytes.be16(at: 2), 0)
        XCTAssertEqual(bytes.be32(at: 0), 0)
        XCTAssertEqual(bytes.byte(at: -1), 0)
        XCTAssertEqual(bytes.byte(at: 3), 0)
        // An offset near Int.max must not overflow into a passing check.
        XCTAssertEqual(bytes.le64(at: Int.max - 2), 0)
        XCTAssertEqual(bytes.le16(at: Int.min), 0)
        XCTAssertFalse(bytes.holds(1, Int.max))
    }

    func testWritesOutsideAreNotMade() {
        var bytes: [UInt8] = [0, 0, 0, 0]
        XCTAssertTrue(bytes.setBE16(0xABCD, at: 1))
        XCTAssertEqual(bytes, [0, 0xAB, 0xCD, 0])
        XCTAssertFalse(bytes.setLE32(0xFFFF_FFFF, at: 1))
        XCTAssertFalse(bytes.setLE16(0xFFFF, at: -1))
        XCTAssertEqual(bytes, [0, 0xAB, 0xCD, 0])
        XCTAssertTrue(bytes.setLE32(0x0403_0201, at: 0))
        XCTAssertEqual(bytes, [1, 2, 3, 4])
    }

    func testClampedSliceStaysInside() {
        let bytes: [UInt8] = [1, 2, 3, 4]
        bytes.withUnsafeBytes { raw in
            XCTAssertEqual(Array(raw.clamped(2..<10)), [3, 4])
            XCTAssertEqual(raw.clamped(9..<12).count, 0)
            XCTAssertEqual(Array(raw.clamped(-5..<1)), [1])
        }
    }
}
