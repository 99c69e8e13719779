import Board
import NICCore

/// Why a driver operation failed.
public enum DriverError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No card of the expected kind answered at the given place.
    case deviceNotFound(String)
    /// The card did not finish something in time (reset, DMA, transmit).
    case timeout(String)
    /// The card reported an error the driver can't recover from.
    case hardware(String)
    /// The frame is shorter than a MAC header or longer than the card takes.
    case badFrameLength(Int)
    /// No transmit slot is free; try again after the card completes one.
    case transmitBusy
    /// Guest memory for DMA ran out or could not be reached.
    case dma(String)
    /// The card does not support what was asked.
    case unsupported(String)

    public var description: String {
        switch self {
        case .deviceNotFound(let s): "device not found: \(s)"
        case .timeout(let s): "timed out: \(s)"
        case .hardware(let s): "hardware error: \(s)"
        case .badFrameLength(let n): "bad frame length \(n)"
        case .transmitBusy: "transmitter busy"
        case .dma(let s): "DMA: \(s)"
        case .unsupported(let s): "unsupported: \(s)"
        }
    }
}

/// A driver's view of the machine, and nothing more: port I/O, memory-mapped
/// I/O, PCI configuration cycles through 0xCF8/0xCFC, guest RAM for DMA
/// buffers, and virtual time to wait on. A driver never calls a device
/// model's Swift API; every register access goes through these buses,
/// exactly as a real driver's would.
public final class DriverBus {
    public let board: Board
    /// Where drivers on this bus allocate their DMA buffers.
    public let dmaRegion: Range<UInt64>
    @exclusivity(unchecked)
    private var nextDMA: UInt64
    private let dmaLimit: UInt64

    /// - Parameters:
    ///   - dmaRegion: guest-physical range drivers may allocate DMA buffers
    ///     from (default: 16 MiB up to 32 MiB; on a smaller board, the
    ///     upper half of RAM).
    public init(board: Board, dmaRegion: Range<UInt64>? = nil) {
        self.board = board
        memory = board.memory
        let size = board.memory.size
        let region = dmaRegion ?? (size >= 0x200_0000 ? 0x100_0000..<0x200_0000 : size / 2..<size)
        self.dmaRegion = region
        nextDMA = region.lowerBound
        dmaLimit = region.upperBound
    }

    /// The board's RAM, held directly so that a driver's DMA buffer access
    /// is a plain call on the frame path.
    public let memory: FlatMemory
    public var clock: VirtualClock { board.clock }

    // MARK: Port I/O

    public func inb(_ port: UInt16) -> UInt8 { UInt8(truncatingIfNeeded: board.io.read(UInt64(port), width: .byte)) }
    public func inw(_ port: UInt16) -> UInt16 { UInt16(truncatingIfNeeded: board.io.read(UInt64(port), width: .word)) }
    public func inl(_ port: UInt16) -> UInt32 { UInt32(truncatingIfNeeded: board.io.read(UInt64(port), width: .dword)) }
    public func outb(_ port: UInt16, _ v: UInt8) { board.io.write(UInt64(port), width: .byte, value: UInt64(v)) }
    public func outw(_ port: UInt16, _ v: UInt16) { board.io.write(UInt64(port), width: .word, value: UInt64(v)) }
    public func outl(_ port: UInt16, _ v: UInt32) { board.io.write(UInt64(port), width: .dword, value: UInt64(v)) }

    // MARK: Memory-mapped I/O

    public func readb(_ a: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: board.mmio.read(a, width: .byte)) }
    public func readw(_ a: UInt64) -> UInt16 { UInt16(truncatingIfNeeded: board.mmio.read(a, width: .word)) }
    public func readl(_ a: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: board.mmio.read(a, width: .dword)) }
    public func readq(_ a: UInt64) -> UInt64 { board.mmio.read(a, width: .qword) }
    public func writeb(_ a: UInt64, _ v: UInt8) { board.mmio.write(a, width: .byte, value: UInt64(v)) }
    public func writew(_ a: UInt64, _ v: UInt16) { board.mmio.write(a, width: .word, value: UInt64(v)) }
    public func writel(_ a: UInt64, _ v: UInt32) { board.mmio.write(a, width: .dword, value: UInt64(v)) }
    public func writeq(_ a: UInt64, _ v: UInt64) { board.mmio.write(a, width: .qword, value: v) }

    // MARK: PCI configuration (mechanism #1)

    private func selectConfig(_ f: PCIAddress, _ offset: Int) {
        outl(0xCF8, 0x8000_0000 | UInt32(f.bdf) << 8 | UInt32(offset & 0xFC))
    }

    public func configRead32(_ f: PCIAddress, _ offset: Int) -> UInt32 {
        selectConfig(f, offset)
        return inl(0xCFC)
    }

    public func configRead16(_ f: PCIAddress, _ offset: Int) -> UInt16 {
        selectConfig(f, offset)
        return inw(0xCFC + UInt16(offset & 2))
    }

    public func configRead8(_ f: PCIAddress, _ offset: Int) -> UInt8 {
        selectConfig(f, offset)
        return inb(0xCFC + UInt16(offset & 3))
    }

    public func configWrite32(_ f: PCIAddress, _ offset: Int, _ v: UInt32) {
        selectConfig(f, offset)
        outl(0xCFC, v)
    }

    public func configWrite16(_ f: PCIAddress, _ offset: Int, _ v: UInt16) {
        selectConfig(f, offset)
        outw(0xCFC + UInt16(offset & 2), v)
    }

    public func configWrite8(_ f: PCIAddress, _ offset: Int, _ v: UInt8) {
        selectConfig(f, offset)
        outb(0xCFC + UInt16(offset & 3), v)
    }

    /// Every function on bus 0 whose vendor and device ID match, in slot order.
    public func findPCI(vendor: UInt16, device: UInt16) -> [PCIAddress] {
        var found: [PCIAddress] = []
        for dev in 0..<32 {
            for fn in 0..<8 {
                let a = PCIAddress(device: UInt8(dev), function: UInt8(fn))
                let id = configRead32(a, 0)
                if id == 0xFFFF_FFFF { if fn == 0 { break } else { continue } }
                if UInt16(id & 0xFFFF) == vendor && UInt16(id >> 16) == device { found.append(a) }
            }
        }
        return found
    }

    /// The decoded base of BAR `index` as the driver reads it from config space.
    public func barBase(_ f: PCIAddress, _ index: Int) -> UInt64 {
        let raw = configRead32(f, 0x10 + 4 * index)
        if raw & 1 != 0 { return UInt64(raw & ~0x3) }
        var base = UInt64(raw & ~0xF)
        if (raw >> 1) & 3 == 2 { base |= UInt64(configRead32(f, 0x14 + 4 * index)) << 32 }
        return base
    }

    /// Sets I/O, memory and bus-master enable, as drivers do in probe.
    public func enableDevice(_ f: PCIAddress) {
        let cmd = configRead16(f, 0x04)
        configWrite16(f, 0x04, cmd | 0x7)
    }

    // MARK: DMA memory

    /// Reserves `size` bytes of guest RAM aligned to `alignment` (a power of
    /// two) for descriptors and buffers. Buffers are never freed: a driver
    /// allocates its rings once.
    public func allocateDMA(size: Int, alignment: UInt64 = 16) throws(DriverError) -> UInt64 {
        let a = max(alignment, 1)
        let base = (nextDMA + a - 1) & ~(a - 1)
        let (end, overflow) = base.addingReportingOverflow(UInt64(max(size, 0)))
        guard !overflow, end <= dmaLimit else { throw .dma("out of DMA memory (\(size) bytes wanted)") }
        nextDMA = end
        try? memory.fill(at: base, count: size, with: 0)
        return base
    }

    // MARK: Time

    /// Lets `nanoseconds` of virtual time pass (the card's timers run).
    public func delay(_ nanoseconds: UInt64) {
        board.advance(by: nanoseconds)
    }

    /// Polls `condition`, letting virtual time pass, for up to `timeout` ns.
    public func wait(timeout: UInt64, until condition: () -> Bool) -> Bool {
        board.run(until: condition, timeout: timeout, quantum: VirtualClock.microsecond * 10)
    }
}
