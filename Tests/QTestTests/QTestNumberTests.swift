@testable import QTest
import XCTest

final class QTestNumberTests: XCTestCase {
    /// strtoul base 0: 0x/0X prefix is hexadecimal.
    func testHexPrefix() {
        XCTAssertEqual(QTestNumber.parseUnsigned("0x1F"), 0x1F)
        XCTAssertEqual(QTestNumber.parseUnsigned("0XfF"), 0xFF)
        XCTAssertEqual(QTestNumber.parseUnsigned("0xffffffffffffffff"), UInt64.max)
    }

    /// strtoul base 0: a leading 0 is octal, so 010 is eight and 08 is garbage.
    func testLeadingZeroIsOctal() {
        XCTAssertEqual(QTestNumber.parseUnsigned("010"), 8)
        XCTAssertEqual(QTestNumber.parseUnsigned("0"), 0)
        XCTAssertNil(QTestNumber.parseUnsigned("08"))
    }

    func testDecimal() {
        XCTAssertEqual(QTestNumber.parseUnsigned("4096"), 4096)
        XCTAssertEqual(QTestNumber.parseUnsigned("18446744073709551615"), UInt64.max)
    }

    /// strtoul skips leading white space and takes a sign; minus negates modulo 2^64.
    func testSignAndLeadingWhitespace() {
        XCTAssertEqual(QTestNumber.parseUnsigned("-1"), UInt64.max)
        XCTAssertEqual(QTestNumber.parseUnsigned("+0x10"), 16)
        XCTAssertEqual(QTestNumber.parseUnsigned("\t7"), 7)
    }

    /// qemu_strtou64 refuses an empty word, trailing characters and overflow (ERANGE).
    func testMalformedNumbersAreRefused() {
        for bad in ["", "x", "0x", "12z", "0x1g", "18446744073709551616", "0x10000000000000000", "--1", "1 "] {
            XCTAssertNil(QTestNumber.parseUnsigned(bad[...]), "'\(bad)'")
        }
    }

    /// clock_step/clock_set take strtoll numbers: signed, range-checked.
    func testSignedNumbers() {
        XCTAssertEqual(QTestNumber.parseSigned("-5"), -5)
        XCTAssertEqual(QTestNumber.parseSigned("0x7fffffffffffffff"), Int64.max)
        XCTAssertEqual(QTestNumber.parseSigned("-9223372036854775808"), Int64.min)
        XCTAssertNil(QTestNumber.parseSigned("9223372036854775808"))
        XCTAssertNil(QTestNumber.parseSigned("+-1"))
    }
}
