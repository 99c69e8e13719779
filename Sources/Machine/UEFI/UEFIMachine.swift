import Board
import CUnicorn
import NICCore

/// An x86-64 PC around a `Board` with UEFI firmware whose services are
/// Swift: the CPU runs in long mode on Unicorn (identity-mapped page
/// tables over the first 4 GiB, a flat GDT with a 64-bit code segment),
/// and every function pointer in the system table, the boot and runtime
/// services and the firmware's protocols points at a one-byte `ret` stub
/// in the trap page. A code hook on that page alone hands the call to
/// Swift with the Microsoft x64 convention (RCX, RDX, R8, R9, then the
/// stack from RSP+28h) and EFI_STATUS goes back in RAX.
///
/// Firmware calls into the guest (an image's entry point, event notify
/// functions, a driver binding's Supported/Start/Stop) are continuations:
/// the service returns `.call`, the CPU is pointed at the guest function
/// with its return address on the call-return stub, and the Swift side
/// goes on when that stub is reached. So services nest as deeply as the
/// guest does without re-entering the engine.
///
/// Time is the board's clock as on the BIOS machine: instructions and I/O
/// cost fixed virtual time, HLT waits for the next timer, `Stall` moves
/// the clock.
public final class UEFIMachine {
    public let board: Board
    let cpu: X86CPU

    /// Where the firmware keeps its own structures in guest RAM.
    enum Layout {
        static let gdt: UInt64 = 0x1000
        static let pml4: UInt64 = 0x2000
        static let pdpt: UInt64 = 0x3000
        /// Four page directories of 2 MiB pages: the first 4 GiB.
        static let pageDirectories: UInt64 = 0x4000
        /// Service stubs, 8 bytes apart.
        static let traps: UInt64 = 0x9000
        static let trapsEnd: UInt64 = 0xB000
        /// Tables, protocol interfaces, device paths, handles.
        static let firmwareData: UInt64 = 0x1_0000
        static let firmwareDataEnd: UInt64 = 0x10_0000
        /// The 64-bit code and data selectors in the GDT.
        static let codeSelector: UInt16 = 0x08
        static let dataSelector: UInt16 = 0x10
    }

    /// Virtual time one instruction takes (10 ns, as on the BIOS machine).
    public var nanosecondsPerInstruction: UInt64 = 10 {
        didSet { cpu.timeStampPerInstruction = nanosecondsPerInstruction }
    }
    public var nanosecondsPerIOCycle: UInt64 = 1_000
    /// Virtual time one firmware service call takes (a real firmware runs
    /// hundreds of instructions and, for a network poll, several register
    /// cycles per call), so a guest polling the firmware sees time pass.
    public var nanosecondsPerServiceCall: UInt64 = 2_000
    static let idleQuantum = VirtualClock.millisecond
    /// How deep firmware and guest calls may nest (ConnectController in a
    /// driver's Start in an image's entry point is 3).
    static let maximumNesting = 256

    /// Text the guest wrote through ConOut/StdErr, UTF-8, at most `consoleLimit` characters.
    public internal(set) var console = ""
    public var consoleLimit = 1 << 20
    /// Called with each piece of console text as it is written.
    public var onConsole: ((String) -> Void)?
    /// Boot and runtime services the guest called that the firmware does
    /// not provide, or provided with an error worth knowing, in order (at most 256).
    public internal(set) var log: [String] = []
    /// Called with every service call and its result (for debugging a guest).
    public var trace: ((String) -> Void)?

    public internal(set) var portCycles = 0
    public internal(set) var mmioCycles = 0
    public var instructionsExecuted: UInt64 { cpu.instructionsExecuted }

    // MARK: Service dispatch state

    /// A service's answer: return a status, call guest code first, or end the run.
    enum ServiceResult {
        case done(UInt64)
        case call(UInt64, [UInt64], (UEFIMachine, UInt64) -> ServiceResult)
        case stop(MachineStop)
        /// Unwind to the StartImage of this image handle and return the status from it.
        case exit(image: UInt64, status: UInt64)
        /// StartImage: call the image's entry point; its return (or Exit) is the status.
        case start(image: UInt64, entry: UInt64)
    }

    /// A firmware call waiting for guest code it called to return.
    struct Frame {
        /// The caller's RSP at the service's entry (pointing at its return address).
        let rsp: UInt64
        let continuation: (UEFIMachine, UInt64) -> ServiceResult
        /// Set on the frame of StartImage: the image it runs.
        let image: UInt64?
    }

    typealias Service = (UEFIMachine) -> ServiceResult
    var services: [Service] = []
    var serviceNames: [String] = []
    var frames: [Frame] = []
    /// The stub guest code returns to when the firmware called it.
    var callReturnStub: UInt64 = 0
    /// Registers to set before the engine resumes at `rip`.
    struct Resume { var rip: UInt64; var rsp: UInt64; var registers: [(uc_x86_reg, UInt64)] }
    var resume: Resume?

    enum StopRequest {
        case final(MachineStop)
        case fault(String, UInt64)
        case resume
    }
    var stopRequest: StopRequest?
    private var condition: () -> Bool = { false }
    var deadline: UInt64 = .max
    /// The entry RSP of the service running now (arguments are read from it).
    var entryRSP: UInt64 = 0

    // Firmware state (see the UEFIMachine+*.swift files).
    var dataNext = Layout.firmwareData
    /// The page tables as built, to check and restore them.
    var pagingImage: [UInt8] = []
    /// The engine has run guest code (so it may hold translated blocks).
    var hasRun = false
    var dataEnd = Layout.firmwareDataEnd
    var memoryMap = UEFIMemoryMap(ramSize: 0)
    var handles: [UInt64: UEFIHandle] = [:]
    var handleOrder: [UInt64] = []
    var guidAddresses: [EFIGUID: UInt64] = [:]
    var events: [UInt64: UEFIEvent] = [:]
    var pendingNotifies: [UInt64] = []
    var tpl: UInt64 = EFITPL.application
    var variables: [UEFIVariableKey: (attributes: UInt32, data: [UInt8])] = [:]
    var variableOrder: [UEFIVariableKey] = []
    var monotonicCount: UInt64 = 0
    var bootServicesExited = false
    var images: [UInt64: UEFILoadedImage] = [:]
    public internal(set) var systemTable: UInt64 = 0
    var bootServicesTable: UInt64 = 0
    var runtimeServicesTable: UInt64 = 0
    var consoleOutHandle: UInt64 = 0
    var consoleInHandle: UInt64 = 0
    var waitForKeyEvent: UInt64 = 0
    /// The firmware's SNP instances, by their protocol interface address.
    var networks: [UInt64: UEFISimpleNetwork] = [:]
    /// The firmware's PCI I/O instances, by their protocol interface address.
    var pciDevices: [UInt64: UEFIPCIIO] = [:]
    var rootBridge: UInt64 = 0
    var hostStackTop: UInt64 = 0

    /// A PC with UEFI firmware around `board` (at least 16 MiB of RAM, a
    /// multiple of 4 KiB): long mode set up, the system table and its
    /// services built, console handles installed.
    public init(board: Board) throws(MachineError) {
        self.board = board
        let size = board.memory.size
        guard size >= 16 << 20, size % 4096 == 0, size <= PCMemoryMap.mmioStart else {
            throw .board("RAM must be 16 MiB to 2 GiB and a multiple of 4 KiB, not \(size) bytes")
        }
        cpu = try X86CPU(ram: board.memory.unsafeBaseAddress, ramSize: size,
                         trapRange: Layout.traps...(Layout.trapsEnd - 1), mode: UC_MODE_64,
                         ramOwner: board.memory)
        cpu.host = self
        cpu.timeStampPerInstruction = nanosecondsPerInstruction
        memoryMap = UEFIMemoryMap(ramSize: size)
        try cpu.answerCPUID(Self.cpuid)
        try enterLongMode()
        buildFirmware()
    }

    /// The CPU the guest sees: an x86-64 with TSC, SSE2 and long mode
    /// ("GenuineIntel", family 6), the same on every host. Loaders check
    /// these bits (GRUB calibrates its timer from the TSC).
    static func cpuid(_ leaf: UInt32, _ subleaf: UInt32) -> (UInt32, UInt32, UInt32, UInt32) {
        switch leaf {
        case 0: (7, 0x756E_6547, 0x6C65_746E, 0x4965_6E69)  // "GenuineIntel"
        case 1: (0x0003_06A9, 0x0001_0800, 0x0080_2209, 0x078B_FBFF)  // SSE3 SSSE3 CX16 POPCNT; FPU TSC PAE CX8 CMOV MMX FXSR SSE SSE2 ...
        case 0x8000_0000: (0x8000_0008, 0, 0, 0)
        case 0x8000_0001: (0, 0, 0x1, 0x2010_0800)  // LAHF; SYSCALL NX LM
        case 0x8000_0008: (0x3028, 0, 0, 0)  // 40-bit physical, 48-bit linear addresses
        default: (0, 0, 0, 0)
        }
    }

    /// Builds the page tables and the GDT in RAM and switches the engine's
    /// CPU to them: CR4.PAE, EFER.LME, CR3, CR0.PG, CS = 64-bit code.
    private func enterLongMode() throws(MachineError) {
        let m = board.memory
        do throws(DMAError) {
            try m.fill(at: 0, count: Int(Layout.firmwareData), with: 0)
            // GDT: null, 64-bit code (L=1, P, DPL 0, execute/read), data.
            try m.writeU64(Layout.gdt, 0)
            try m.writeU64(Layout.gdt + 8, 0x00AF_9A00_0000_FFFF)
            try m.writeU64(Layout.gdt + 16, 0x00CF_9200_0000_FFFF)
            try m.writeU64(Layout.pml4, Layout.pdpt | 0x3)
            for i in UInt64(0)..<4 {
                let directory = Layout.pageDirectories + i * 0x1000
                try m.writeU64(Layout.pdpt + i * 8, directory | 0x3)
                for j in UInt64(0)..<512 {
                    // Present, writable, 2 MiB page; MMIO above RAM is uncached (PCD|PWT).
                    let physical = (i << 30) | (j << 21)
                    let cache: UInt64 = physical >= PCMemoryMap.mmioStart ? 0x18 : 0
                    try m.writeU64(directory + j * 8, physical | 0x83 | cache)
                }
            }
        } catch {
            throw .engine("cannot build the page tables: \(error)")
        }
        cpu.setGDT(base: Layout.gdt, limit: 23)
        cpu.write64(UC_X86_REG_CR4, cpu.read64(UC_X86_REG_CR4) | 0x20 | 0x200 | 0x400)  // PAE, OSFXSR, OSXMMEXCPT
        cpu.write64(UC_X86_REG_CR3, Layout.pml4)
        // EFER.LME and LMA: the engine sets them itself in UC_MODE_64.
        cpu.write64(UC_X86_REG_CR0, 0x8000_0033)  // PG, NE, ET, MP, PE
        guard cpu.write64(UC_X86_REG_CS, UInt64(Layout.codeSelector)),
              cpu.write64(UC_X86_REG_SS, UInt64(Layout.dataSelector)),
              cpu.write64(UC_X86_REG_DS, UInt64(Layout.dataSelector)),
              cpu.write64(UC_X86_REG_ES, UInt64(Layout.dataSelector)) else {
            throw .engine("the CPU refused the long-mode segments")
        }
        cpu.write64(UC_X86_REG_RFLAGS, 0x202)
        pagingImage = (try? memory.readBytes(at: Layout.pml4, count: Int(Layout.traps - Layout.pml4))) ?? []
    }

    deinit {
        // The engine walks the page tables when it drops translated code
        // (X86CPU.deinit); they must be the firmware's, whatever the guest did.
        if hasRun { ensureIdentityPaging() }
    }

    /// Puts the firmware's identity map back (tables, CR3, CR4.PAE, CR0.PG)
    /// if the guest changed it: the engine reads the tables outside a run
    /// when code is dropped, and a broken map there would end the process.
    func ensureIdentityPaging() {
        let intact = cpu.read64(UC_X86_REG_CR3) & ~0xFFF == Layout.pml4
            && cpu.read64(UC_X86_REG_CR0) & 0x8000_0001 == 0x8000_0001
            && cpu.read64(UC_X86_REG_CR4) & 0x20 != 0
            && (try? memory.readBytes(at: Layout.pml4, count: pagingImage.count)) == pagingImage
        guard !intact else { return }
        note("the guest changed the firmware's page tables or paging registers; restored")
        try? memory.write(at: Layout.pml4, bytes: pagingImage)
        cpu.write64(UC_X86_REG_CR4, cpu.read64(UC_X86_REG_CR4) | 0x20)
        cpu.write64(UC_X86_REG_CR3, Layout.pml4)
        cpu.write64(UC_X86_REG_CR0, cpu.read64(UC_X86_REG_CR0) | 0x8000_0001)
    }

    /// Drops translated code in [from, from+count) after the host wrote guest RAM.
    func forgetCode(from address: UInt64, count: Int) {
        // Before the first run the engine has translated nothing.
        guard hasRun else { return }
        ensureIdentityPaging()
        cpu.forgetCode(from: address, count: count)
    }

    // MARK: Guest memory helpers (reads of bad addresses give zero, writes are dropped)

    var memory: FlatMemory { board.memory }
    func r8(_ a: UInt64) -> UInt8 { (try? memory.readU8(a)) ?? 0 }
    func r16(_ a: UInt64) -> UInt16 { (try? memory.readU16(a)) ?? 0 }
    func r32(_ a: UInt64) -> UInt32 { (try? memory.readU32(a)) ?? 0 }
    func r64(_ a: UInt64) -> UInt64 { (try? memory.readU64(a)) ?? 0 }
    func w8(_ a: UInt64, _ v: UInt8) { try? memory.writeU8(a, v) }
    func w16(_ a: UInt64, _ v: UInt16) { try? memory.writeU16(a, v) }
    func w32(_ a: UInt64, _ v: UInt32) { try? memory.writeU32(a, v) }
    func w64(_ a: UInt64, _ v: UInt64) { try? memory.writeU64(a, v) }
    /// True when [a, a+n) is guest RAM.
    func valid(_ a: UInt64, _ n: Int) -> Bool { a != 0 && memory.contains(address: a, length: n) }

    /// Bytes from the firmware's own data area (zeroed, 16-byte aligned).
    /// Past the first megabyte the area grows in 64 KiB chunks of boot-services data.
    func firmwareAllocate(_ count: Int, align: UInt64 = 16) -> UInt64 {
        var base = (dataNext + align - 1) & ~(align - 1)
        if base + UInt64(count) > dataEnd {
            let pages = (UInt64(count) + 0xFFFF) >> 12 & ~0xF
            guard let chunk = memoryMap.allocate(pages: pages, type: .bootServicesData) else { return 0 }
            base = chunk
            dataEnd = chunk + pages << 12
        }
        dataNext = base + UInt64(count)
        try? memory.fill(at: base, count: count, with: 0)
        return base
    }

    /// A new stub in the trap page that runs `service`; returns its address.
    func stub(_ name: String, _ service: @escaping Service) -> UInt64 {
        let address = Layout.traps + UInt64(services.count) * 8
        precondition(address < Layout.trapsEnd, "UEFI trap page full")
        services.append(service)
        serviceNames.append(name)
        w8(address, 0xC3)  // ret: the call returns when the hook lets it run
        forgetCode(from: address, count: 1)
        return address
    }

    /// Argument `i` (0-based) of the service being called, MS x64 convention.
    func arg(_ i: Int) -> UInt64 {
        switch i {
        case 0: cpu.read64(UC_X86_REG_RCX)
        case 1: cpu.read64(UC_X86_REG_RDX)
        case 2: cpu.read64(UC_X86_REG_R8)
        case 3: cpu.read64(UC_X86_REG_R9)
        default: r64(entryRSP &+ 0x28 &+ UInt64(i - 4) * 8)
        }
    }

    func note(_ line: String) {
        if log.count < 256 { log.append(line) }
    }

    /// Copies bytes into guest RAM from the host and drops translated code there.
    func load(_ bytes: [UInt8], at address: UInt64) throws(DMAError) {
        try memory.write(at: address, bytes: bytes)
        forgetCode(from: address, count: bytes.count)
    }

    // MARK: Running

    /// Runs the guest until `condition` holds, `timeout` ns of virtual time
    /// pass, or the guest ends the run (the first image returns or calls
    /// Exit, ResetSystem, HLT with interrupts off). Throws if it faults.
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
            var rip = cpu.read64(UC_X86_REG_RIP)
            if let r = resume {
                resume = nil
                for (reg, value) in r.registers { cpu.write64(reg, value) }
                cpu.write64(UC_X86_REG_RSP, r.rsp)
                rip = r.rip
            }
            cpu.timeStampBase = board.clock.now
            hasRun = true
            let err = cpu.start(at: rip)
            if cpu.engineAborted {
                throw .guestFault("the x86 engine could not translate the code here; the machine cannot go on", linearPC: rip)
            }
            switch stopRequest {
            case .final(let s): return s
            case .fault(let message, let pc): throw .guestFault(message, linearPC: pc)
            case .resume: continue
            case nil:
                guard err == UC_ERR_OK else {
                    let message = err == UC_ERR_INSN_INVALID ? "invalid opcode" : X86CPU.describe(err)
                    throw .guestFault(message, linearPC: cpu.read64(UC_X86_REG_RIP))
                }
                // HLT: wait for the next timer (firmware timers are on the board's clock).
                if cpu.read64(UC_X86_REG_RFLAGS) & 0x200 == 0, board.clock.nextDeadline == nil { return .halted }
                idle()
            }
        }
    }

    /// Moves time to the next timer, in bounded steps while outside sources are polled.
    func idle() {
        let now = board.clock.now
        var next = min(board.clock.nextDeadline ?? deadline, deadline)
        if board.hasSources { next = min(next, now &+ Self.idleQuantum) }
        board.advance(by: max(next > now ? next - now : 0, 1))
    }

    /// The status the host-started image returned or passed to Exit.
    public internal(set) var lastExitStatus: UInt64?

    /// Points the CPU at guest function `entry`, with its return address
    /// on the call-return stub, on a stack below `rsp`.
    func prepareCall(_ entry: UInt64, _ arguments: [UInt64], below rsp: UInt64) {
        let stackArguments = max(arguments.count - 4, 0)
        let base = (rsp &- 0x200 &- UInt64(stackArguments) * 8) & ~0xF
        let sp = base &- 8
        w64(sp, callReturnStub)
        for i in 4..<max(arguments.count, 4) { w64(base &+ 0x20 &+ UInt64(i - 4) * 8, arguments[i]) }
        let registers = [UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_R8, UC_X86_REG_R9]
        var set: [(uc_x86_reg, UInt64)] = []
        for (i, r) in registers.enumerated() { set.append((r, i < arguments.count ? arguments[i] : 0)) }
        resume = Resume(rip: entry, rsp: sp, registers: set)
    }

    /// Finishes a service result at a trap; `atOwnStub` when the CPU is on
    /// the service's own `ret` with RSP at the caller's return address.
    func complete(_ result: ServiceResult, rsp: UInt64, atOwnStub: Bool) {
        var result = result
        // Timer notifications run when a service returns at a TPL below theirs.
        if case .done(let status) = result, let pending = nextNotify() {
            result = dispatch(pending) { _ in .done(status) }
        }
        switch result {
        case .done(let status):
            if atOwnStub {
                cpu.write64(UC_X86_REG_RAX, status)
            } else {
                resume = Resume(rip: r64(rsp), rsp: rsp &+ 8, registers: [(UC_X86_REG_RAX, status)])
                stopRequest = .resume
                cpu.stop()
            }
        case .call where frames.count >= Self.maximumNesting, .start where frames.count >= Self.maximumNesting:
            // A guest that keeps calling the firmware from inside firmware
            // callbacks (each with a fresh stack) would grow this list forever.
            fault("firmware calls into the guest nested more than \(Self.maximumNesting) deep")
        case .call(let entry, let arguments, let continuation):
            frames.append(Frame(rsp: rsp, continuation: continuation, image: nil))
            prepareCall(entry, arguments, below: stackBelow(rsp))
            stopRequest = .resume
            cpu.stop()
        case .stop(let s):
            stopRequest = .final(s)
            cpu.stop()
        case .start(let image, let entry):
            frames.append(Frame(rsp: rsp, continuation: { _, status in .done(status) }, image: image))
            prepareCall(entry, [image, systemTable], below: stackBelow(rsp))
            stopRequest = .resume
            cpu.stop()
        case .exit(let image, let status):
            guard let index = frames.lastIndex(where: { $0.image == image }) else {
                note("Exit from an image that is not running")
                complete(.done(EFIStatus.invalidParameter), rsp: rsp, atOwnStub: atOwnStub)
                return
            }
            let frame = frames[index]
            frames.removeSubrange(index...)
            complete(frame.continuation(self, status), rsp: frame.rsp, atOwnStub: false)
        }
    }

    /// Where a firmware call's callee may put its frame: below both the
    /// caller's frame and whatever the CPU's stack holds now (when that
    /// is a live stack just below it).
    private func stackBelow(_ rsp: UInt64) -> UInt64 {
        let current = cpu.read64(UC_X86_REG_RSP)
        return current < rsp && rsp - current < 1 << 20 ? current : rsp
    }

    /// A service's own stub was reached, or guest code the firmware called returned.
    func serviceTrap(at address: UInt64) {
        let rsp = cpu.read64(UC_X86_REG_RSP)
        if address == callReturnStub {
            guard let frame = frames.popLast() else {
                fault("return to the firmware with no call outstanding")
                return
            }
            entryRSP = frame.rsp
            complete(frame.continuation(self, cpu.read64(UC_X86_REG_RAX)), rsp: frame.rsp, atOwnStub: false)
            return
        }
        let index = Int((address - Layout.traps) / 8)
        guard address & 7 == 0, index < services.count else {
            fault("jump into the firmware's trap page at 0x\(String(address, radix: 16))")
            return
        }
        entryRSP = rsp
        elapse(nanosecondsPerServiceCall)
        let result = services[index](self)
        if let trace {
            let detail = if case .done(let status) = result { "0x" + String(status, radix: 16) } else { "\(result)" }
            trace("\(serviceNames[index])(\((0..<4).map { "0x" + String(arg($0), radix: 16) }.joined(separator: ", "))) -> \(detail)")
        }
        complete(result, rsp: rsp, atOwnStub: true)
    }

    func finish(_ stop: MachineStop) {
        stopRequest = .final(stop)
        cpu.stop()
    }

    func fault(_ message: String) {
        stopRequest = .fault(message, cpu.read64(UC_X86_REG_RIP))
        cpu.stop()
    }

    /// A condition for `run(until:)` that holds once the console shows `text`.
    public func consoleShows(_ text: String) -> () -> Bool {
        var seen = -1
        var found = false
        return { [unowned self] in
            if found { return true }
            let count = console.utf8.count
            if count != seen {
                seen = count
                found = console.contains(text)
            }
            return found
        }
    }

    func appendConsole(_ text: String) {
        guard !text.isEmpty else { return }
        if console.utf8.count < consoleLimit { console += text }
        onConsole?(text)
    }
}

extension UEFIMachine: BoardBusHost {
    func elapse(_ ns: UInt64) {
        board.advance(by: ns)
        cpu.timeStampBase = board.clock.now
    }

    /// UEFI delivers no hardware interrupts to images; a CPU exception is a fault.
    func interrupt(_ vector: UInt32) {
        fault("CPU exception or INT \(vector) (no IDT under this firmware)")
    }

    func trap(at linear: UInt64) {
        serviceTrap(at: linear)
    }

    func sliceExpired(at linear: UInt64) {
        elapse(cpu.sliceLength * nanosecondsPerInstruction)
        let stop: MachineStop? = condition() ? .condition : board.clock.now >= deadline ? .timeout : nil
        if let stop {
            // The instruction at `linear` has not run: a later run resumes there.
            resume = Resume(rip: linear, rsp: cpu.read64(UC_X86_REG_RSP), registers: [])
            finish(stop)
        }
    }

    func unmapped(_ address: UInt64, write: Bool) {
        fault("\(write ? "write to" : "read from") unmapped address 0x\(String(address, radix: 16))")
    }
}
