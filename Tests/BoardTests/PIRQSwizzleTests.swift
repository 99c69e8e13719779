import Board
import NICCore
import XCTest

final class PIRQSwizzleTests: XCTestCase {
    /// A board wired like QEMU's pc machine (slot offset 3, i.e. slot - 1)
    /// puts slot 3 INTA on PIRQC, and the routed IRQ follows it.
    func testSlotOffsetMovesTheSwizzle() {
        let board = Board(memorySize: 1 << 20)
        board.pirq.slotOffset = 3
        board.attach(TestFunction(), at: PCIAddress(device: 3))
        XCTAssertEqual(board.pirq.pirq(slot: 3, pin: 1), 2)
        board.pirq.setRoute(pirq: 2, value: 5)
        XCTAssertEqual(board.irq(of: PCIAddress(device: 3)), 5)
    }

    /// With the default offset the instance swizzle is the static one.
    func testDefaultOffsetKeepsStaticSwizzle() {
        let board = Board(memorySize: 1 << 20)
        for slot in 0..<32 {
            for pin: UInt8 in 1...4 { XCTAssertEqual(board.pirq.pirq(slot: slot, pin: pin), PIRQRouter.pirq(slot: slot, pin: pin)) }
        }
    }
}
