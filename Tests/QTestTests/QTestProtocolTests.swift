import NICCore
@testable import QTest
import XCTest

final class QTestProtocolTests: XCTestCase {
    private func parse(_ s: String) throws -> QTestCommand { try QTestCommand.parse(s[...]) }
    private func failure(_ s: String) -> QTestParseError? {
        do { _ = try QTestCommand.parse(s[...]); return nil } catch { return error }
    }

    func testPortCommands() throws {
        XCTAssertEqual(try parse("outb 0x80 0x1ff"), .portWrite(width: .byte, port: 0x80, value: 0x1FF))
        XCTAssertEqual(try parse("outw 0xcfc 10"), .portWrite(width: .word, port: 0xCFC, value: 10))
        XCTAssertEqual(try parse("outl 0xcf8 0x80000000"), .portWrite(width: .dword, port: 0xCF8, value: 0x8000_0000))
        XCTAssertEqual(try parse("inb 0x3ff"), .portRead(width: .byte, port: 0x3FF))
        XCTAssertEqual(try parse("inw 010"), .portRead(width: .word, port: 8))
        XCTAssertEqual(try parse("inl 0xcfc"), .portRead(width: .dword, port: 0xCFC))
    }

    func testMemoryScalarCommands() throws {
        XCTAssertEqual(try parse("writeb 0x1000 0xab"), .memoryWrite(width: .byte, address: 0x1000, value: 0xAB))
        XCTAssertEqual(try parse("writew 0x1000 1"), .memoryWrite(width: .word, address: 0x1000, value: 1))
        XCTAssertEqual(try parse("writel 0x1000 2"), .memoryWrite(width: .dword, address: 0x1000, value: 2))
        XCTAssertEqual(try parse("writeq 0xfebf0000 0xffffffffffffffff"), .memoryWrite(width: .qword, address: 0xFEBF_0000, value: .max))
        XCTAssertEqual(try parse("readb 4096"), .memoryRead(width: .byte, address: 4096))
        XCTAssertEqual(try parse("readw 0x10"), .memoryRead(width: .word, address: 16))
        XCTAssertEqual(try parse("readl 0x10"), .memoryRead(width: .dword, address: 16))
        XCTAssertEqual(try parse("readq 0x10"), .memoryRead(width: .qword, address: 16))
    }

    func testBulkMemoryCommands() throws {
        XCTAssertEqual(try parse("read 0x1000 6"), .read(address: 0x1000, length: 6))
        XCTAssertEqual(try parse("write 0x2000 3 0xaabbcc"), .write(address: 0x2000, length: 3, data: [0xAA, 0xBB, 0xCC]))
        XCTAssertEqual(try parse("b64read 0x1000 4"), .base64Read(address: 0x1000, length: 4))
        XCTAssertEqual(try parse("b64write 0x3000 4 AQIDBA=="), .base64Write(address: 0x3000, length: 4, data: [1, 2, 3, 4]))
        XCTAssertEqual(try parse("memset 0x3000 2 0x1ff"), .memset(address: 0x3000, length: 2, pattern: 0xFF))
    }

    func testClockEndiannessAndIRQCommands() throws {
        XCTAssertEqual(try parse("clock_step"), .clockStep(nanoseconds: nil))
        XCTAssertEqual(try parse("clock_step 1000"), .clockStep(nanoseconds: 1000))
        XCTAssertEqual(try parse("clock_set 0x10"), .clockSet(nanoseconds: 16))
        XCTAssertEqual(try parse("endianness"), .endianness)
        XCTAssertEqual(try parse("irq_intercept_in ioapic"), .irqInterceptIn(path: "ioapic"))
        XCTAssertEqual(try parse("irq_intercept_out ioapic"), .irqInterceptOut(path: "ioapic"))
        XCTAssertEqual(try parse("set_irq_in ioapic unnamed-gpio-in 9 1"), .setIRQIn(path: "ioapic", name: "unnamed-gpio-in", line: 9, level: 1))
    }

    /// QEMU ignores a trailing carriage return's absence and extra words alike.
    func testTrailingCRAndExtraWordsAreTolerated() throws {
        XCTAssertEqual(try parse("inb 0x80\r"), .portRead(width: .byte, port: 0x80))
        XCTAssertEqual(try parse("outb 0x80 1 2"), .portWrite(width: .byte, port: 0x80, value: 1))
    }

    /// Unknown commands get QEMU's exact reply, including the empty line.
    func testUnknownCommandReply() {
        XCTAssertEqual(failure("bogus 1")?.reply, "FAIL Unknown command 'bogus'")
        XCTAssertEqual(failure("")?.reply, "FAIL Unknown command ''")
        XCTAssertEqual(failure("OUTB 0x80 1")?.reply, "FAIL Unknown command 'OUTB'")
    }

    /// Where QEMU asserts (and dies), nicsim answers FAIL.
    func testMalformedArgumentsFail() {
        XCTAssertEqual(failure("outb zz 1"), .badNumber(command: "outb", word: "zz"))
        XCTAssertEqual(failure("inb"), .missingArgument(command: "inb"))
        XCTAssertEqual(failure("outb 0x80"), .missingArgument(command: "outb"))
        XCTAssertEqual(failure("inb 0x10000"), .portOutOfRange(command: "inb", port: 0x10000))
        XCTAssertEqual(failure("readl 0x1  "), nil)  // extra empty words are ignored
        XCTAssertEqual(failure("readl  0x1"), .badNumber(command: "readl", word: ""))  // two spaces: empty address
        XCTAssertEqual(failure("read 0x1000 0"), .zeroLength(command: "read"))
        XCTAssertEqual(failure("write 0x1000 2 0xzz"), .badData(command: "write"))
        XCTAssertEqual(failure("b64write 0x1000 2 A*B="), .badData(command: "b64write"))
        XCTAssertEqual(failure("clock_set"), .missingArgument(command: "clock_set"))
        XCTAssertEqual(failure("clock_step 1x"), .badNumber(command: "clock_step", word: "1x"))
        for line in ["outb zz 1", "inb", "read 0x1000 0", "write 0x1 1 0xq1"] {
            XCTAssertTrue(failure(line)?.reply.hasPrefix("FAIL ") ?? false, line)
        }
    }

    /// QEMU answers a data word shorter than three characters with "ERR invalid argument size".
    func testShortDataWordGetsERR() {
        XCTAssertEqual(failure("write 0x1000 1 0x")?.reply, "ERR invalid argument size")
        XCTAssertEqual(failure("b64write 0x1000 1 AA")?.reply, "ERR invalid argument size")
    }

    /// Base64 round trip, padding included.
    func testBase64() {
        for bytes: [UInt8] in [[], [0x78], [0x78, 0x56], [0x78, 0x56, 0x34], [0x78, 0x56, 0x34, 0x12]] {
            let text = bytes.withUnsafeBytes { QTestBase64.encode($0) }
            XCTAssertEqual(QTestBase64.decode(text[...]), bytes, text)
        }
        XCTAssertEqual(([0x78, 0x56, 0x34, 0x12] as [UInt8]).withUnsafeBytes { QTestBase64.encode($0) }, "eFY0Eg==")
    }
}
