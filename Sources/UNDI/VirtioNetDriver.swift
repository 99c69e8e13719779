import Board
import NICCore

/// The UNDI driver for virtio-net (legacy 1af4:1000, transitional, and
/// modern 1af4:1041), in the manner of iPXE's and Linux's: it uses the
/// virtio 1.x interface when the vendor capabilities are there and the
/// legacy I/O block otherwise; negotiates MAC, STATUS, MRG_RXBUF and the
/// control queue when offered; keeps the receive queue full; polls the
/// used rings. Everything goes through `DriverBus`.
public final class VirtioNetDriver: NICDriver {
    /// Driver choices; the defaults are what a boot ROM wants.
    public struct Options: Sendable {
        /// Use the virtio 1.x interface when the device has it.
        public var preferModern = true
        /// Negotiate MRG_RXBUF when offered: one descriptor per receive
        /// buffer, so twice the buffers for the same ring.
        public var mergeableBuffers = true
        /// Receive buffer size with MRG_RXBUF (header included). A frame
        /// that does not fit spans several buffers.
        public var mergeableBufferSize = 1536
        /// Negotiate the control queue for RX filtering when offered.
        public var controlQueue = true
        /// Largest ring the driver sets up.
        public var maxQueueSize: UInt16 = 256
        /// Negotiate VIRTIO_F_RING_EVENT_IDX when offered, as Linux does.
        public var eventIndex = true
        public init() {}
    }

    enum Feature {
        static let mac: UInt64 = 1 << 5
        static let mrgRxbuf: UInt64 = 1 << 15
        static let status: UInt64 = 1 << 16
        static let ctrlVQ: UInt64 = 1 << 17
        static let ctrlRx: UInt64 = 1 << 18
        static let ctrlRxExtra: UInt64 = 1 << 20
        static let ctrlMACAddr: UInt64 = 1 << 23
        static let eventIdx: UInt64 = 1 << 29
        static let version1: UInt64 = 1 << 32
    }

    enum Status {
        static let acknowledge: UInt8 = 1
        static let driver: UInt8 = 2
        static let driverOK: UInt8 = 4
        static let featuresOK: UInt8 = 8
        static let needsReset: UInt8 = 64
        static let failed: UInt8 = 128
    }

    static let receiveQueue: UInt16 = 0
    static let transmitQueue: UInt16 = 1
    static let controlQueue: UInt16 = 2
    /// Largest frame the driver sends or expects, without FCS, with one VLAN tag.
    static let frameBufferSize = 1518

    public let name = "virtio-net"
    public let bus: DriverBus
    public let options: Options
    @exclusivity(unchecked)
    public private(set) var info: NICInfo
    @exclusivity(unchecked)
    public private(set) var permanentAddress: MACAddress = .zero
    @exclusivity(unchecked)
    public private(set) var stationAddress: MACAddress = .zero
    public let maxFrameSize = 1514
    @exclusivity(unchecked)
    public internal(set) var statistics = DriverStatistics()
    /// The features in force after `open`.
    @exclusivity(unchecked)
    public private(set) var negotiatedFeatures: UInt64 = 0
    /// Which interface the driver uses (valid after `probe`).
    public var usesModernInterface: Bool { transport?.isModern ?? false }

    private let requestedAddress: PCIAddress?
    @exclusivity(unchecked)
    var transport: VirtioDriverTransport?
    @exclusivity(unchecked)
    var rx: VirtioDriverRing?
    @exclusivity(unchecked)
    var tx: VirtioDriverRing?
    @exclusivity(unchecked)
    var ctrl: VirtioDriverRing?
    /// Guest buffers: receive area, transmit slots, control command area.
    @exclusivity(unchecked)
    var rxBuffers: UInt64 = 0
    @exclusivity(unchecked)
    var rxBufferSize = 0
    @exclusivity(unchecked)
    var rxBufferCount = 0
    @exclusivity(unchecked)
    var txBuffers: UInt64 = 0
    @exclusivity(unchecked)
    var txHeaders: UInt64 = 0
    @exclusivity(unchecked)
    var txSlotCount = 0
    @exclusivity(unchecked)
    var txFreeSlots: [UInt16] = []
    /// Slot `s` is in flight (the device has it): guards against a device
    /// that returns a slot twice.
    @exclusivity(unchecked)
    var txInFlight: [Bool] = []
    @exclusivity(unchecked)
    var ctrlBuffer: UInt64 = 0
    @exclusivity(unchecked)
    var headerLength = 12
    @exclusivity(unchecked)
    var isOpen = false
    @exclusivity(unchecked)
    var softwareFilter: ReceiveFilter = [.directed, .broadcast]
    @exclusivity(unchecked)
    var softwareMulticast: [MACAddress] = []
    @exclusivity(unchecked)
    var interruptCauses: UInt8 = 0

    /// - Parameter address: the function to drive; nil to take the first
    ///   virtio-net function on bus 0.
    public init(bus: DriverBus, address: PCIAddress? = nil, options: Options = Options()) {
        self.bus = bus
        self.options = options
        requestedAddress = address
        info = NICInfo(bus: .pci(address ?? PCIAddress(device: 0)), vendorID: 0x1AF4, deviceID: 0x1000)
    }

    // MARK: Probe

    public func probe() throws(DriverError) {
        let candidates = bus.findPCI(vendor: 0x1AF4, device: 0x1000) + bus.findPCI(vendor: 0x1AF4, device: 0x1041)
        let address: PCIAddress
        if let requestedAddress {
            guard candidates.contains(requestedAddress) else { throw .deviceNotFound("no virtio-net function at \(requestedAddress)") }
            address = requestedAddress
        } else {
            guard let first = candidates.sorted().first else { throw .deviceNotFound("no virtio-net function (1af4:1000 or 1af4:1041)") }
            address = first
        }
        // Legacy IDs 0x1000-0x103F carry the device type in the subsystem ID.
        let deviceID = bus.configRead16(address, 0x02)
        if deviceID == 0x1000 && bus.configRead16(address, 0x2E) != 1 {
            throw .deviceNotFound("1af4:1000 at \(address) is not a network device")
        }
        bus.enableDevice(address)
        let modern = options.preferModern ? findModernLayout(address) : nil
        if let modern {
            transport = VirtioModernDriverTransport(bus: bus, layout: modern)
        } else {
            let bar0 = bus.configRead32(address, 0x10)
            guard bar0 & 1 != 0 else { throw .deviceNotFound("virtio-net at \(address) has neither capabilities nor a legacy I/O BAR") }
            transport = VirtioLegacyDriverTransport(bus: bus, ioBase: UInt16(truncatingIfNeeded: bar0 & ~3))
        }
        info = NICInfo(
            bus: .pci(address), vendorID: 0x1AF4, deviceID: deviceID,
            subsystemVendorID: bus.configRead16(address, 0x2C), subsystemID: bus.configRead16(address, 0x2E),
            classCode: bus.configRead32(address, 0x08) >> 8, revision: bus.configRead8(address, 0x08),
            ioBase: modern == nil ? UInt16(truncatingIfNeeded: bus.configRead32(address, 0x10) & ~3) : 0,
            irq: bus.configRead8(address, 0x3C))
        try resetDevice()
        guard let transport else { return }
        transport.writeStatus(Status.acknowledge)
        transport.writeStatus(Status.acknowledge | Status.driver)
        if transport.deviceFeatures() & Feature.mac != 0 {
            permanentAddress = readConfigMAC()
        } else {
            // No MAC offered: a locally administered one, stable per slot.
            permanentAddress = MACAddress.locallyAdministered(seed: UInt64(address.bdf))
        }
        stationAddress = permanentAddress
        try resetDevice()
        try allocateRings()
    }

    /// Walks the capability list for the four virtio vendor capabilities.
    private func findModernLayout(_ address: PCIAddress) -> VirtioModernLayout? {
        guard bus.configRead16(address, 0x06) & 0x10 != 0 else { return nil }
        var common: UInt64?, notify: UInt64?, isr: UInt64?, device: UInt64?
        var multiplier: UInt32 = 0
        var pointer = Int(bus.configRead8(address, 0x34) & 0xFC)
        var steps = 0
        while pointer >= 0x40, steps < 48 {
            steps += 1
            if bus.configRead8(address, pointer) == 0x09 {
                let type = bus.configRead8(address, pointer + 3)
                let bar = Int(bus.configRead8(address, pointer + 4))
                let offset = UInt64(bus.configRead32(address, pointer + 8))
                if bar < 6 {
                    let base = bus.barBase(address, bar) + offset
                    switch type {
                    case 1: common = common ?? base
                    case 2:
                        if notify == nil {
                            notify = base
                            multiplier = bus.configRead32(address, pointer + 16)
                        }
                    case 3: isr = isr ?? base
                    case 4: device = device ?? base
                    default: break
                    }
                }
            }
            pointer = Int(bus.configRead8(address, pointer + 1) & 0xFC)
        }
        guard let common, let notify, let isr, let device else { return nil }
        return VirtioModernLayout(common: common, notify: notify, notifyMultiplier: multiplier, isr: isr, device: device)
    }

    func readConfigMAC() -> MACAddress {
        guard let transport else { return .zero }
        return MACAddress(transport.readConfig(0), transport.readConfig(1), transport.readConfig(2),
                          transport.readConfig(3), transport.readConfig(4), transport.readConfig(5))
    }

    /// Writes 0 to device status and waits for it to read back 0 (4.1.4.3.2).
    func resetDevice() throws(DriverError) {
        guard let transport else { throw .deviceNotFound("virtio-net not probed") }
        transport.writeStatus(0)
        let done = bus.wait(timeout: VirtualClock.second) { transport.readStatus() == 0 }
        guard done else { throw .timeout("virtio-net reset") }
        interruptCauses = 0
    }

    /// Rings and buffers, once: DMA memory is never given back.
    private func allocateRings() throws(DriverError) {
        guard rx == nil, let transport else { return }
        func ring(_ index: UInt16) throws(DriverError) -> VirtioDriverRing? {
            transport.selectQueue(index)
            let max = transport.queueMaxSize()
            guard max > 0 else { return nil }
            // Legacy rings have the device's size; modern ones may be smaller.
            let size = transport.isModern ? min(max, options.maxQueueSize) : max
            let base = try bus.allocateDMA(size: VirtioDriverRing.bytes(size: size), alignment: 4096)
            return VirtioDriverRing(index: index, size: size, base: base, memory: bus.memory)
        }
        guard let rxRing = try ring(Self.receiveQueue), let txRing = try ring(Self.transmitQueue) else {
            throw .deviceNotFound("virtio-net without receive and transmit queues")
        }
        rx = rxRing
        tx = txRing
        ctrl = try ring(Self.controlQueue)
        // Receive: enough room for either layout (two descriptors per
        // buffer without MRG_RXBUF, one with it).
        rxBufferSize = max(options.mergeableBufferSize, 12 + Self.frameBufferSize)
        rxBuffers = try bus.allocateDMA(size: Int(rxRing.size) * rxBufferSize, alignment: 64)
        txSlotCount = Int(txRing.size / 2)
        txHeaders = try bus.allocateDMA(size: txSlotCount * 16, alignment: 16)
        txBuffers = try bus.allocateDMA(size: txSlotCount * Self.frameBufferSize, alignment: 64)
        txFreeSlots.reserveCapacity(txSlotCount)
        txInFlight = Array(repeating: false, count: txSlotCount)
        ctrlBuffer = try bus.allocateDMA(size: 1024, alignment: 16)
    }

    // MARK: Open and close

    public func open(filter: ReceiveFilter, multicast: [MACAddress]) throws(DriverError) {
        guard let transport, let rx, let tx else { throw .deviceNotFound("virtio-net not probed") }
        try resetDevice()
        transport.writeStatus(Status.acknowledge)
        transport.writeStatus(Status.acknowledge | Status.driver)
        let offered = transport.deviceFeatures()
        var wanted = Feature.mac | Feature.status
        if options.mergeableBuffers { wanted |= Feature.mrgRxbuf }
        if options.controlQueue && ctrl != nil { wanted |= Feature.ctrlVQ | Feature.ctrlRx | Feature.ctrlRxExtra | Feature.ctrlMACAddr }
        if options.eventIndex { wanted |= Feature.eventIdx }
        if transport.isModern { wanted |= Feature.version1 }
        let features = offered & wanted
        transport.writeDriverFeatures(features)
        if transport.isModern {
            transport.writeStatus(Status.acknowledge | Status.driver | Status.featuresOK)
            guard transport.readStatus() & Status.featuresOK != 0 else {
                transport.writeStatus(Status.failed)
                throw .hardware("virtio-net refused features 0x\(String(features, radix: 16))")
            }
        }
        negotiatedFeatures = features
        headerLength = features & (Feature.mrgRxbuf | Feature.version1) != 0 ? 12 : 10

        try rx.reset()
        try tx.reset()
        for ring in [rx, tx, ctrl].compactMap({ $0 }) { ring.eventIndex = features & Feature.eventIdx != 0 }
        try activate(rx)
        try activate(tx)
        if let ctrl, features & Feature.ctrlVQ != 0 {
            try ctrl.reset()
            try activate(ctrl)
        }
        fillReceiveQueue(rx)
        prepareTransmitSlots(tx)

        let base = Status.acknowledge | Status.driver | (transport.isModern ? Status.featuresOK : 0)
        transport.writeStatus(base | Status.driverOK)
        guard transport.readStatus() & Status.needsReset == 0 else { throw .hardware("virtio-net needs reset after DRIVER_OK") }
        _ = rx.shouldKick()
        transport.notify(Self.receiveQueue)
        isOpen = true
        if stationAddress != permanentAddress { try setStationAddress(stationAddress) }
        try setReceiveFilter(filter, multicast: multicast)
    }

    private func activate(_ ring: VirtioDriverRing) throws(DriverError) {
        guard let transport else { return }
        transport.selectQueue(ring.index)
        transport.activateQueue(ring)
    }

    public func close() {
        isOpen = false
        try? resetDevice()
    }

    public func shutdown() {
        close()
    }

    public var linkUp: Bool {
        guard let transport, negotiatedFeatures & Feature.status != 0 else { return true }
        return transport.readConfig(6) & 1 != 0
    }

    public func setStationAddress(_ address: MACAddress) throws(DriverError) {
        guard let transport else { throw .deviceNotFound("virtio-net not probed") }
        guard isOpen else {
            stationAddress = address
            return
        }
        if negotiatedFeatures & Feature.ctrlMACAddr != 0 {
            var data = address.bytes
            try controlCommand(class: 1, command: 1, data: &data)
        } else if !transport.isModern {
            for i in 0..<6 { transport.writeConfig(i, address[i]) }
        } else {
            throw .unsupported("virtio-net without CTRL_MAC_ADDR can't change its address")
        }
        stationAddress = address
    }

    // MARK: Interrupts

    public func setInterruptsEnabled(_ enabled: Bool) {
        rx?.setInterruptsSuppressed(!enabled)
        tx?.setInterruptsSuppressed(!enabled)
    }

    /// Reading ISR clears it on the device, so the causes are kept until acknowledged.
    public func interruptPending() -> Bool {
        interruptCauses |= transport?.readISR() ?? 0
        return interruptCauses != 0
    }

    public func acknowledgeInterrupts() {
        interruptCauses = 0
    }

    public func clearStatistics() {
        statistics = DriverStatistics()
    }
}
