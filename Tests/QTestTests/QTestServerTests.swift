import Board
import NICCore
@testable import QTest
import XCTest

/// A PCI function whose I/O BAR0 offset 0 drives its INTx pin: write 1 to
/// assert, 0 to deassert. Enough to watch interrupts travel through PIRQ
/// routing to the qtest channel without a NIC model.
final class InterruptingFunction: PCIFunction, RegisterBlock {
    let config = PCIConfigSpace(identity: PCIIdentity(vendorID: 0x1234, deviceID: 0x0001, classCode: 0x02_00_00))
    let size: UInt64 = 16
    var scratch: UInt64 = 0

    init() { config.declareBAR(0, .io(size: 16)) }
    func registers(forBAR index: Int) -> RegisterBlock? { index == 0 ? self : nil }
    func read(offset: UInt64, width: AccessWidth) -> UInt64 { scratch & width.mask }
    func write(offset: UInt64, width: AccessWidth, value: UInt64) {
        scratch = value
        config.set(asserted: value & 1 != 0)
    }
}

final class QTestServerTests: XCTestCase {
    private var lines: [String] = []
    private var machine: QTestMachine!
    private var server: QTestServer!

    override func setUpWithError() throws {
        var options = QEMUOptions()
        options.memorySize = 16 << 20
        machine = try QTestMachine(options: options)
        lines = []
        server = QTestServer(board: machine.board) { [unowned self] in self.lines.append($0) }
    }

    /// Sends one line; returns every line written in answer.
    @discardableResult
    private func send(_ line: String) -> [String] {
        lines = []
        server.handle(line: line)
        return lines
    }

    /// Host bridge 00:00.0 is 8086:1237 (i440FX), read through CF8/CFC as a
    /// driver does; `in` replies are formatted 0x%04x like QEMU's.
    func testHostBridgeAnswersThroughConfigMechanism1() {
        XCTAssertEqual(send("outl 0xcf8 0x80000000"), ["OK"])
        XCTAssertEqual(send("inl 0xcfc"), ["OK 0x12378086"])
        XCTAssertEqual(send("inw 0xcfe"), ["OK 0x1237"])
        XCTAssertEqual(send("inb 0xcfc"), ["OK 0x0086"])
    }

    /// PIIX3 function 0 answers at 00:01.0 with PIRQ routing disabled (80h x 4).
    func testPIIX3IsAt0001WithRoutingDisabled() {
        send("outl 0xcf8 0x80000800")
        XCTAssertEqual(send("inl 0xcfc"), ["OK 0x70008086"])
        send("outl 0xcf8 0x80000860")
        XCTAssertEqual(send("inl 0xcfc"), ["OK 0x80808080"])
    }

    /// An absent function reads all-ones (master abort), a free port reads all-ones.
    func testAbsentFunctionAndFreePortReadAllOnes() {
        send("outl 0xcf8 0x80001800")
        XCTAssertEqual(send("inl 0xcfc"), ["OK 0xffffffff"])
        XCTAssertEqual(send("inb 0x3ff"), ["OK 0x00ff"])
    }

    /// readX replies are 0x%016x; multi-byte values are little endian in RAM.
    func testScalarMemoryIsLittleEndian() {
        XCTAssertEqual(send("writel 0x1000 0x12345678"), ["OK"])
        XCTAssertEqual(send("readq 0x1000"), ["OK 0x0000000012345678"])
        XCTAssertEqual(send("readw 0x1002"), ["OK 0x0000000000001234"])
        XCTAssertEqual(send("readb 0x1000"), ["OK 0x0000000000000078"])
        XCTAssertEqual(send("read 0x1000 6"), ["OK 0x785634120000"])
    }

    /// `write` pads with zeros to SIZE; `read` returns bytes in memory order.
    func testWriteAndReadBytes() {
        XCTAssertEqual(send("write 0x2000 4 0xaabbcc"), ["OK"])
        XCTAssertEqual(send("read 0x2000 4"), ["OK 0xaabbcc00"])
    }

    func testBase64WriteReadAndMemset() {
        XCTAssertEqual(send("b64write 0x3000 4 AQIDBA=="), ["OK"])
        XCTAssertEqual(send("b64read 0x3000 4"), ["OK AQIDBA=="])
        XCTAssertEqual(send("memset 0x3000 2 0xff"), ["OK"])
        XCTAssertEqual(send("read 0x3000 4"), ["OK 0xffff0304"])
        XCTAssertEqual(send("memset 0x3000 0 0xff"), ["OK"])
    }

    /// A read past the end of RAM is an unclaimed cycle: all-ones, and no crash.
    func testMemoryPastRAMReadsAllOnes() {
        XCTAssertEqual(send("readl 0x1000000"), ["OK 0x00000000ffffffff"])
        XCTAssertEqual(send("read 0xfffffe 4"), ["OK 0x0000ffff"])
        XCTAssertEqual(send("writeq 0xffffffffffffffff 1"), ["OK"])
        XCTAssertEqual(send("read 0xffffffffffffffff 2"), ["OK 0xffff"])
    }

    /// Transfers above the limit are refused, not allocated.
    func testHugeTransferIsRefused() {
        XCTAssertTrue(send("read 0 0x100000000")[0].hasPrefix("FAIL "))
        XCTAssertTrue(send("memset 0 0xffffffffffff 0")[0].hasPrefix("FAIL "))
    }

    func testEndiannessIsLittle() {
        XCTAssertEqual(send("endianness"), ["OK little"])
    }

    /// clock_step advances the virtual clock and replies with the new time in ns;
    /// with no argument it runs to the next timer.
    func testClockStepAndSet() {
        var fired = 0
        machine.board.clock.schedule(after: 5000) { fired += 1 }
        XCTAssertEqual(send("clock_step 1000"), ["OK 1000"])
        XCTAssertEqual(send("clock_step"), ["OK 5000"])
        XCTAssertEqual(fired, 1)
        XCTAssertEqual(send("clock_set 1000000"), ["OK 1000000"])
        XCTAssertEqual(send("clock_set 10"), ["OK 1000000"])  // time never goes back
        XCTAssertEqual(send("clock_step"), ["OK 1000000"])   // no timer: no change
    }

    /// After irq_intercept_in, a routed INTx change is reported as an
    /// "IRQ raise N" line before the reply of the command that caused it.
    func testInterceptedInterruptIsReportedBeforeReply() {
        let f = InterruptingFunction()
        machine.board.attach(f, at: PCIAddress(device: 3))
        XCTAssertEqual(send("irq_intercept_in ioapic"), ["OK"])
        // BAR0 = 0xc000, I/O space on; on the pc machine slot 3 INTA is PIRQC (register 0x62).
        send("outl 0xcf8 0x80001810"); send("outl 0xcfc 0xc000")
        send("outl 0xcf8 0x80001804"); send("outw 0xcfc 0x1")
        send("outl 0xcf8 0x80000860"); send("outb 0xcfe 11")
        XCTAssertEqual(send("outb 0xc000 1"), ["IRQ raise 11", "OK"])
        XCTAssertEqual(send("outb 0xc000 1"), ["OK"])
        XCTAssertEqual(send("outb 0xc000 0"), ["IRQ lower 11", "OK"])
    }

    /// QEMU's pc machine swizzles with slot - 1: INTA of slot 3 is PIRQC, of slot 1 PIRQA.
    func testSlotSwizzleMatchesQEMUPC() {
        XCTAssertEqual(machine.board.pirq.pirq(slot: 3, pin: 1), 2)
        XCTAssertEqual(machine.board.pirq.pirq(slot: 1, pin: 1), 0)
        XCTAssertEqual(machine.board.pirq.pirq(slot: 4, pin: 2), 0)
    }

    /// Without routing (PIRQRC 80h) the pin changes but no IRQ line moves.
    func testUnroutedInterruptIsSilent() {
        let f = InterruptingFunction()
        machine.board.attach(f, at: PCIAddress(device: 3))
        send("irq_intercept_in ioapic")
        send("outl 0xcf8 0x80001810"); send("outl 0xcfc 0xc000")
        send("outl 0xcf8 0x80001804"); send("outw 0xcfc 0x1")
        XCTAssertEqual(send("outb 0xc000 1"), ["OK"])
    }

    /// Only the interrupt controller can be intercepted; set_irq_in drives its inputs.
    func testInterceptPathsAndSetIRQIn() {
        XCTAssertEqual(send("irq_intercept_in /machine/unknown"), ["FAIL Unknown device"])
        XCTAssertEqual(send("irq_intercept_in /machine/ioapic"), ["OK"])
        XCTAssertEqual(send("set_irq_in ioapic unnamed-gpio-in 9 1"), ["IRQ raise 9", "OK"])
        XCTAssertEqual(send("set_irq_in ioapic unnamed-gpio-in 9 0"), ["IRQ lower 9", "OK"])
        XCTAssertEqual(send("set_irq_in ioapic unnamed-gpio-in 99 0"), ["FAIL no such GPIO"])
    }

    /// A malformed command is answered FAIL and the server keeps serving.
    func testMalformedCommandFailsAndServerContinues() {
        XCTAssertEqual(send("outb zz 1"), ["FAIL outb: invalid number 'zz'"])
        XCTAssertEqual(send("bogus"), ["FAIL Unknown command 'bogus'"])
        XCTAssertEqual(send("endianness"), ["OK little"])
    }
}
