import NICCore

/// The smallest PC the cards plug into: RAM, a port-I/O bus, an MMIO bus,
/// a PCI host bridge with configuration mechanism #1, INTx routing onto
/// IRQ lines, the virtual clock and a single-threaded event loop.
public final class Board {
    public let memory: FlatMemory
    public let io = Bus(name: "io", limit: 0x1_0000)
    public let mmio = Bus(name: "mmio", limit: UInt64.max)
    public let pci = PCIHostBridge()
    public let interrupts = InterruptController()
    public let pirq: PIRQRouter
    public let clock: VirtualClock
    /// When set, the driver-side waits (`run(until:timeout:quantum:)` and
    /// `advance(by:)`) are the scheduler's: a host running many boards on
    /// one shared clock takes turns between them there.
    public weak var scheduler: BoardScheduler?
    /// MSI/MSI-X messages that reached the local APIC range (see `Board+MSI`).
    public let messages = MessageLog()

    private struct Decoded: Equatable {
        var isIO: Bool
        var base: UInt64
        var size: UInt64
    }

    private final class Slot {
        let address: PCIAddress
        let function: PCIFunction
        var bars: [Decoded?] = Array(repeating: nil, count: 6)
        var rom: Decoded?
        var romWindow: ROMWindow?
        init(address: PCIAddress, function: PCIFunction) {
            self.address = address
            self.function = function
        }
    }

    @exclusivity(unchecked)
    private var slots: [PCIAddress: Slot] = [:]
    @exclusivity(unchecked)
    private var ports: [FramePort] = []
    @exclusivity(unchecked)
    private var sources: [EventSource] = []
    /// BAR programmings that could not be decoded because they overlapped
    /// another mapping (the guest's mistake; the BAR stays dark).
    @exclusivity(unchecked)
    public private(set) var decodeConflicts = 0

    /// A board with `memorySize` bytes of RAM at physical address 0 and the
    /// host bridge at 00:00.0, on its own clock.
    public convenience init(memorySize: Int = 64 << 20) {
        self.init(memorySize: memorySize, clock: VirtualClock())
    }

    /// A board on `clock`, which other boards may share (`scheduler`).
    public init(memorySize: Int, clock: VirtualClock) {
        self.clock = clock
        memory = FlatMemory(size: memorySize)
        pirq = PIRQRouter(controller: interrupts)
        // The I/O bus is new and empty, so this mapping cannot collide.
        try? io.map(pci, at: PCIHostBridge.configAddressPort, name: "pci-host-bridge")
        attach(HostBridgeFunction(), at: PCIAddress(device: 0))
    }

    // MARK: Devices

    /// Plugs a PCI function into `address`. Its BARs start unprogrammed
    /// (decode nothing) until the guest, or `assignResources()`, programs them.
    public func attach(_ function: PCIFunction, at address: PCIAddress) {
        let slot = Slot(address: address, function: function)
        slots[address] = slot
        pci.insert(function, at: address)
        let config = function.config
        if config.identity.interruptPin != 0 {
            config.upstream = INTxPin(pirq: pirq.pirq(slot: Int(address.device), pin: config.identity.interruptPin), router: pirq)
        }
        config.onDecodeChange = { [unowned self, unowned slot] in self.updateDecode(slot) }
        updateDecode(slot)
        if let signaling = function as? MessageSignalingFunction {
            signaling.connectMessages { [unowned self, unowned config] address, data in
                self.deliverMessage(address: address, data: data, busMaster: config.busMasterEnabled)
            }
        }
    }

    /// Maps an ISA device's registers at a fixed port and gives it a source
    /// on IRQ `irq`. Throws if the ports are taken.
    public func attachISA(_ registers: RegisterBlock, ioBase: UInt64, irq: Int, name: String) throws(BusError) -> InterruptLine {
        try io.map(registers, at: ioBase, name: name)
        return interrupts.source(irq: irq)
    }

    public func function(at address: PCIAddress) -> PCIFunction? { slots[address]?.function }

    /// The IRQ the function's INTx pin reaches through the PIRQ routing, if any.
    public func irq(of address: PCIAddress) -> Int? {
        guard let f = slots[address]?.function, f.config.identity.interruptPin != 0 else { return nil }
        return pirq.irq(forPIRQ: pirq.pirq(slot: Int(address.device), pin: f.config.identity.interruptPin))
    }

    /// Where BAR `index` of the function at `address` is decoded now, if anywhere.
    public func decodedBAR(_ address: PCIAddress, _ index: Int) -> (isIO: Bool, base: UInt64, size: UInt64)? {
        guard let d = slots[address]?.bars[index] else { return nil }
        return (d.isIO, d.base, d.size)
    }

    private func updateDecode(_ slot: Slot) {
        let config = slot.function.config
        for i in 0..<6 {
            var want: Decoded?
            if let bar = config.bars[i], let base = config.barAddress(i), base != 0 {
                let enabled = bar.isIO ? config.ioSpaceEnabled : config.memorySpaceEnabled
                if enabled { want = Decoded(isIO: bar.isIO, base: base, size: bar.size) }
            }
            guard want != slot.bars[i] else { continue }
            let block = slot.function.registers(forBAR: i)
            if let old = slot.bars[i], let block {
                (old.isIO ? io : mmio).unmap(block, at: old.base)
            }
            slot.bars[i] = nil
            if let want, let block {
                do {
                    try (want.isIO ? io : mmio).map(block, at: want.base, size: want.size, name: "\(slot.address) BAR\(i)")
                    slot.bars[i] = want
                } catch {
                    decodeConflicts += 1
                }
            }
        }
        var wantROM: Decoded?
        if config.memorySpaceEnabled, let base = config.expansionROMAddress, base != 0, slot.function.expansionROMImage != nil {
            wantROM = Decoded(isIO: false, base: base, size: UInt64(config.expansionROMSize))
        }
        if wantROM != slot.rom {
            if let old = slot.rom, let w = slot.romWindow { mmio.unmap(w, at: old.base) }
            slot.rom = nil
            if let wantROM, let image = slot.function.expansionROMImage {
                let window = slot.romWindow ?? ROMWindow(image: image, size: wantROM.size)
                slot.romWindow = window
                do {
                    try mmio.map(window, at: wantROM.base, size: wantROM.size, name: "\(slot.address) ROM")
                    slot.rom = wantROM
                } catch {
                    decodeConflicts += 1
                }
            }
        }
    }

    // MARK: Firmware-like set-up

    /// What a PC BIOS does before it boots: sizes and programs every BAR
    /// (I/O upwards from `ioBase`, memory upwards from `mmioBase`), writes the Interrupt Line register with the routed IRQ,
    /// and enables I/O, memory and bus mastering. All through configuration
    /// cycles, as firmware does them.
    public func assignResources(ioBase: UInt64 = 0xC000, mmioBase: UInt64 = 0xE000_0000) {
        var nextIO = ioBase
        var nextMMIO = mmioBase
        func align(_ v: UInt64, _ a: UInt64) -> UInt64 { (v + a - 1) & ~(a - 1) }
        for address in pci.addresses where address != PCIAddress(device: 0) {
            var i = 0
            while i < 6 {
                let offset = PCIConfigRegister.bar0 + 4 * i
                pci.configWrite(address, offset: offset, width: .dword, value: 0xFFFF_FFFF)
                let sized = pci.configRead(address, offset: offset, width: .dword)
                guard sized != 0 else { i += 1; continue }  // unimplemented BAR
                if sized & 1 != 0 {
                    let size = UInt64(~(sized & ~0x3) &+ 1) & 0xFFFF
                    guard size > 0 else { i += 1; continue }
                    nextIO = align(nextIO, size)
                    pci.configWrite(address, offset: offset, width: .dword, value: UInt32(nextIO))
                    nextIO += size
                    i += 1
                } else {
                    let is64 = (sized >> 1) & 3 == 2
                    var mask = UInt64(sized & ~0xF)
                    if is64 {
                        pci.configWrite(address, offset: offset + 4, width: .dword, value: 0xFFFF_FFFF)
                        mask |= UInt64(pci.configRead(address, offset: offset + 4, width: .dword)) << 32
                    } else {
                        mask |= 0xFFFF_FFFF_0000_0000
                    }
                    let size = ~mask &+ 1
                    nextMMIO = align(nextMMIO, max(size, 0x1000))
                    pci.configWrite(address, offset: offset, width: .dword, value: UInt32(truncatingIfNeeded: nextMMIO))
                    if is64 { pci.configWrite(address, offset: offset + 4, width: .dword, value: UInt32(truncatingIfNeeded: nextMMIO >> 32)) }
                    nextMMIO += max(size, 0x1000)
                    i += is64 ? 2 : 1
                }
            }
            // Expansion ROM: give it an address, leave it disabled.
            let rom = PCIConfigRegister.expansionROM
            pci.configWrite(address, offset: rom, width: .dword, value: 0xFFFF_F800)
            let romMask = pci.configRead(address, offset: rom, width: .dword) & ~1
            if romMask != 0 {
                let size = UInt64(~romMask &+ 1)
                nextMMIO = align(nextMMIO, size)
                pci.configWrite(address, offset: rom, width: .dword, value: UInt32(truncatingIfNeeded: nextMMIO))
                nextMMIO += size
            } else {
                pci.configWrite(address, offset: rom, width: .dword, value: 0)
            }
            if let irq = irq(of: address) {
                pci.configWrite(address, offset: PCIConfigRegister.interruptLine, width: .byte, value: UInt32(irq))
            }
            let command = PCICommand([.ioSpace, .memorySpace, .busMaster]).rawValue
            pci.configWrite(address, offset: PCIConfigRegister.command, width: .word, value: UInt32(command))
        }
    }

    // MARK: Event loop

    /// Registers a NIC's port so the loop offers its held frames again.
    public func add(port: FramePort) {
        ports.append(port)
    }

    /// Registers a source the loop polls for outside work.
    public func add(source: EventSource) {
        sources.append(source)
    }

    /// True when outside sources (live peers, pacers) are registered.
    public var hasSources: Bool { !sources.isEmpty }

    /// One pass of the loop at the current instant: poll every source, then
    /// offer held frames to every port. True if anything happened.
    @discardableResult
    public func step() -> Bool {
        var worked = false
        for s in sources where s.poll() { worked = true }
        for p in ports where p.pendingFrames > 0 {
            if p.pump() > 0 { worked = true }
        }
        return worked
    }

    /// Steps until nothing happens (at most `maxSteps` passes).
    public func runUntilIdle(maxSteps: Int = 10_000) {
        var n = 0
        while n < maxSteps, step() { n += 1 }
    }

    /// Moves virtual time forward by `nanoseconds`, firing timers in order
    /// and letting the loop settle after each.
    public func advance(by nanoseconds: UInt64) {
        if let scheduler {
            scheduler.advance(self, by: nanoseconds)
            return
        }
        runUntilIdle()
        let (target, overflow) = clock.now.addingReportingOverflow(nanoseconds)
        let end = overflow ? UInt64.max : target
        while let next = clock.nextDeadline, next <= end {
            clock.runNextTimer()
            runUntilIdle()
        }
        clock.advance(to: end)
        runUntilIdle()
    }

    /// Runs the loop until `condition` holds or `timeout` ns of virtual time
    /// pass. When nothing is ready the clock jumps to the next timer; with
    /// outside sources registered it moves at most `quantum` at a time so
    /// they are polled. Returns whether the condition was met.
    @discardableResult
    public func run(until condition: () -> Bool, timeout: UInt64, quantum: UInt64 = VirtualClock.millisecond) -> Bool {
        if let scheduler { return scheduler.run(self, until: condition, timeout: timeout) }
        let (target, overflow) = clock.now.addingReportingOverflow(timeout)
        let end = overflow ? UInt64.max : target
        while true {
            runUntilIdle()
            if condition() { return true }
            guard clock.now < end else { return false }
            var next = clock.nextDeadline ?? end
            if !sources.isEmpty { next = min(next, clock.now &+ max(quantum, 1)) }
            clock.advance(to: min(max(next, clock.now), end))
        }
    }
}

/// Runs the waits of boards that share one clock (`Board.scheduler`): while
/// one board waits, the others and the clock's timers move on, so many
/// simulated machines make one simulation.
public protocol BoardScheduler: AnyObject {
    /// Lets time pass until `condition` holds or `timeout` ns pass; true if it held.
    func run(_ board: Board, until condition: () -> Bool, timeout: UInt64) -> Bool
    /// Lets `nanoseconds` of time pass for `board`.
    func advance(_ board: Board, by nanoseconds: UInt64)
}
