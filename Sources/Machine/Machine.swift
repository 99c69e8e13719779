import Board
import CUnicorn
import NICCore

/// An x86 PC around a `Board`: a CPU on Unicorn running real-mode and
/// protected-mode code out of the board's RAM, port and MMIO cycles
/// forwarded to the board's buses, the PC's timer and interrupt
/// controllers, and a BIOS whose services are Swift (see `BIOS`).
///
/// Time is the board's `VirtualClock`: every instruction and every I/O
/// cycle costs a fixed amount of virtual time, and HLT jumps to the next
/// timer, so a run is the same every time. RDTSC reads the virtual clock
/// too (one count per virtual nanosecond), never the host's counter. The CPU is only ever stopped
/// and resumed at HLT, at a BIOS trap, or (in real mode only) at an
/// instruction boundary to take an interrupt; in protected mode it is
/// stopped only for good.
public final class Machine {
    public let board: Board
    let cpu: X86CPU
    /// The BIOS: its console, its services, its data structures.
    public private(set) lazy var bios = BIOS(machine: self)
    let pic = PIC8259Pair()
    let pit: PIT8254
    let postCode = POSTCodePort()

    /// Virtual time one instruction takes (10 ns: a 100 MIPS machine).
    public var nanosecondsPerInstruction: UInt64 = 10 {
        didSet { cpu.timeStampPerInstruction = nanosecondsPerInstruction }
    }
    /// Instructions the CPU runs between two looks at the clock: the
    /// virtual time they take is added to the clock, and interrupts and
    /// the run's condition are checked, at the end of each such slice (and
    /// whenever the CPU stops). Shorter slices take interrupts sooner;
    /// longer ones cost less when many machines share one clock (a fleet's
    /// clients take turns a slice at a time).
    public var instructionsPerSlice: UInt64 {
        get { cpu.sliceLength }
        set { cpu.sliceLength = max(newValue, 1) }
    }
    /// Virtual time one port or MMIO cycle takes (about an ISA cycle).
    @exclusivity(unchecked)
    public var nanosecondsPerIOCycle: UInt64 = 1_000
    /// The longest step HLT takes when the board has outside sources.
    static let idleQuantum = VirtualClock.millisecond

    enum StopRequest {
        case final(MachineStop)
        /// Take an interrupt before the real-mode instruction at this linear address.
        case interrupt(resumeAt: UInt64)
        case fault(String, UInt64)
    }

    @exclusivity(unchecked)
    var stopRequest: StopRequest?
    /// Where the next option ROM is shadowed (2 KiB aligned, C0000h-DFFFFh).
    @exclusivity(unchecked)
    var nextOptionROM = PCMemoryMap.optionROMStart
    @exclusivity(unchecked)
    private var condition: () -> Bool = { false }
    @exclusivity(unchecked)
    private var deadline: UInt64 = .max

    /// A PC around `board`. Its RAM must be at least 2 MiB and a multiple of
    /// 4 KiB. Maps the PIC, PIT, port 61h, 80h, 92h and the 8042 ports on
    /// the board's I/O bus, and installs the BIOS (IVT, BDA, traps).
    public init(board: Board) throws(MachineError) {
        self.board = board
        let size = board.memory.size
        guard size >= 2 << 20, size % 4096 == 0 else {
            throw .board("RAM must be at least 2 MiB and a multiple of 4 KiB, not \(size) bytes")
        }
        let trapStart = PCMemoryMap.bios + UInt64(BIOS.Stub.vectors)
        let trapEnd = PCMemoryMap.bios + UInt64(BIOS.Stub.end) - 1
        cpu = try X86CPU(ram: board.memory.unsafeBaseAddress, ramSize: size, trapRange: trapStart...trapEnd)
        pit = PIT8254(clock: board.clock)
        do throws(BusError) {
            try board.io.map(pic.master, at: 0x20, name: "8259 master")
            try board.io.map(pic.slave, at: 0xA0, name: "8259 slave")
            try board.io.map(pit, at: 0x40, name: "8254 PIT")
            try board.io.map(PIT8254.PortB(pit: pit), at: 0x61, name: "port B")
            try board.io.map(KeyboardControllerPort(isStatus: false), at: 0x60, name: "8042 data")
            try board.io.map(KeyboardControllerPort(isStatus: true), at: 0x64, name: "8042 status")
            try board.io.map(postCode, at: 0x80, name: "POST code")
            try board.io.map(SystemControlPortA(), at: 0x92, name: "port A")
        } catch {
            throw .board(error.description)
        }
        cpu.host = self
        cpu.timeStampPerInstruction = nanosecondsPerInstruction
        // Weak: the PIT's timer lives on the board's clock, which may
        // outlive the machine.
        pit.onTick = { [weak pic] in pic?.pulse(irq: 0) }
        bios.install()
        try resetToRealMode()
        pit.startTimer()
    }

    /// Guest RAM the BIOS reports reserved instead of usable: E820h lists
    /// these ranges as type 2, and E801h, 88h and PMM stop below the
    /// first. For buffers a host keeps in the guest's RAM while the guest
    /// runs, such as a Swift UNDI driver's rings: an NBP must not load a
    /// kernel or initrd where the card is still writing frames.
    public var reservedRAM: [Range<UInt64>] = []

    /// Instructions the CPU has executed.
    public var instructionsExecuted: UInt64 { cpu.instructionsExecuted }

    /// Port I/O cycles (IN/OUT) the guest has made.
    @exclusivity(unchecked)
    public internal(set) var portCycles = 0
    /// MMIO cycles the guest has made above `PCMemoryMap.mmioStart`.
    @exclusivity(unchecked)
    public internal(set) var mmioCycles = 0

    /// The last POST code written to port 80h.
    public var lastPOSTCode: UInt8 { postCode.last }

    // MARK: Registers and memory, for the BIOS and tests

    public subscript(_ r: X86Register) -> UInt32 {
        get { cpu[r] }
        set { cpu[r] = newValue }
    }

    var memory: FlatMemory { board.memory }

    func read8(_ a: UInt64) -> UInt8 { (try? memory.readU8(a)) ?? 0xFF }
    func read16(_ a: UInt64) -> UInt16 { (try? memory.readU16(a)) ?? 0xFFFF }
    func read32(_ a: UInt64) -> UInt32 { (try? memory.readU32(a)) ?? 0xFFFF_FFFF }
    func write8(_ a: UInt64, _ v: UInt8) { try? memory.writeU8(a, v) }
    func write16(_ a: UInt64, _ v: UInt16) { try? memory.writeU16(a, v) }
    func write32(_ a: UInt64, _ v: UInt32) { try? memory.writeU32(a, v) }

    /// Copies code or data into guest RAM at `address` from the host (a ROM
    /// image, an NBP) and makes sure the CPU executes the new bytes.
    public func load(_ bytes: [UInt8], at address: UInt64) throws(DMAError) {
        try memory.write(at: address, bytes: bytes)
        cpu.forgetCode(from: address, count: bytes.count)
    }

    /// segment:offset as a real-mode linear address.
    static func linear(_ segment: UInt32, _ offset: UInt32) -> UInt64 {
        UInt64(segment & 0xFFFF) << 4 + UInt64(offset & 0xFFFF)
    }

    /// CS.base + EIP: where the engine resumes.
    func linearPC() -> UInt64 {
        guard cpu.isProtectedMode else { return Self.linear(cpu[.cs], cpu[.eip]) }
        return (segmentBase(cpu[.cs]) + UInt64(cpu[.eip])) & 0xFFFF_FFFF
    }

    /// The base of a protected-mode selector's GDT descriptor (0 if it is
    /// outside the GDT or an LDT selector, which this machine does not use).
    func segmentBase(_ selector: UInt32) -> UInt64 {
        let index = UInt64(selector & 0xFFF8)
        let gdt = cpu.gdt
        guard selector & 4 == 0, index + 7 <= UInt64(gdt.limit) else { return 0 }
        let d = gdt.base + index
        return UInt64(read16(d + 2)) | UInt64(read8(d + 4)) << 16 | UInt64(read8(d + 7)) << 24
    }

    /// True when the selector's descriptor has the D/B bit (32-bit segment).
    func isBig(_ selector: UInt32) -> Bool {
        let index = UInt64(selector & 0xFFF8)
        let gdt = cpu.gdt
        guard selector & 4 == 0, index + 7 <= UInt64(gdt.limit) else { return false }
        return read8(gdt.base + index + 6) & 0x40 != 0
    }

    // MARK: Running

    /// Runs the guest from CS:EIP until `condition` holds (checked every
    /// instruction slice), `timeout` ns of virtual time pass, or the guest
    /// stops the machine (HLT with interrupts off, INT 18h/19h, return of
    /// a host call). Throws if the guest faults.
    @discardableResult
    public func run(until condition: @escaping () -> Bool = { false }, timeout: UInt64) throws(MachineError) -> MachineStop {
        let (end, overflow) = board.clock.now.addingReportingOverflow(timeout)
        deadline = overflow ? .max : end
        self.condition = condition
        defer { self.condition = { false } }
        while true {
            if condition() { return .condition }
            if board.clock.now >= deadline { return .timeout }
            stopRequest = nil
            cpu.timeStampBase = board.clock.now
            let err = cpu.start(at: cpu.startAddress)
            if cpu.engineAborted {
                throw .guestFault("the x86 engine could not translate the code here (an encoding it does not handle); the machine cannot go on",
                                  linearPC: linearPC())
            }
            switch stopRequest {
            case .final(let s):
                return s
            case .fault(let message, let pc):
                throw .guestFault(message, linearPC: pc)
            case .interrupt(let linear):
                if cpu.isProtectedMode {
                    cpu[.eip] = UInt32(truncatingIfNeeded: linear &- segmentBase(cpu[.cs]))
                    if let vector = pic.acknowledge() {
                        try enterProtected(vector: vector)
                        cpu.watchInterruptWindow = false
                    }
                } else {
                    cpu[.eip] = UInt32(truncatingIfNeeded: linear &- UInt64(cpu[.cs]) << 4) & 0xFFFF
                    deliverPendingInterrupt()
                }
            case nil:
                guard err == UC_ERR_OK else {
                    let message = err == UC_ERR_INSN_INVALID ? "invalid opcode" : X86CPU.describe(err)
                    throw .guestFault(message, linearPC: linearPC())
                }
                if let s = try waitForInterrupt() { return s }
            }
        }
    }

    /// Runs the BIOS reset stub from the engine's power-on state (32-bit
    /// flat protected mode) to real mode.
    private func resetToRealMode() throws(MachineError) {
        cpu[.eip] = UInt32(BIOS.address(BIOS.Stub.reset))
        let err = cpu.start(at: cpu.startAddress)
        guard err == UC_ERR_OK, !cpu.isProtectedMode, cpu[.cs] == UInt32(PCMemoryMap.biosSegment) else {
            throw .engine("the CPU did not reach real mode (\(X86CPU.describe(err)))")
        }
    }

    /// Far-calls `segment:offset` in real mode on the host stack with
    /// `registers` set, and runs until it returns (RETF) or stops.
    @discardableResult
    public func call(segment: UInt16, offset: UInt16, registers: [X86Register: UInt32] = [:],
                     until condition: @escaping () -> Bool = { false },
                     timeout: UInt64) throws(MachineError) -> MachineStop {
        guard !cpu.isProtectedMode else {
            throw .guestFault("a host call needs real mode; the guest left the CPU in protected mode", linearPC: linearPC())
        }
        for seg in [X86Register.ds, .es, .fs, .gs] { cpu[seg] = 0 }
        cpu[.ss] = 0
        var sp = UInt32(PCMemoryMap.hostStackTop)
        sp -= 2; write16(UInt64(sp), PCMemoryMap.biosSegment)
        sp -= 2; write16(UInt64(sp), BIOS.Stub.hostReturn)
        cpu[.esp] = sp
        cpu[.eflags] = 0x0202
        for (r, v) in registers { cpu[r] = v }
        cpu[.cs] = UInt32(segment)
        cpu[.eip] = UInt32(offset)
        return try run(until: condition, timeout: timeout)
    }

    /// Ends the current `start` for good with `stop` (from inside a hook).
    func finish(_ stop: MachineStop) {
        stopRequest = .final(stop)
        cpu.stop()
    }

    func fault(_ message: String) {
        stopRequest = .fault(message, linearPC())
        cpu.stop()
    }

    /// After HLT: move time to the next timer until an interrupt can be
    /// taken, the condition holds, or time runs out.
    private func waitForInterrupt() throws(MachineError) -> MachineStop? {
        while true {
            pic.sample(board.interrupts)
            let enabled = cpu[.eflags] & X86Flag.interrupt != 0
            if enabled, pic.pendingVector != nil {
                if cpu.isProtectedMode {
                    guard let vector = pic.acknowledge() else { continue }
                    try enterProtected(vector: vector)
                } else {
                    deliverPendingInterrupt()
                }
                return nil
            }
            if condition() { return .condition }
            let now = board.clock.now
            guard now < deadline else { return .timeout }
            guard enabled else { return .halted }
            var next = min(board.clock.nextDeadline ?? deadline, deadline)
            if board.hasSources {
                // Live peers (a host interface, a QEMU socket) and the
                // real-time pacer are outside sources: move in bounded
                // quanta so they are polled, and paced, while the guest
                // sleeps, instead of leaping a whole timer period at once.
                next = min(next, now &+ Self.idleQuantum)
            }
            board.advance(by: max(next > now ? next - now : 0, 1))
        }
    }
}

// MARK: - Host side of the CPU

extension Machine: BoardBusHost {
    /// Moves virtual time on while the CPU runs, and watches for the
    /// moment a pending interrupt can be taken.
    func elapse(_ ns: UInt64) {
        board.advance(by: ns)
        cpu.timeStampBase = board.clock.now
        pic.sample(board.interrupts)
        cpu.watchInterruptWindow = pic.pendingVector != nil
    }

    func sliceExpired(at linear: UInt64) {
        elapse(cpu.sliceLength * nanosecondsPerInstruction)
        if condition() {
            finish(.condition)
        } else if board.clock.now >= deadline {
            finish(.timeout)
        } else if cpu.watchInterruptWindow, cpu[.eflags] & X86Flag.interrupt != 0, canTakeInterruptHere {
            // Writing EIP inside a hook would make the engine drop the
            // stop request, so the resume point is fixed up after it stops.
            stopRequest = .interrupt(resumeAt: linear)
            cpu.stop()
        }
    }

    /// Where the CPU may be stopped between two instructions and resumed:
    /// real mode, or protected mode in a 32-bit code segment (the engine
    /// runs in 32-bit mode and takes a full EIP when it resumes). 16-bit
    /// protected-mode code is never interrupted here; it is the case
    /// Unicorn does not resume reliably.
    var canTakeInterruptHere: Bool {
        !cpu.isProtectedMode || isBig(cpu[.cs])
    }

    func unmapped(_ address: UInt64, write: Bool) {
        fault("\(write ? "write to" : "read from") unmapped address 0x\(String(address, radix: 16))")
    }

    func trap(at linear: UInt64) {
        bios.trap(at: linear)
    }
}
