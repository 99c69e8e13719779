import Board
import Machine
import NICCore
import XCTest

/// The CPU around the board: far calls from the host, real and protected
/// mode, faults and runaway code ending cleanly.
final class CPUTests: XCTestCase {
    typealias H = MachineHarness

    /// `mov ax, 1234h; retf`: a far call returns to the host at RETF.
    func testFarCallReturnsAtRETF() throws {
        let m = try H.machine()
        XCTAssertEqual(try H.run(m, [0xB8, 0x34, 0x12, 0xCB]), .returned)
        XCTAssertEqual(m[.eax] & 0xFFFF, 0x1234)
    }

    /// Real mode -> 32-bit protected mode (flat GDT) -> a store above 1 MiB
    /// -> 16-bit protected mode -> real mode -> RETF, as iPXE's librm does.
    ///
    ///     cli; lgdt gdtr; mov cr0,eax|1; ljmp 08h:pm32
    ///     pm32: mov ds,10h; movl $0xCAFEBABE, 0x200000; ljmp 18h:pm16
    ///     pm16: mov ds,20h; cr0 &= ~1; ljmp 0:rm
    ///     rm: xor ax,ax; mov ds,ax; mov bx,5A5Ah; lret
    func testProtectedModeRoundTrip() throws {
        let m = try H.machine()
        let code: [UInt8] = [
            0xFA, 0x0F, 0x01, 0x16, 0x70, 0x7C, 0x0F, 0x20, 0xC0, 0x0C, 0x01, 0x0F, 0x22, 0xC0, 0xEA, 0x13,
            0x7C, 0x08, 0x00, 0x66, 0xB8, 0x10, 0x00, 0x8E, 0xD8, 0xC7, 0x05, 0x00, 0x00, 0x20, 0x00, 0xBE,
            0xBA, 0xFE, 0xCA, 0xEA, 0x2A, 0x7C, 0x00, 0x00, 0x18, 0x00, 0xB8, 0x20, 0x00, 0x8E, 0xD8, 0x0F,
            0x20, 0xC0, 0x24, 0xFE, 0x0F, 0x22, 0xC0, 0xEA, 0x3C, 0x7C, 0x00, 0x00, 0x31, 0xC0, 0x8E, 0xD8,
            0xBB, 0x5A, 0x5A, 0xCB, 0x8D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0xFF, 0xFF, 0x00, 0x00, 0x00, 0x9A, 0xCF, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x92, 0xCF, 0x00,
            0xFF, 0xFF, 0x00, 0x00, 0x00, 0x9A, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x92, 0x00, 0x00,
            0x27, 0x00, 0x48, 0x7C, 0x00, 0x00,
        ]
        XCTAssertEqual(try H.run(m, code), .returned)
        XCTAssertEqual(try m.board.memory.readU32(0x20_0000), 0xCAFE_BABE)
        XCTAssertEqual(m[.ebx] & 0xFFFF, 0x5A5A)
    }

    /// IN/OUT reach the board's I/O bus: CONFIG_ADDRESS at 0CF8h reads back.
    ///
    ///     mov dx,0CF8h; mov eax,80000000h; out dx,eax; in eax,dx; lret
    func testPortIOReachesTheBoard() throws {
        let m = try H.machine()
        let code: [UInt8] = [0xBA, 0xF8, 0x0C, 0x66, 0xB8, 0x00, 0x00, 0x00, 0x80, 0x66, 0xEF,
                             0x66, 0x31, 0xC0, 0x66, 0xED, 0xCB]
        XCTAssertEqual(try H.run(m, code), .returned)
        XCTAssertEqual(m[.eax], 0x8000_0000)
        XCTAssertEqual(m.board.pci.configAddress, 0x8000_0000)
    }

    /// UD2 with only the BIOS's default #UD handler is a guest fault
    /// reported to the host, not a trap and not an endless loop.
    func testInvalidOpcodeIsAGuestFault() throws {
        let m = try H.machine()
        XCTAssertThrowsError(try H.run(m, [0x0F, 0x0B])) { error in
            guard case MachineError.guestFault(let s, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(s.contains("invalid opcode"), s)
        }
    }

    /// `jmp far di` and `call far di` (FF /5 and FF /3 with a register
    /// operand) are invalid on a CPU; Unicorn 2.0's translator aborts on
    /// them. The guest's code ends the run as a guest fault, the process
    /// lives on, and so do other machines. (Found by the `machine` fuzz
    /// target: fixtures/fuzz/machine/regressions/far-jump-through-register.)
    func testFarJumpOrCallThroughARegisterIsAGuestFaultNotAnAbort() throws {
        for code: [UInt8] in [[0xFF, 0xEF], [0xFF, 0xDF]] {
            let m = try H.machine()
            XCTAssertThrowsError(try H.run(m, code)) { error in
                guard case MachineError.guestFault(let s, _) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(s.contains("could not translate"), s)
            }
            XCTAssertThrowsError(try H.run(m, [0xFA, 0xF4]), "an engine that aborted does not run again")
        }
        XCTAssertEqual(try H.run(try H.machine(), [0xFA, 0xF4]), .halted)
    }

    /// `jmp $` never ends by itself; the virtual-time budget ends it.
    func testRunawayLoopEndsAtTheTimeout() throws {
        let m = try H.machine()
        XCTAssertEqual(try H.run(m, [0xEB, 0xFE], timeout: 5 * VirtualClock.millisecond), .timeout)
        XCTAssertGreaterThanOrEqual(m.board.clock.now, 5 * VirtualClock.millisecond)
    }

    /// CLI; HLT: nothing can wake the CPU, so the machine reports halted.
    func testHLTWithInterruptsDisabledHalts() throws {
        let m = try H.machine()
        XCTAssertEqual(try H.run(m, [0xFA, 0xF4]), .halted)
    }

    /// Every instruction costs virtual time: 10 ns each by default.
    func testInstructionsAdvanceVirtualTime() throws {
        let m = try H.machine()
        let before = m.board.clock.now
        XCTAssertEqual(try H.run(m, [0xEB, 0xFE], timeout: VirtualClock.millisecond), .timeout)
        XCTAssertGreaterThanOrEqual(m.instructionsExecuted, 90_000)
        XCTAssertGreaterThanOrEqual(m.board.clock.now - before, VirtualClock.millisecond)
    }

    /// A RAM size the CPU cannot map is refused with a clear error.
    func testTinyRAMIsRefused() {
        XCTAssertThrowsError(try Machine(board: Board(memorySize: 1 << 20)))
    }
}
