import Board
import Machine
import NICCore
import XCTest

/// Guest writes to the PIC and the BIOS data area that a real PC takes in
/// its stride must not trap in the host: every value the guest controls is
/// range-checked or wrapped.
final class GuestHardeningTests: XCTestCase {
    typealias H = MachineHarness

    /// 8259A ICW2 takes any vector base with bits 2:0 clear, F8h included
    /// (vectors F8h-FFh). The BIOS's default handler still finds IRQ 0
    /// behind vector F8h and sends its EOI, so the next tick comes.
    ///
    ///     mov al,11h; out 20h,al          ; ICW1: edge, cascade, ICW4
    ///     mov al,0F8h; out 21h,al         ; ICW2: vectors F8h-FFh
    ///     mov al,04h; out 21h,al          ; ICW3: slave on IRQ 2
    ///     mov al,01h; out 21h,al          ; ICW4: 8086 mode
    ///     sti; hlt; hlt; hlt              ; three ticks through vector F8h
    ///     int 0F8h                        ; and a software INT F8h
    ///     lret
    func testVectorBaseF8StillAcknowledgesIRQ0() throws {
        let m = try H.machine()
        let code: [UInt8] = [
            0xB0, 0x11, 0xE6, 0x20, 0xB0, 0xF8, 0xE6, 0x21, 0xB0, 0x04, 0xE6, 0x21, 0xB0, 0x01, 0xE6, 0x21,
            0xFB, 0xF4, 0xF4, 0xF4, 0xCD, 0xF8, 0xCB,
        ]
        XCTAssertEqual(try H.run(m, code, timeout: VirtualClock.second), .returned)
        // Three ticks of 54.9 ms were waited for: each was acknowledged.
        XCTAssertGreaterThanOrEqual(m.board.clock.now, 3 * TimerTests.tick)
    }

    /// The cursor lives in the BDA at 40:50 (row in the high byte), where
    /// the guest may write anything. Teletype output with row and column
    /// FFh prints at the last cell of the 80x25 screen and wraps there,
    /// as a BIOS that keeps the cursor on the screen does.
    func testTeletypeWithCursorOffScreenStaysOnScreen() throws {
        let m = try H.machine()
        try m.board.memory.writeU16(0x450, 0xFFFF)
        _ = try H.int(m, 0x10, [.eax: 0x0E41])
        XCTAssertEqual(m.bios.console, "A")
        _ = try H.int(m, 0x10, [.eax: 0x0300, .ebx: 0])
        XCTAssertEqual(m[.edx] & 0xFFFF, 0x1800, "wrapped from row 24 column 79 to row 24 column 0")
    }

    /// nicsim's own messages go through the same teletype: a guest that
    /// left the cursor at FFh/FFh does not stop them.
    func testHostMessagesWithCursorOffScreen() throws {
        let m = try H.machine()
        try m.board.memory.writeU16(0x450, 0xFFFF)
        m.bios.print("PXE-E51\r\n")
        XCTAssertEqual(m.bios.console, "PXE-E51\n")
    }
}
