/// Why the machine could not be built or could not go on running. The
/// guest's own mistakes (a jump into unmapped memory, an invalid opcode)
/// end up here as values, never as traps.
public enum MachineError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Unicorn refused to create or set up the CPU.
    case engine(String)
    /// The board's port space already had one of the PC's fixed ports mapped.
    case board(String)
    /// An option ROM image cannot be shadowed or run.
    case optionROM(String)
    /// The guest faulted in a way a PC would reset or hang on.
    case guestFault(String, linearPC: UInt64)

    public var description: String {
        switch self {
        case .engine(let s): "x86 engine: \(s)"
        case .board(let s): "board: \(s)"
        case .optionROM(let s): "option ROM: \(s)"
        case .guestFault(let s, let pc): "guest fault at 0x\(String(pc, radix: 16)): \(s)"
        }
    }
}

/// Why `Machine.run` returned.
public enum MachineStop: Equatable, Sendable {
    /// A host-initiated far call returned (RETF to the return trap).
    case returned
    /// The caller's condition became true.
    case condition
    /// The virtual-time budget ran out.
    case timeout
    /// HLT with interrupts disabled and no timer that could wake it.
    case halted
    /// INT 18h: the boot device failed, try the next one.
    case bootFailed
    /// INT 19h: the guest asked to be bootstrapped again.
    case bootstrap
}
