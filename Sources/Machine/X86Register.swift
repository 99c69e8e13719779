import CUnicorn

/// The x86 registers the machine and its BIOS read and write.
public enum X86Register: Sendable, CaseIterable {
    case eax, ebx, ecx, edx, esi, edi, ebp, esp, eip, eflags
    case cs, ds, es, fs, gs, ss
    case cr0

    var unicorn: Int32 {
        let r: uc_x86_reg = switch self {
        case .eax: UC_X86_REG_EAX
        case .ebx: UC_X86_REG_EBX
        case .ecx: UC_X86_REG_ECX
        case .edx: UC_X86_REG_EDX
        case .esi: UC_X86_REG_ESI
        case .edi: UC_X86_REG_EDI
        case .ebp: UC_X86_REG_EBP
        case .esp: UC_X86_REG_ESP
        case .eip: UC_X86_REG_EIP
        case .eflags: UC_X86_REG_EFLAGS
        case .cs: UC_X86_REG_CS
        case .ds: UC_X86_REG_DS
        case .es: UC_X86_REG_ES
        case .fs: UC_X86_REG_FS
        case .gs: UC_X86_REG_GS
        case .ss: UC_X86_REG_SS
        case .cr0: UC_X86_REG_CR0
        }
        return Int32(bitPattern: r.rawValue)
    }

    /// Segment registers are 16 bits wide; the engine reads and writes two bytes.
    var isSegment: Bool {
        switch self {
        case .cs, .ds, .es, .fs, .gs, .ss: true
        default: false
        }
    }
}

/// EFLAGS bits the BIOS and the interrupt logic touch.
public enum X86Flag {
    /// CF: the BIOS's error indicator.
    public static let carry: UInt32 = 1 << 0
    /// ZF: INT 16h "no key".
    public static let zero: UInt32 = 1 << 6
    /// TF: single step, cleared on interrupt entry.
    public static let trap: UInt32 = 1 << 8
    /// IF: maskable interrupts enabled.
    public static let interrupt: UInt32 = 1 << 9
    /// AC: alignment check, cleared on interrupt entry.
    public static let alignment: UInt32 = 1 << 18
}
