import Board
import NICCore
import XCTest

final class PIRQSwizzleTests: XCTestCase {
    /// PIIX3 wiring (the default): slot N INTA lands on PIRQ (N - 1) mod 4,
    /// so slot 1 INTA is PIRQA and slot 3 INTA is PIRQC, and the routed IRQ
    /// follows the PIRQ's routing register.
    func testDefaultSwizzleIsPIIX3Wiring() {
        let board = Board(memorySize: 1 << 20)
        board.attach(TestFunction(), at: PCIAddress(device: 3))
        XCTAssertEqual(board.pirq.pirq(slot: 1, pin: 1), 0)
        XCTAssertEqual(board.pirq.pirq(slot: 3, pin: 1), 2)
        XCTAssertEqual(board.pirq.pirq(slot: 3, pin: 2), 3)
        board.pirq.setRoute(pirq: 2, value: 5)
        XCTAssertEqual(board.irq(of: PCIAddress(device: 3)), 5)
    }

    /// A board wired differently sets its own offset; offset 0 is the bare
    /// (slot + pin - 1) mod 4 swizzle.
    func testSlotOffsetZeroIsTheBareSwizzle() {
        let board = Board(memorySize: 1 << 20)
        board.pirq.slotOffset = 0
        for slot in 0..<32 {
            for pin: UInt8 in 1...4 { XCTAssertEqual(board.pirq.pirq(slot: slot, pin: pin), PIRQRouter.pirq(slot: slot, pin: pin)) }
        }
    }
}
