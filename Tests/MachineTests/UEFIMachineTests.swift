import Board
import Machine
import NICCore
import Foundation
import XCTest

/// The UEFI machine with no network: long mode, the system table, the
/// trap stubs with the Microsoft x64 convention, the console.
final class UEFIMachineTests: XCTestCase {
    func machine() throws -> UEFIMachine {
        try UEFIMachine(board: Board(memorySize: 32 << 20))
    }

    /// A hand-assembled application prints through ConOut->OutputString
    /// (UCS-2 in, UTF-8 out) and returns its status from the entry point.
    func testApplicationPrintsThroughConOutAndReturnsItsStatus() throws {
        let m = try machine()
        let h = try m.loadImage(UEFITestImage.hello("Hello, UEFI \u{00E9}\r\n", status: 0x2A).bytes)
        try m.start(image: h)
        XCTAssertEqual(try m.run(timeout: VirtualClock.second), .returned)
        XCTAssertEqual(m.console, "Hello, UEFI \u{00E9}\r\n")
        XCTAssertEqual(m.lastExitStatus, 0x2A)
    }

    /// Two runs of the same image give the same console and instruction count.
    func testRunsAreDeterministic() throws {
        var results: [(String, UInt64, UInt64)] = []
        for _ in 0..<2 {
            let m = try machine()
            try m.start(image: try m.loadImage(UEFITestImage.hello("same").bytes))
            try m.run(timeout: VirtualClock.second)
            results.append((m.console, m.instructionsExecuted, m.board.clock.now))
        }
        XCTAssertEqual(results[0].0, results[1].0)
        XCTAssertEqual(results[0].1, results[1].1)
        XCTAssertEqual(results[0].2, results[1].2)
    }

    /// The system table a guest receives has the UEFI signatures and
    /// points at boot and runtime services tables.
    func testSystemTableHasSignaturesAndServiceTables() throws {
        let m = try machine()
        let memory = m.board.memory
        let st = m.systemTable
        XCTAssertEqual(try memory.readU64(st), 0x5453_5953_2049_4249)  // "IBI SYST"
        let bs = try memory.readU64(st + 96), rt = try memory.readU64(st + 88)
        XCTAssertEqual(try memory.readU64(bs), 0x5652_4553_544F_4F42)  // "BOOTSERV"
        XCTAssertEqual(try memory.readU64(rt), 0x5652_4553_544E_5552)  // "RUNTSERV"
        XCTAssertEqual(try memory.readU32(bs + 12), 24 + 44 * 8)
    }

    /// A jump to nowhere, an invalid image and a guest that faults end in
    /// typed errors, never in a trap of the host.
    func testGuestFaultsAreErrors() throws {
        let m = try machine()
        XCTAssertThrowsError(try m.loadImage([0x4D, 0x5A, 0, 0]))
        var ud2 = UEFITestImage(code: [0x0F, 0x0B])  // UD2
        ud2.dir64 = []
        try m.start(image: try m.loadImage(ud2.bytes))
        XCTAssertThrowsError(try m.run(timeout: VirtualClock.second)) { error in
            guard case .guestFault = error as? MachineError else { return XCTFail("\(error)") }
        }
    }

    /// A guest that loops forever ends at the virtual-time budget.
    func testEndlessLoopEndsAtTheTimeout() throws {
        let m = try machine()
        try m.start(image: try m.loadImage(UEFITestImage(code: [0xEB, 0xFE]).bytes))  // jmp $
        XCTAssertEqual(try m.run(timeout: 10 * VirtualClock.millisecond), .timeout)
    }

    /// The uefi-image fuzz seeds (fixtures/fuzz/uefi-image) as
    /// applications: ConOut output, Exit from inside the entry point
    /// unwinding to the host with its status, and a call of every boot
    /// service with pointers into the image ending without a host trap.
    func testFuzzSeedApplicationsBehave() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/fuzz/uefi-image")
        func run(_ name: String) throws -> (UEFIMachine, MachineStop?) {
            let m = try machine()
            let bytes = try [UInt8](Data(contentsOf: root.appendingPathComponent(name)))
            try m.start(image: try m.loadImage(bytes))
            return (m, try? m.run(timeout: 2 * VirtualClock.millisecond))
        }
        let (hello, helloStop) = try run("hello-conout")
        XCTAssertEqual(helloStop, .returned)
        XCTAssertEqual(hello.console, "nicsim\r\n")
        let (exit, exitStop) = try run("exit-from-image")
        XCTAssertEqual(exitStop, .returned)
        XCTAssertEqual(exit.lastExitStatus, 5)
        let (sweep, _) = try run("boot-services-sweep")
        XCTAssertGreaterThan(sweep.instructionsExecuted, 0)
    }

    /// CPUID leaf 1 reports a time stamp counter (EDX bit 4) and long
    /// mode-capable features loaders check for (GRUB refuses to run
    /// without a TSC).
    func testCPUIDReportsATimeStampCounter() throws {
        let m = try machine()
        // mov eax, 1; cpuid; mov eax, edx; ret
        let code: [UInt8] = [0xB8, 1, 0, 0, 0, 0x53, 0x0F, 0xA2, 0x89, 0xD0, 0x5B, 0xC3]
        try m.start(image: try m.loadImage(UEFITestImage(code: code).bytes))
        XCTAssertEqual(try m.run(timeout: VirtualClock.second), .returned)
        let edx = try XCTUnwrap(m.lastExitStatus)
        XCTAssertNotEqual(edx & 0x10, 0, "EDX=0x\(String(edx, radix: 16))")
    }
}
