import Board
import Machine
import NICCore
import XCTest

/// A 16 MiB PC that runs a few bytes of hand-assembled 16-bit code at
/// 0000:7C00 as a far call, so each test reads like "this code, these
/// registers, this result". The assembly source is in each test's comment
/// (GNU as, `.code16`, linked at 0x7C00).
enum MachineHarness {
    static let origin: UInt16 = 0x7C00

    static func machine(ramMiB: Int = 16) throws -> Machine {
        try Machine(board: Board(memorySize: ramMiB << 20))
    }

    /// Loads `code` at 0000:7C00 and far-calls it.
    @discardableResult
    static func run(_ machine: Machine, _ code: [UInt8], registers: [X86Register: UInt32] = [:],
                    timeout: UInt64 = VirtualClock.second) throws -> MachineStop {
        try machine.load(code, at: UInt64(origin))
        return try machine.call(segment: 0, offset: origin, registers: registers, timeout: timeout)
    }

    /// `INT n; RETF`: one BIOS call with the given registers.
    static func int(_ machine: Machine, _ vector: UInt8, _ registers: [X86Register: UInt32]) throws -> MachineStop {
        try run(machine, [0xCD, vector, 0xCB], registers: registers)
    }

    static func carry(_ m: Machine) -> Bool { m[.eflags] & X86Flag.carry != 0 }
    static func zero(_ m: Machine) -> Bool { m[.eflags] & X86Flag.zero != 0 }
}
