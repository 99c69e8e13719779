/// Where things live in the first megabyte of the PC (IBM PC/AT BIOS
/// conventions, as every option ROM and NBP expects them).
public enum PCMemoryMap {
    /// Interrupt vector table: 256 far pointers at 0000:0000.
    public static let ivt: UInt64 = 0x0000
    /// BIOS data area at 0040:0000.
    public static let bda: UInt64 = 0x0400
    /// Extended BIOS data area, 1 KiB just below 640 KiB.
    public static let ebda: UInt64 = 0x9_FC00
    /// Conventional memory the BIOS reports (INT 12h): up to the EBDA.
    public static let conventionalKiB: UInt16 = 639
    /// Option ROMs are shadowed here, each on a 2 KiB boundary.
    public static let optionROMStart: UInt64 = 0xC_0000
    public static let optionROMEnd: UInt64 = 0xE_0000
    /// The system BIOS segment.
    public static let biosSegment: UInt16 = 0xF000
    public static let bios: UInt64 = 0xF_0000
    /// The first byte above the first megabyte.
    public static let extendedMemory: UInt64 = 0x10_0000
    /// The stack a host-initiated far call runs on (0000:7000 downwards),
    /// below the boot sector / NBP load address 0000:7C00.
    public static let hostStackTop: UInt16 = 0x7000
    /// Where an NBP or boot sector is loaded.
    public static let bootAddress: UInt64 = 0x7C00
    /// Memory-mapped I/O is forwarded to the board above this address
    /// (the PCI hole and everything above it, below the BIOS alias).
    public static let mmioStart: UInt64 = 0x8000_0000
    public static let mmioEnd: UInt64 = 0xFFFF_0000
}

/// Offsets in the BIOS data area (segment 0040h) the BIOS maintains.
enum BDA {
    /// Segment of the extended BIOS data area.
    static let ebdaSegment: UInt64 = 0x0E
    /// Equipment list word (INT 11h).
    static let equipment: UInt64 = 0x10
    /// Conventional memory in KiB (INT 12h).
    static let memorySize: UInt64 = 0x13
    /// Keyboard shift flags.
    static let keyboardFlags: UInt64 = 0x17
    /// Keyboard buffer head and tail pointers.
    static let keyboardHead: UInt64 = 0x1A
    static let keyboardTail: UInt64 = 0x1C
    /// Current video mode.
    static let videoMode: UInt64 = 0x49
    /// Screen columns.
    static let columns: UInt64 = 0x4A
    /// Cursor position of page 0 (column, row).
    static let cursor: UInt64 = 0x50
    /// Cursor shape (end, start scan line).
    static let cursorShape: UInt64 = 0x60
    /// Timer ticks since midnight (dword), incremented by INT 08h.
    static let ticks: UInt64 = 0x6C
    /// Set when the tick count passes midnight.
    static let midnight: UInt64 = 0x70
    /// Keyboard buffer start and end offsets.
    static let keyboardStart: UInt64 = 0x80
    static let keyboardEnd: UInt64 = 0x82
    /// Screen rows minus one.
    static let rows: UInt64 = 0x84
}
