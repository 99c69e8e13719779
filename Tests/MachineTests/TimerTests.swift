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

    /// With an outside source on the board (a live peer, the real-time
    /// pacer), HLT moves time in steps of at most 1 ms so the source is
    /// polled (and can pace virtual time to real time) while the guest
    /// sleeps, instead of leaping a whole 54.9 ms tick at once. The tick
    /// itself still comes on time.
    ///
    ///     sti; 1: hlt; cmpw $2, 0x46C; jb 1b; lret
    func testHLTMovesTimeInBoundedStepsWhenTheBoardHasOutsideSources() throws {
        let m = try H.machine()
        let source = PollRecorder(clock: m.board.clock)
        m.board.add(source: source)
        XCTAssertEqual(try H.run(m, [0xFB, 0xF4, 0x83, 0x3E, 0x6C, 0x04, 0x02, 0x72, 0xF8, 0xCB]), .returned)
        XCTAssertEqual(try m.board.memory.readU32(0x46C), 2)
        XCTAssertGreaterThanOrEqual(m.board.clock.now, 2 * Self.tick)
        XCTAssertLessThan(m.board.clock.now, 3 * Self.tick)
        XCTAssertGreaterThan(source.polls, 100, "about one poll per virtual millisecond over two ticks")
        XCTAssertLessThanOrEqual(source.longestGap, VirtualClock.millisecond)
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

    /// In 32-bit protected mode, IRQ 0 is delivered through the guest's IDT
    /// (a 32-bit interrupt gate), both between instructions of a busy loop
    /// with IF set and at HLT, as iPXE's librm expects.
    ///
    ///     real -> 32-bit PM (flat GDT), lidt idt (gate 8 -> handler), sti
    ///     1: cmpl $2,0x700; jb 1b; hlt; cmpl $3,0x700; jb 1b
    ///     cli -> 16-bit PM -> real mode, sp = 6FFCh (the host call frame), lidt 0:3FFh, lret
    ///     handler: incl 0x700; outb 20h -> port 20h (EOI); iret
    func testProtectedModeInterruptsGoThroughTheIDT() throws {
        let m = try H.machine()
        let code: [UInt8] = [
            0xFA, 0x0F, 0x01, 0x16, 0xA0, 0x7C, 0x0F, 0x20, 0xC0, 0x0C, 0x01, 0x0F, 0x22, 0xC0, 0xEA, 0x13,
            0x7C, 0x08, 0x00, 0x66, 0xB8, 0x10, 0x00, 0x8E, 0xD8, 0x8E, 0xD0, 0xBC, 0x00, 0x60, 0x00, 0x00,
            0x0F, 0x01, 0x1D, 0xEE, 0x7C, 0x00, 0x00, 0xFB, 0x83, 0x3D, 0x00, 0x07, 0x00, 0x00, 0x02, 0x72,
            0xF7, 0xF4, 0x83, 0x3D, 0x00, 0x07, 0x00, 0x00, 0x03, 0x72, 0xED, 0xFA, 0xEA, 0x43, 0x7C, 0x00,
            0x00, 0x18, 0x00, 0xB8, 0x20, 0x00, 0x8E, 0xD8, 0x8E, 0xD0, 0x0F, 0x20, 0xC0, 0x24, 0xFE, 0x0F,
            0x22, 0xC0, 0xEA, 0x57, 0x7C, 0x00, 0x00, 0x31, 0xC0, 0x8E, 0xD8, 0x8E, 0xD0, 0xBC, 0xFC, 0x6F,
            0x0F, 0x01, 0x1E, 0xF4, 0x7C, 0xCB, 0xFF, 0x05, 0x00, 0x07, 0x00, 0x00, 0x50, 0xB0, 0x20, 0xE6,
            0x20, 0x58, 0xCF, 0x8D, 0x74, 0x26, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0xFF, 0xFF, 0x00, 0x00, 0x00, 0x9A, 0xCF, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x92, 0xCF, 0x00,
            0xFF, 0xFF, 0x00, 0x00, 0x00, 0x9A, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x92, 0x00, 0x00,
            0x27, 0x00, 0x78, 0x7C, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x66, 0x7C, 0x08, 0x00, 0x00, 0x8E, 0x00, 0x00, 0x47, 0x00,
            0xA6, 0x7C, 0x00, 0x00, 0xFF, 0x03, 0x00, 0x00, 0x00, 0x00,
        ]
        XCTAssertEqual(try H.run(m, code), .returned)
        XCTAssertEqual(try m.board.memory.readU32(0x700), 3)
        XCTAssertGreaterThanOrEqual(m.board.clock.now, 3 * Self.tick)
        // The guest's own handler took the ticks, not the BIOS's INT 08h.
        XCTAssertEqual(try m.board.memory.readU32(0x46C), 0)
    }

    /// RDTSC reads a time stamp counter on virtual time (1 GHz: one count
    /// per virtual nanosecond), not the host's counter: two RDTSCs three
    /// instructions apart differ by exactly 3 x 10 ns, and the first one
    /// lies between the clock before and after the call.
    ///
    ///     rdtsc; mov ebx, eax; mov ecx, edx; rdtsc; lret
    func testRDTSCCountsVirtualNanoseconds() throws {
        let m = try H.machine()
        m.board.advance(by: 7 * Self.tick)
        let before = m.board.clock.now
        XCTAssertEqual(try H.run(m, [0x0F, 0x31, 0x66, 0x89, 0xC3, 0x66, 0x89, 0xD1, 0x0F, 0x31, 0xCB]), .returned)
        let first = UInt64(m[.ecx]) << 32 | UInt64(m[.ebx])
        let second = UInt64(m[.edx]) << 32 | UInt64(m[.eax])
        XCTAssertGreaterThanOrEqual(first, before)
        XCTAssertLessThanOrEqual(first, m.board.clock.now + 1_000 * m.nanosecondsPerInstruction)
        XCTAssertEqual(second - first, 3 * m.nanosecondsPerInstruction)
    }

    /// The same code on two machines reads the same RDTSC values: runs
    /// that time themselves with the TSC stay deterministic.
    func testRDTSCIsDeterministic() throws {
        func once() throws -> UInt64 {
            let m = try H.machine()
            XCTAssertEqual(try H.run(m, [0x0F, 0x31, 0xCB]), .returned)
            return UInt64(m[.edx]) << 32 | UInt64(m[.eax])
        }
        XCTAssertEqual(try once(), try once())
    }
}

/// An outside event source that records how far virtual time moved
/// between two polls.
private final class PollRecorder: EventSource {
    let clock: VirtualClock
    private(set) var polls = 0
    private(set) var longestGap: UInt64 = 0
    private var last: UInt64

    init(clock: VirtualClock) {
        self.clock = clock
        last = clock.now
    }

    func poll() -> Bool {
        polls += 1
        longestGap = max(longestGap, clock.now - last)
        last = clock.now
        return false
    }
}
