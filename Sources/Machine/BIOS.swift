/// The system BIOS of the machine: the IVT and BIOS data area a PC/AT
/// BIOS sets up, and services written in Swift.
///
/// Every vector starts out pointing at a trap in the F000 segment. A trap
/// is an ordinary instruction (IRET, RETF, NOP, HLT) at an address the CPU
/// reports to the host before executing it; the host does the service on
/// the guest's registers and memory, and the instruction then returns to
/// the caller. So a guest that hooks a vector and chains to the old
/// handler (a far jump or PUSHF + far call to F000:xxxx) gets the BIOS
/// service exactly as on a real PC, and nothing is ever resumed in the
/// middle of guest code.
public final class BIOS {
    /// Trap and structure offsets in segment F000h.
    enum Stub {
        /// IRET per vector: F000:E000 + vector.
        static let vectors: UInt16 = 0xE000
        /// INT 08h: NOP (tick), INT 1Ch, IRET.
        static let timer: UInt16 = 0xE100
        /// INT 16h: HLT-wait for a key for AH=00h/10h, else NOP (service), IRET.
        static let keyboard: UInt16 = 0xE110
        /// The INT 16h service trap inside that stub.
        static let keyboardTrap: UInt16 = 0xE11A
        /// HLT: the return address of a host-initiated far call.
        static let hostReturn: UInt16 = 0xE200
        /// RETF: the PMM entry point.
        static let pmmEntry: UInt16 = 0xE210
        /// The $PMM structure (16-byte aligned).
        static let pmmStructure: UInt16 = 0xE220
        /// The $PnP installation check structure (16-byte aligned).
        static let pnpStructure: UInt16 = 0xE240
        /// Entered once in the engine's 32-bit flat power-on state: loads a
        /// GDT with 16-bit segments, drops to 16-bit protected mode, clears
        /// CR0.PE, far-jumps to F000h and halts in real mode.
        static let reset: UInt16 = 0xE300
        /// Host calls, one per `HostCall`: a NOP the host traps, then the
        /// return (see `HostCall`).
        static let hostCalls: UInt16 = 0xE380
        static let end: UInt16 = 0xE3C0
    }

    // SAFETY: the machine owns its BIOS and calls every service; held
    // without the unowned check, which a trap would pay for on every call.
    unowned(unsafe) let machine: Machine
    /// Everything the guest printed through INT 10h (teletype and string
    /// writes), with carriage returns dropped.
    @exclusivity(unchecked)
    public internal(set) var console = ""
    /// Called with each byte the guest prints, as it prints it.
    @exclusivity(unchecked)
    public var onConsole: ((UInt8) -> Void)?
    /// At most this many characters are kept in `console` (a guest that
    /// prints forever must not grow the host without bound); later output
    /// still reaches `onConsole`.
    @exclusivity(unchecked)
    public var consoleLimit = 1 << 20
    /// Characters printed after `console` reached `consoleLimit`.
    @exclusivity(unchecked)
    public internal(set) var consoleDropped = 0
    /// Characters in `console` (String.count is not O(1)).
    @exclusivity(unchecked)
    var consoleLength = 0
    @exclusivity(unchecked)
    var pmm = PMMArena()
    /// A character written at the cursor with INT 10h AH=09h/0Ah, not yet
    /// captured (see `BIOS+Video.swift`).
    @exclusivity(unchecked)
    var heldCharacter: (character: UInt8, position: (row: UInt8, column: UInt8))?
    /// The console's current line has text (a cursor move to another row ends it).
    @exclusivity(unchecked)
    var lineHasText = false
    /// Firmware written in Swift that the guest reaches through host calls
    /// (the software PXE ROM). Held weakly: the firmware owns the machine.
    public weak var firmware: HostFirmware?

    init(machine: Machine) {
        self.machine = machine
    }

    static func address(_ offset: UInt16) -> UInt64 { PCMemoryMap.bios + UInt64(offset) }

    // MARK: Power-on set-up

    func install() {
        let m = machine
        for v in 0..<256 {
            let handler: UInt16 = switch v {
            case 0x08: Stub.timer
            case 0x16: Stub.keyboard
            default: Stub.vectors + UInt16(v)
            }
            m.write16(PCMemoryMap.ivt + UInt64(v) * 4, handler)
            m.write16(PCMemoryMap.ivt + UInt64(v) * 4 + 2, PCMemoryMap.biosSegment)
            m.write8(Self.address(Stub.vectors + UInt16(v)), 0xCF)  // IRET
        }
        // INT 08h: the tick trap, then the user timer hook through the IVT.
        write(Stub.timer, [0x90, 0xCD, 0x1C, 0xCF])  // NOP; INT 1Ch; IRET
        // INT 16h: AH=00h/10h wait (STI; HLT) for a key that never comes;
        // every other function reaches the service trap. The wait is
        // chosen on the caller's AH, before the service changes it.
        write(Stub.keyboard, [
            0x80, 0xFC, 0x00,  // CMP AH, 00h
            0x74, 0x07,        // JE wait
            0x80, 0xFC, 0x10,  // CMP AH, 10h
            0x74, 0x02,        // JE wait
            0x90,              // NOP (trap: keyboardService)
            0xCF,              // IRET
            0xFB,              // wait: STI
            0xF4,              // HLT
            0xEB, 0xFC,        // JMP wait
        ])
        write(Stub.hostReturn, [0xF4])  // HLT
        // The reset stub (GNU as source in the commit that added it):
        //   .code32: lgdt gdtr; mov $0x10,%ax; mov %ax,%ds..%ss; ljmp $0x08,$pm16
        //   .code16 pm16: and $0x7FFFFFFE,%cr0; ljmp $0xF000,$rm
        //   rm: xor %ax,%ax; mov %ax,%ds..%ss; hlt
        //   gdt: null; 08: 16-bit code base F0000h; 10: 16-bit data base 0
        write(Stub.reset, [
            0x0F, 0x01, 0x15, 0x58, 0xE3, 0x0F, 0x00, 0x66, 0xB8, 0x10, 0x00, 0x8E, 0xD8, 0x8E, 0xC0, 0x8E,
            0xE0, 0x8E, 0xE8, 0x8E, 0xD0, 0xEA, 0x1C, 0xE3, 0x00, 0x00, 0x08, 0x00, 0x0F, 0x20, 0xC0, 0x66,
            0x25, 0xFE, 0xFF, 0xFF, 0x7F, 0x0F, 0x22, 0xC0, 0xEA, 0x2D, 0xE3, 0x00, 0xF0, 0x31, 0xC0, 0x8E,
            0xD8, 0x8E, 0xC0, 0x8E, 0xE0, 0x8E, 0xE8, 0x8E, 0xD0, 0xF4, 0x8D, 0xB4, 0x00, 0x00, 0x66, 0x90,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x0F, 0x9A, 0x00, 0x00,
            0xFF, 0xFF, 0x00, 0x00, 0x00, 0x92, 0x00, 0x00, 0x17, 0x00, 0x40, 0xE3, 0x0F, 0x00,
        ])
        write(Stub.pmmEntry, [0xCB])  // RETF
        for call in HostCall.allCases { write(call.offset, call.stub) }
        installPMMStructure()
        installPnPStructure()
        installDataArea()
    }

    func write(_ offset: UInt16, _ bytes: [UInt8]) {
        try? machine.memory.write(at: Self.address(offset), bytes: bytes)
    }

    private func installDataArea() {
        let m = machine
        let bda = PCMemoryMap.bda
        try? m.memory.fill(at: bda, count: 256, with: 0)
        m.write16(bda + BDA.ebdaSegment, UInt16(PCMemoryMap.ebda >> 4))
        m.write16(bda + BDA.equipment, 0x0020)  // 80x25 colour
        m.write16(bda + BDA.memorySize, PCMemoryMap.conventionalKiB)
        m.write16(bda + BDA.keyboardHead, 0x1E)
        m.write16(bda + BDA.keyboardTail, 0x1E)
        m.write16(bda + BDA.keyboardStart, 0x1E)
        m.write16(bda + BDA.keyboardEnd, 0x3E)
        m.write8(bda + BDA.videoMode, 0x03)
        m.write16(bda + BDA.columns, 80)
        m.write16(bda + BDA.cursorShape, 0x0607)
        m.write8(bda + BDA.rows, 24)
        try? m.memory.fill(at: PCMemoryMap.ebda, count: 1024, with: 0)
        m.write16(PCMemoryMap.ebda, 1)  // EBDA size in KiB
    }

    /// The PnP BIOS installation check structure (PnP BIOS 1.0A §4.4):
    /// an option ROM's INIT gets ES:DI pointing here and then boots through
    /// its $PnP BEV instead of hooking INT 19h.
    private func installPnPStructure() {
        var s = [UInt8](repeating: 0, count: 0x21)
        s.replaceSubrange(0..<4, with: Array("$PnP".utf8))
        s[4] = 0x10  // version 1.0
        s[5] = 0x21  // length
        s[9] = 0 &- s.reduce(0, &+)
        write(Stub.pnpStructure, s)
    }

    /// True when IVT[vector] still points at the BIOS's own trap.
    func isDefaultHandler(vector: UInt8) -> Bool {
        let entry = PCMemoryMap.ivt + UInt64(vector) * 4
        let expected: UInt16 = vector == 0x08 ? Stub.timer : vector == 0x16 ? Stub.keyboard : Stub.vectors + UInt16(vector)
        return machine.read16(entry) == expected && machine.read16(entry + 2) == PCMemoryMap.biosSegment
    }

    // MARK: Traps

    func trap(at linear: UInt64) {
        guard linear >= PCMemoryMap.bios else { return }
        let offset = UInt16(truncatingIfNeeded: linear - PCMemoryMap.bios)
        switch offset {
        case Stub.vectors..<(Stub.vectors + 0x100):
            service(vector: UInt8(offset - Stub.vectors))
        case Stub.timer:
            timerTick()
        case Stub.keyboardTrap:
            keyboardService()
        case Stub.hostReturn:
            machine.finish(.returned)
        case Stub.pmmEntry:
            pmmService()
        case Stub.hostCalls..<Stub.end:
            if let call = HostCall.allCases.first(where: { $0.offset == offset }) { hostCall(call) }
        default:
            break
        }
    }

    /// A service reached through the vector's IRET trap.
    func service(vector: UInt8) {
        switch vector {
        case 0x10: videoService()
        case 0x11: ax = machine.read16(PCMemoryMap.bda + BDA.equipment)
        case 0x12: ax = machine.read16(PCMemoryMap.bda + BDA.memorySize)
        case 0x13: diskService()
        case 0x15: systemService()
        case 0x18: machine.finish(.bootFailed)
        case 0x19: machine.finish(.bootstrap)
        case 0x1A: timeService()
        default:
            // A spurious or unclaimed hardware interrupt: acknowledge it.
            if let irq = machine.pic.irq(forVector: vector) { machine.pic.endOfInterrupt(irq: irq) }
        }
    }

    /// INT 13h: this PC has no disks. AH=01h (invalid function), CF set.
    private func diskService() {
        ah = 0x01
        returnCarry(true)
    }
}
