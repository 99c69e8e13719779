import Board
import NICCore
import XCTest

final class InterruptRoutingTests: XCTestCase {
    /// INTA of slot 3 lands on PIRQC (PIIX3 wiring), routed to IRQ 11 by default.
    func testINTxSwizzleAndDefaultRoute() {
        let board = Board(memorySize: 1 << 20)
        let f = TestFunction()
        board.attach(f, at: PCIAddress(device: 3))
        XCTAssertEqual(board.pirq.pirq(slot: 3, pin: 1), 2)
        XCTAssertEqual(board.irq(of: PCIAddress(device: 3)), 11)
        f.config.set(asserted: true)
        XCTAssertTrue(board.interrupts.isAsserted(11))
        f.config.set(asserted: false)
        XCTAssertFalse(board.interrupts.isAsserted(11))
        XCTAssertEqual(board.interrupts.raiseCount(11), 1)
    }

    /// Rerouting a PIRQ moves an asserted level to the new IRQ; bit 7 unroutes it.
    func testReroutingMovesLevel() {
        let board = Board(memorySize: 1 << 20)
        let f = TestFunction()
        board.attach(f, at: PCIAddress(device: 3))
        f.config.set(asserted: true)
        board.pirq.setRoute(pirq: 2, value: 5)
        XCTAssertFalse(board.interrupts.isAsserted(11))
        XCTAssertTrue(board.interrupts.isAsserted(5))
        XCTAssertEqual(board.irq(of: PCIAddress(device: 3)), 5)
        board.pirq.setRoute(pirq: 2, value: 0x80)
        XCTAssertFalse(board.interrupts.isAsserted(5))
        XCTAssertNil(board.irq(of: PCIAddress(device: 3)))
    }

    /// Two functions sharing a line: it stays asserted until both release it.
    func testSharedLineIsWiredOr() {
        let board = Board(memorySize: 1 << 20)
        let a = TestFunction(), b = TestFunction()
        board.attach(a, at: PCIAddress(device: 3))
        board.attach(b, at: PCIAddress(device: 7))  // (7 - 1) mod 4 = 2, the same PIRQ as slot 3
        a.config.set(asserted: true)
        b.config.set(asserted: true)
        a.config.set(asserted: false)
        XCTAssertTrue(board.interrupts.isAsserted(11))
        b.config.set(asserted: false)
        XCTAssertFalse(board.interrupts.isAsserted(11))
    }

    func testISADeviceGetsItsIRQ() throws {
        let board = Board(memorySize: 1 << 20)
        let line = try board.attachISA(ScratchRegisters(size: 32, marker: 0), ioBase: 0x300, irq: 9, name: "ne2000")
        line.set(asserted: true)
        XCTAssertTrue(board.interrupts.isAsserted(9))
        XCTAssertThrowsError(try board.attachISA(ScratchRegisters(size: 32, marker: 0), ioBase: 0x310, irq: 9, name: "clash"))
    }
}
