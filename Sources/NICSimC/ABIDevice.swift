import CNICSim
import NICCatalogue
import NICCore

/// One card behind the C ABI: the catalogue's card on the emulator's
/// callbacks, with its own virtual clock. No Board: configuration space
/// and BARs are reached directly, the emulator decodes addresses.
public final class ABIDevice {
    public let card: NICCard
    public let clock = VirtualClock()
    private let memory: HostMemory
    private let line: HostInterruptLine
    private let transmitter: HostTransmitter
    /// Configuration space at power-on, for RST#.
    private let powerOnConfig: PCIConfigSpace.SnapshotState?
    /// A copy of the expansion ROM image that lives as long as the device.
    private let rom: UnsafeMutableRawBufferPointer?

    /// The largest frame `receive` offers to a card (a 64 KiB C+ or GSO frame).
    public static let maxFrame = 65535

    public init(model: String, options: String, host: nicsim_host) throws(NICCatalogueError) {
        memory = HostMemory(host: host)
        line = HostInterruptLine(host: host)
        transmitter = HostTransmitter(host: host)
        // No held frames behind the emulator's back: "no room" goes back to
        // it as -1 and it offers the frame again, as QEMU's queues do.
        card = try NICCatalogue.build(
            model: model, options: options,
            resources: NICHostResources(memory: memory, clock: clock, port: FramePort(policy: .drop)))
        powerOnConfig = card.pci?.config.capture()
        card.port.transmitter = transmitter
        card.connectInterrupt(line)
        if let msi = host.msi {
            let opaque = host.opaque
            card.connectMessages { address, data in msi(opaque, address, data) }
        }
        if let image = card.expansionROMImage, !image.isEmpty {
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: image.count, alignment: 16)
            copy.copyBytes(from: image)
            rom = copy
        } else {
            rom = nil
        }
    }

    deinit { rom?.deallocate() }

    // MARK: Configuration space

    public func configRead(offset: UInt32, width: UInt32) -> UInt32 {
        guard let width = Self.width(width, max: 4) else { return ~0 }
        guard let config = card.pci?.config, offset < 4096 else { return UInt32(truncatingIfNeeded: width.mask) }
        return config.read(offset: Int(offset), width: width)
    }

    public func configWrite(offset: UInt32, width: UInt32, value: UInt32) {
        guard let width = Self.width(width, max: 4), let config = card.pci?.config, offset < 4096 else { return }
        config.write(offset: Int(offset), width: width, value: value & UInt32(truncatingIfNeeded: width.mask))
    }

    // MARK: BARs

    /// The block behind `bar` and the window the bus decodes for it (the
    /// BAR's size, as the Board maps it; an ISA card's port count).
    private func window(_ bar: Int32) -> (RegisterBlock, UInt64)? {
        guard bar >= 0, bar < 6, let block = card.registers(forBAR: Int(bar)) else { return nil }
        if let config = card.pci?.config {
            guard let declared = config.bars[Int(bar)] else { return nil }
            return (block, declared.size)
        }
        return (block, block.size)
    }

    public func barRead(bar: Int32, offset: UInt64, width: UInt32) -> UInt64 {
        guard let width = Self.width(width, max: 8) else { return ~0 }
        guard let (block, size) = window(bar), Self.fits(offset, width, size) else { return width.mask }
        return block.read(offset: offset, width: width) & width.mask
    }

    public func barWrite(bar: Int32, offset: UInt64, width: UInt32, value: UInt64) {
        guard let width = Self.width(width, max: 8), let (block, size) = window(bar), Self.fits(offset, width, size) else { return }
        block.write(offset: offset, width: width, value: value & width.mask)
    }

    // MARK: Wire

    public func receive(_ frame: UnsafeRawBufferPointer) -> Int32 {
        guard frame.count > 0, frame.count <= Self.maxFrame, frame.baseAddress != nil else { return 0 }
        guard card.port.isLinkUp, let receiver = card.port.receiver else { return 0 }
        switch receiver.receive(frame: frame) {
        case .accepted: return 1
        case .filtered: return 0
        case .noRoom: return -1
        }
    }

    /// Link up and the receiver running (a hint: `receive` may still say no room).
    public var canReceive: Bool { card.port.isLinkUp && card.port.receiver != nil && card.readiness.mightReceive }

    public func setLink(up: Bool) {
        card.port.setLink(up: up)
    }

    // MARK: Time and reset

    /// Fires every timer due up to `now` and returns the next deadline, or -1.
    public func advance(to now: Int64) -> Int64 {
        if now > 0 { clock.advance(to: UInt64(now)) }
        guard let next = clock.nextDeadline else { return -1 }
        return next > UInt64(Int64.max) ? Int64.max : Int64(next)
    }

    /// RST#: configuration space as at power-on (command, BARs, capability
    /// enables such as MSI-X's), then the model's power-on state.
    public func reset() {
        if let config = card.pci?.config, let powerOnConfig {
            config.apply(powerOnConfig)
        }
        card.device.hardwareReset()
    }

    // MARK: Snapshots

    /// The card's snapshot.
    public func saveSnapshot() -> [UInt8] {
        card.snapshots.saveSnapshot()
    }

    /// Restores a snapshot; on a throw nothing changed.
    public func loadSnapshot(_ bytes: UnsafeRawBufferPointer) throws(SnapshotError) {
        try card.snapshots.loadSnapshot(bytes)
    }

    public var romImage: UnsafeRawBufferPointer? { rom.map { UnsafeRawBufferPointer($0) } }

    // MARK: Argument checks

    static func width(_ bytes: UInt32, max: Int) -> AccessWidth? {
        guard let w = AccessWidth(bytes: Int(bytes)), w.rawValue <= max else { return nil }
        return w
    }

    static func fits(_ offset: UInt64, _ width: AccessWidth, _ size: UInt64) -> Bool {
        offset < size && size - offset >= UInt64(width.rawValue)
    }
}
