import CUnicorn

/// What the CPU asks of its host while it runs: port and MMIO cycles,
/// interrupts, reaching a BIOS trap, and the end of an instruction slice.
/// Every call happens on the thread that called `X86CPU.start()`.
protocol X86Host: AnyObject {
    func portRead(_ port: UInt16, width: Int) -> UInt32
    func portWrite(_ port: UInt16, width: Int, value: UInt32)
    func mmioRead(_ address: UInt64, width: Int) -> UInt64
    func mmioWrite(_ address: UInt64, width: Int, value: UInt64)
    /// INT n, or an exception, raised by the guest.
    func interrupt(_ vector: UInt32)
    /// About to execute the instruction at a BIOS trap address.
    func trap(at linear: UInt64)
    /// `sliceLength` instructions ran; `linear` is the next one.
    func sliceExpired(at linear: UInt64)
    /// An access to memory nothing backs.
    func unmapped(_ address: UInt64, write: Bool)
}

/// One x86 CPU on Unicorn, in 16-bit real mode at reset, with the board's
/// RAM mapped at physical 0 and everything above `mmioStart` forwarded to
/// the host as MMIO.
///
/// Unicorn does not deliver INT n through the IVT; it reports it to the
/// host, which does (see `Machine+Interrupts.swift`). It stops at HLT.
final class X86CPU {
    private let engine: OpaquePointer
    @exclusivity(unchecked)
    private var hooks: [uc_hook] = []
    private let slice: UnsafeMutablePointer<nicsim_slice>
    /// Keeps guest RAM alive as long as the engine that maps it: `deinit`
    /// still walks it (and, in long mode, the page tables in it).
    private let ramOwner: AnyObject?
    private var cpuidTable: ((UInt32, UInt32) -> (UInt32, UInt32, UInt32, UInt32))?
    // SAFETY: the host (the Machine, or the UEFI machine) owns this CPU and
    // calls `start`, the only place the engine calls back from, so it is
    // alive whenever a callback reaches it. Not weak: a weak reference
    // gives the machine a side table, which makes every retain of it a slow
    // one, and the callbacks run per port cycle and per BIOS trap.
    unowned(unsafe) var host: X86Host?
    /// Instructions between two `sliceExpired` calls.
    var sliceLength: UInt64 = 1000 {
        didSet { slice.pointee.remaining = max(sliceLength, 1) }
    }
    /// Last error code the engine returned from `start`.
    @exclusivity(unchecked)
    private(set) var lastError: uc_err = UC_ERR_OK
    /// The engine aborted while translating guest code (see
    /// `nicsim_emu_start`); it is left mid-translation and never runs again.
    @exclusivity(unchecked)
    private(set) var engineAborted = false

    /// A CPU over `ram` (`ramSize` bytes at physical 0, a multiple of 4 KiB),
    /// trapping instructions in `trapRange` (linear addresses).
    init(ram: UnsafeMutableRawPointer, ramSize: UInt64, trapRange: ClosedRange<UInt64>,
         mode: uc_mode = UC_MODE_32, ramOwner: AnyObject? = nil) throws(MachineError) {
        self.ramOwner = ramOwner
        var uc: OpaquePointer?
        // Opened in 32-bit mode so that uc_emu_start takes a full 32-bit
        // EIP (in 16-bit mode it sets IP = start - CS*16, 16 bits only,
        // which cannot resume 32-bit protected-mode code). The machine then
        // runs a reset stub that takes the CPU to real mode the way
        // software must: through a 16-bit segment, then CR0.PE clear.
        let err = uc_open(UC_ARCH_X86, mode, &uc)
        guard err == UC_ERR_OK, let uc else { throw .engine("uc_open: \(String(cString: uc_strerror(err)))") }
        engine = uc
        slice = .allocate(capacity: 1)
        slice.initialize(to: nicsim_slice(remaining: 1000, executed: 0, expired: nil, owner: nil, watch_interrupt_window: 0,
                                          ram: UnsafePointer(ram.assumingMemoryBound(to: UInt8.self)), ram_size: ramSize,
                                          tsc_base: 0, tsc_mark: 0, tsc_per_instruction: 10, rdtsc_pending: 0))
        do throws(MachineError) {
            try check(uc_mem_map_ptr(uc, 0, Int(ramSize), UInt32(UC_PROT_ALL.rawValue), ram), "map RAM")
            let me = Unmanaged.passUnretained(self).toOpaque()
            try check(uc_mmio_map(uc, PCMemoryMap.mmioStart, Int(PCMemoryMap.mmioEnd - PCMemoryMap.mmioStart),
                                  { _, offset, size, user in
                                      X86CPU.from(user)?.host?.mmioRead(PCMemoryMap.mmioStart + offset, width: Int(size)) ?? ~0
                                  }, me,
                                  { _, offset, size, value, user in
                                      X86CPU.from(user)?.host?.mmioWrite(PCMemoryMap.mmioStart + offset, width: Int(size), value: value)
                                  }, me), "map MMIO")
            var h: uc_hook = 0
            try check(nicsim_hook_in(uc, &h, { _, port, size, user in
                X86CPU.from(user)?.host?.portRead(UInt16(truncatingIfNeeded: port), width: Int(size)) ?? ~0
            }, me), "hook IN")
            hooks.append(h)
            try check(nicsim_hook_out(uc, &h, { _, port, size, value, user in
                X86CPU.from(user)?.host?.portWrite(UInt16(truncatingIfNeeded: port), width: Int(size), value: value)
            }, me), "hook OUT")
            hooks.append(h)
            try check(nicsim_hook_intr(uc, &h, { _, vector, user in
                X86CPU.from(user)?.host?.interrupt(vector)
            }, me), "hook INT")
            hooks.append(h)
            try check(nicsim_hook_code(uc, &h, { _, address, _, user in
                X86CPU.from(user)?.host?.trap(at: address)
            }, me, trapRange.lowerBound, trapRange.upperBound), "hook BIOS traps")
            hooks.append(h)
            try check(nicsim_hook_unmapped(uc, &h, { _, type, address, _, _, user in
                let write = type == UC_MEM_WRITE_UNMAPPED
                X86CPU.from(user)?.host?.unmapped(address, write: write)
                return false
            }, me), "hook unmapped memory")
            hooks.append(h)
            slice.pointee.owner = me
            slice.pointee.expired = { _, address, owner in
                guard let cpu = X86CPU.from(owner) else { return }
                cpu.slice.pointee.remaining = max(cpu.sliceLength, 1)
                cpu.slice.pointee.tsc_mark = cpu.slice.pointee.executed
                cpu.host?.sliceExpired(at: address)
            }
            try check(nicsim_hook_slice(uc, &h, slice), "hook instruction slices")
            hooks.append(h)
        } catch {
            uc_close(uc)
            slice.deallocate()
            throw error
        }
    }

    deinit {
        // Unicorn 2.0's uc_close does not free the bitmaps it keeps for
        // pages whose code the guest kept writing to (self-modifying code,
        // or code run from the IVT page the guest rewrites); a page's bitmap
        // goes when its last translated block does, so drop them all first.
        if !engineAborted { _ = nicsim_forget_code(engine, 0, slice.pointee.ram_size) }
        uc_close(engine)
        slice.deallocate()
    }

    private static func from(_ p: UnsafeMutableRawPointer?) -> X86CPU? {
        guard let p else { return nil }
        return Unmanaged<X86CPU>.fromOpaque(p).takeUnretainedValue()
    }

    private func check(_ err: uc_err, _ what: String) throws(MachineError) {
        guard err == UC_ERR_OK else { throw .engine("\(what): \(String(cString: uc_strerror(err)))") }
    }

    /// End the slice as soon as real-mode code enables interrupts.
    var watchInterruptWindow: Bool {
        get { slice.pointee.watch_interrupt_window != 0 }
        set { slice.pointee.watch_interrupt_window = newValue ? 1 : 0 }
    }

    /// The time stamp counter RDTSC reads, kept on virtual time: the host
    /// sets `timeStampBase` to the virtual clock whenever it moves, and
    /// each instruction executed since the slice began adds
    /// `timeStampPerInstruction` (see `nicsim_tsc` in the shim).
    var timeStampBase: UInt64 {
        get { slice.pointee.tsc_base }
        set { slice.pointee.tsc_base = newValue }
    }

    var timeStampPerInstruction: UInt64 {
        get { slice.pointee.tsc_per_instruction }
        set { slice.pointee.tsc_per_instruction = newValue }
    }

    /// What RDTSC returns now.
    var timeStamp: UInt64 { nicsim_tsc(slice) }

    /// Instructions executed so far.
    var instructionsExecuted: UInt64 { slice.pointee.executed }

    // MARK: Registers

    subscript(_ r: X86Register) -> UInt32 {
        get {
            var v: UInt64 = 0
            _ = uc_reg_read(engine, r.unicorn, &v)
            return UInt32(truncatingIfNeeded: r.isSegment ? v & 0xFFFF : v)
        }
        set {
            var v = UInt64(newValue)
            _ = uc_reg_write(engine, r.unicorn, &v)
        }
    }

    /// A register by Unicorn's number, all 64 bits (the UEFI machine's long mode).
    func read64(_ r: uc_x86_reg) -> UInt64 {
        var v: UInt64 = 0
        _ = uc_reg_read(engine, Int32(bitPattern: r.rawValue), &v)
        return v
    }

    /// Writes a register by Unicorn's number; false if the engine refused
    /// (a segment selector whose descriptor would fault).
    @discardableResult
    func write64(_ r: uc_x86_reg, _ value: UInt64) -> Bool {
        var v = value
        return uc_reg_write(engine, Int32(bitPattern: r.rawValue), &v) == UC_ERR_OK
    }

    /// Answers CPUID from `table` (leaf, subleaf) -> (EAX, EBX, ECX, EDX)
    /// instead of the engine's model, so the guest sees the same CPU on
    /// every host (the UEFI machine's).
    func answerCPUID(_ table: @escaping (UInt32, UInt32) -> (UInt32, UInt32, UInt32, UInt32)) throws(MachineError) {
        cpuidTable = table
        var h: uc_hook = 0
        let me = Unmanaged.passUnretained(self).toOpaque()
        try check(nicsim_hook_cpuid(engine, &h, { _, user in
            guard let cpu = X86CPU.from(user), let table = cpu.cpuidTable else { return 0 }
            let (a, b, c, d) = table(UInt32(truncatingIfNeeded: cpu.read64(UC_X86_REG_RAX)), UInt32(truncatingIfNeeded: cpu.read64(UC_X86_REG_RCX)))
            cpu.write64(UC_X86_REG_RAX, UInt64(a))
            cpu.write64(UC_X86_REG_RBX, UInt64(b))
            cpu.write64(UC_X86_REG_RCX, UInt64(c))
            cpu.write64(UC_X86_REG_RDX, UInt64(d))
            return 1
        }, me), "hook CPUID")
        hooks.append(h)
    }

    /// Loads GDTR (the UEFI machine's long-mode set-up).
    func setGDT(base: UInt64, limit: UInt32) {
        var mmr = uc_x86_mmr(selector: 0, base: base, limit: limit, flags: 0)
        _ = uc_reg_write(engine, Int32(bitPattern: UC_X86_REG_GDTR.rawValue), &mmr)
    }

    /// CR0.PE: protected mode.
    var isProtectedMode: Bool { self[.cr0] & 1 != 0 }

    /// The GDT base (for finding segment bases in protected mode).
    var gdt: (base: UInt64, limit: UInt32) {
        var mmr = uc_x86_mmr()
        _ = uc_reg_read(engine, Int32(bitPattern: UC_X86_REG_GDTR.rawValue), &mmr)
        return (mmr.base, mmr.limit)
    }

    /// The IDT base and limit (protected-mode interrupt delivery).
    var idt: (base: UInt64, limit: UInt32) {
        var mmr = uc_x86_mmr()
        _ = uc_reg_read(engine, Int32(bitPattern: UC_X86_REG_IDTR.rawValue), &mmr)
        return (mmr.base, mmr.limit)
    }

    /// Loads a segment register through the engine's own checks (in
    /// protected mode: the descriptor from the GDT). False if the load
    /// would fault.
    func loadSegment(_ r: X86Register, _ selector: UInt16) -> Bool {
        var v = UInt64(selector)
        return uc_reg_write(engine, r.unicorn, &v) == UC_ERR_OK
    }

    // MARK: Running

    /// The start address that makes the engine resume at the current
    /// CS:EIP: the engine (opened in 32-bit mode) sets EIP to it as is.
    var startAddress: UInt64 { UInt64(self[.eip]) }

    /// Runs from `address` (see `startAddress`) until HLT, `stop()`, or an
    /// error; `engineAborted` if the engine gave up translating the code.
    func start(at address: UInt64) -> uc_err {
        guard !engineAborted else { return UC_ERR_EXCEPTION }
        // An RDTSC seen just before the last stop did not run.
        slice.pointee.rdtsc_pending = 0
        var aborted: Int32 = 0
        lastError = nicsim_emu_start(engine, address, UInt64.max, &aborted)
        if aborted != 0 { engineAborted = true }
        return lastError
    }

    /// Forgets translated code after the host changed guest RAM (a loaded
    /// ROM or NBP); the guest's own writes are tracked by the engine.
    func forgetCode(from begin: UInt64, count: Int) {
        guard count > 0, !engineAborted else { return }
        _ = nicsim_forget_code(engine, begin, begin + UInt64(count))
    }

    /// Ends `start` before the next instruction (from inside a hook).
    func stop() {
        _ = uc_emu_stop(engine)
    }

    static func describe(_ err: uc_err) -> String { String(cString: uc_strerror(err)) }
}
