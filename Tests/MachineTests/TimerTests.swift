import Board
import Machine
import NICCore
import XCTest

/// The 18.2 Hz tick: PIT channel 0 -> IRQ 0 -> INT 08h -> BDA tick count
/// and INT 1Ch, all on virtual time.
final class TimerTests: XCTestCase {
    typealias H = MachineHarness

    /// One tick is 65536 / 1193182 s = 54.9254 ms (65536 * 10^9 / 1193182 ns, rounded down).
    static let tick: UInt64 = 54_925_401

    /// HLT waits for the next tick: five ticks take five tick periods.
    ///
    ///     sti; 1: hlt; cmpw $5, 0x46C; jb 1b; lret
    func testHLTAdvancesVirtualTimeToTheTick() throws {
        let m = try H.machine()
        XCTAssertEqual(try H.run(m, [0xFB, 0xF4, 0x83, 0x3E, 0x6C, 0x04, 0x05, 0x72, 0xF8, 0xCB]), .returned)
        XCTAssertEqual(try m.board.memory.readU32(0x46C), 5)
        XCTAssertGreaterThanOrEqual(m.board.clock.now, 5 * Self.tick)
        XCTAssertLessThan(m.board.clock.now, 6 * Self.tick)
        // Waiting in HLT costs no instructions.
        XCTAssertLessThan(m.instructionsExecuted, 200)
    }

    /// A busy loop with interrupts enabled also sees ticks: interrupts are
    /// taken at instruction-slice boundaries in real mode.
    ///
    ///     sti; 1: cmpw $2, 0x46C; jb 1b; lret
    func testBusyLoopSeesTicks() throws {
        let m = try H.machine()
        XCTAssertEqual(try H.run(m, [0xFB, 0x83, 0x3E, 0x6C, 0x04, 0x02, 0x72, 0xF9, 0xCB]), .returned)
        XCTAssertEqual(try m.board.memory.readU32(0x46C), 2)
        XCTAssertGreaterThanOrEqual(m.board.clock.now, 2 * Self.tick)
    }

    /// A guest's INT 1Ch hook runs once per tick, through the guest's IVT.
    ///
    ///     movw $handler, 0x70; movw $0, 0x72; sti
    ///     1: hlt; cmpw $3, 0x46C; jb 1b; cli; lret
    ///     handler: incw %cs:0x700; iret
    func testGuestInt1CHookRunsEveryTick() throws {
        let m = try H.machine()
        try H.run(m, [
            0xC7, 0x06, 0x70, 0x00, 0x17, 0x7C, 0xC7, 0x06, 0x72, 0x00, 0x00, 0x00, 0xFB, 0xF4, 0x83, 0x3E,
            0x6C, 0x04, 0x03, 0x72, 0xF8, 0xFA, 0xCB, 0x2E, 0xFF, 0x06, 0x00, 0x07, 0xCF,
        ])
        XCTAssertEqual(try m.board.memory.readU16(0x700), 3)
    }

    /// With interrupts disabled no tick is taken, however long the loop.
    ///
    ///     cli; 1: cmpw $1, 0x46C; jb 1b   (never true)
    func testNoTicksWithInterruptsDisabled() throws {
        let m = try H.machine()
        XCTAssertEqual(try H.run(m, [0xFA, 0x83, 0x3E, 0x6C, 0x04, 0x01, 0x72, 0xF9, 0xCB],
                                 timeout: 200 * VirtualClock.millisecond), .timeout)
        XCTAssertEqual(try m.board.memory.readU32(0x46C), 0)
    }

    /// PIT channel 2 in mode 0 gated by port 61h: OUT2 (bit 5) goes high
    /// after the loaded count, as firmware udelay loops poll it.
    ///
    ///     in al,61h; and al,0FCh; or al,1; out 61h,al     (gate on, speaker off)
    ///     mov al,0B0h; out 43h,al                         (ch 2, lo/hi, mode 0)
    ///     mov al,0A9h; out 42h,al; mov al,04h; out 42h,al (1193 counts = 1 ms)
    ///     1: in al,61h; test al,20h; jz 1b; lret
    func testPITChannel2CountsDownInVirtualTime() throws {
        let m = try H.machine()
        let before = m.board.clock.now
        let code: [UInt8] = [0xE4, 0x61, 0x24, 0xFC, 0x0C, 0x01, 0xE6, 0x61, 0xB0, 0xB0, 0xE6, 0x43,
                             0xB0, 0xA9, 0xE6, 0x42, 0xB0, 0x04, 0xE6, 0x42,
                             0xE4, 0x61, 0xA8, 0x20, 0x74, 0xFA, 0xCB]
        XCTAssertEqual(try H.run(m, code), .returned)
        let elapsed = m.board.clock.now - before
        XCTAssertGreaterThanOrEqual(elapsed, VirtualClock.millisecond - 20 * VirtualClock.microsecond)
        XCTAssertLessThan(elapsed, 2 * VirtualClock.millisecond)
    }

    /// Two machines running the same code end at the same virtual instant
    /// with the same instruction count: runs are deterministic.
    func testRunsAreDeterministic() throws {
        let code: [UInt8] = [0xFB, 0x83, 0x3E, 0x6C, 0x04, 0x02, 0x72, 0xF9, 0xCB]
        let a = try H.machine(), b = try H.machine()
        try H.run(a, code)
        try H.run(b, code)
        XCTAssertEqual(a.board.clock.now, b.board.clock.now)
        XCTAssertEqual(a.instructionsExecuted, b.instructionsExecuted)
    }
}
