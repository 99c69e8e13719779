import NICCore

/// A virtio-net PCI function (virtio 1.x sections 4.1 and 5.1): legacy,
/// transitional or modern, with receive, transmit and control queues.
///
/// The story of the device, file by file:
/// - here: identity, state, reset, the status state machine, interrupts;
/// - `+Features`: feature negotiation;
/// - `+Legacy`: the legacy I/O BAR; `+Modern`: the virtio 1.x capabilities
///   and their memory BAR; `+PCIConfigWindow`: VIRTIO_PCI_CAP_PCI_CFG;
///   `MSIXTable`: the MSI-X table;
/// - `+DeviceConfig`: the network config space (mac, status, mtu);
/// - `+Transmit`, `+Receive`, `+Control` (with `VirtioNetRxFilter`): the
///   queues' work, over `VirtQueue` (split) and `VirtQueue+Packed`.
///
/// Guest input never traps: a queue the guest broke sets
/// DEVICE_NEEDS_RESET (`lastError` says why) and the device stops using
/// its queues until the driver resets it.
public final class VirtioNet: PCIFunction, FrameReceiver, NetworkDevice {
    /// Red Hat / Qumranet, the virtio PCI vendor.
    public static let vendorID: UInt16 = 0x1AF4
    /// Legacy and transitional network device (legacy IDs 0x1000-0x103F;
    /// the subsystem ID carries the device type).
    public static let transitionalDeviceID: UInt16 = 0x1000
    /// Modern network device: 0x1040 + device type 1.
    public static let modernDeviceID: UInt16 = 0x1041
    /// Virtio device type of a network card (legacy subsystem ID).
    public static let deviceType: UInt16 = 1

    /// Queue numbers without VIRTIO_NET_F_MQ (5.1.2).
    public enum QueueIndex {
        public static let receive = 0
        public static let transmit = 1
        public static let control = 2
    }

    /// Which BAR holds what (the same slots QEMU uses).
    public enum BARIndex {
        /// The legacy register block, I/O space.
        public static let legacy = 0
        /// The MSI-X table and pending-bit array, 32-bit memory.
        public static let msix = 1
        /// The virtio 1.x structures, 64-bit prefetchable memory.
        public static let modern = 4
    }

    public let modelName = "virtio-net"
    public let configuration: VirtioNetConfiguration
    public let config: PCIConfigSpace
    public let port: FramePort
    public var macAddress: MACAddress { configuration.macAddress }
    /// Guest RAM as this function reaches it (refused without Bus Master Enable).
    let memory: GuestMemory
    let clock: VirtualClock
    /// receiveq, transmitq and, when offered, controlq.
    public let queues: [VirtQueue]

    // MARK: Transport state

    @exclusivity(unchecked)
    public internal(set) var status: VirtioDeviceStatus = []
    public let offeredFeatures: VirtioFeatures
    /// What the driver last wrote to the driver feature bits.
    @exclusivity(unchecked)
    public internal(set) var driverFeatures: VirtioFeatures = []
    /// The features in force (set at FEATURES_OK, or by a legacy
    /// driver's Guest Features write).
    @exclusivity(unchecked)
    public internal(set) var negotiatedFeatures: VirtioFeatures = []
    @exclusivity(unchecked)
    var deviceFeatureSelect: UInt32 = 0
    @exclusivity(unchecked)
    var driverFeatureSelect: UInt32 = 0
    @exclusivity(unchecked)
    var queueSelect: UInt16 = 0
    /// ISR status: bit 0 used-buffer notification, bit 1 configuration change.
    @exclusivity(unchecked)
    public internal(set) var isr: UInt8 = 0
    /// config_generation, bumped on every change of the device config space.
    @exclusivity(unchecked)
    public internal(set) var configGeneration: UInt8 = 0
    /// MSI-X vector for configuration changes.
    @exclusivity(unchecked)
    public internal(set) var msixConfigVector: UInt16 = VirtQueue.noVector
    /// The violation that set DEVICE_NEEDS_RESET, until the next reset.
    @exclusivity(unchecked)
    public internal(set) var lastError: VirtioNetError?
    @exclusivity(unchecked)
    public internal(set) var counters = VirtioNetCounters()

    // MARK: Network state

    /// The address in the config space now (a legacy driver may write it).
    @exclusivity(unchecked)
    public internal(set) var currentMAC: MACAddress
    /// Carrier as the backend reports it.
    @exclusivity(unchecked)
    public internal(set) var linkUp = true
    /// The receive filter programmed through the control queue.
    @exclusivity(unchecked)
    public internal(set) var rxFilter = VirtioNetRxFilter()

    // MARK: MSI-X

    public let msix: MSIXTable?
    let msixCapabilityOffset: Int?
    /// Where VIRTIO_PCI_CAP_PCI_CFG sits in config space (modern interface only).
    let pciConfigWindowOffset: Int?
    /// Set while the device reads its own window bytes.
    @exclusivity(unchecked)
    var configWindowBusy = false

    // MARK: Scratch, allocated once

    /// Holds one outgoing frame: sized for the largest the device sends.
    let transmitBuffer: FrameBuffer
    let headerScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
    let controlScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: VirtioNet.maxControlBytes, alignment: 8)
    /// Largest control command (class, command, data) the device reads.
    static let maxControlBytes = 4096

    @exclusivity(unchecked)
    private(set) var legacyRegisters: VirtioLegacyRegisters?
    @exclusivity(unchecked)
    private(set) var modernRegisters: VirtioModernRegisters?

    /// - Parameters:
    ///   - configuration: address, variant and what to offer.
    ///   - memory: guest RAM; the device reaches it through its bus-master gate.
    ///   - clock: the virtual clock (the device keeps no timers today).
    public init(configuration: VirtioNetConfiguration, memory: GuestMemory, clock: VirtualClock) {
        self.configuration = configuration
        self.clock = clock
        let variant = configuration.variant
        config = PCIConfigSpace(identity: PCIIdentity(
            vendorID: VirtioNet.vendorID,
            deviceID: variant == .modern ? VirtioNet.modernDeviceID : VirtioNet.transitionalDeviceID,
            revisionID: variant == .modern ? 1 : 0,
            classCode: 0x02_00_00,
            subsystemVendorID: VirtioNet.vendorID,
            subsystemID: variant == .modern ? 0x1100 : VirtioNet.deviceType,
            interruptPin: 1))
        self.memory = BusMasterMemory(ram: memory, config: config)
        transmitBuffer = FrameBuffer(capacity: Int(configuration.mtu ?? 1500) + 18)
        // Held frames need room for the largest frame the device takes.
        port = FramePort(maxFrameSize: max(9216, Int(configuration.mtu ?? 1500) + 18))
        offeredFeatures = configuration.offeredFeatures
        var qs = [
            VirtQueue(index: QueueIndex.receive, maxSize: configuration.queueSize),
            VirtQueue(index: QueueIndex.transmit, maxSize: configuration.queueSize),
        ]
        if configuration.controlQueue {
            qs.append(VirtQueue(index: QueueIndex.control, maxSize: configuration.controlQueueSize))
        }
        queues = qs
        currentMAC = configuration.macAddress
        if configuration.msixVectors > 0 {
            msix = MSIXTable(vectors: configuration.msixVectors)
            msixCapabilityOffset = config.addCapability(
                id: MSIXTable.capabilityID, body: MSIXTable.capabilityBody(vectors: configuration.msixVectors, bar: BARIndex.msix),
                writable: [0, 0xC0])
            config.declareBAR(BARIndex.msix, .memory32(size: MSIXTable.barSize))
        } else {
            msix = nil
            msixCapabilityOffset = nil
        }
        if variant.hasLegacyInterface {
            config.declareBAR(BARIndex.legacy, .io(size: VirtioLegacyRegisters.barSize(hasMSIX: msix != nil)))
        }
        if variant.hasModernInterface {
            config.declareBAR(BARIndex.modern, .memory64(size: VirtioModernRegisters.barSize, prefetchable: true))
            pciConfigWindowOffset = VirtioModernRegisters.addCapabilities(to: config, bar: BARIndex.modern)
        } else {
            pciConfigWindowOffset = nil
        }
        headerScratch.initializeMemory(as: UInt8.self, repeating: 0)
        controlScratch.initializeMemory(as: UInt8.self, repeating: 0)
        port.receiver = self
        if variant.hasLegacyInterface { legacyRegisters = VirtioLegacyRegisters(device: self, hasMSIX: msix != nil) }
        if variant.hasModernInterface { modernRegisters = VirtioModernRegisters(device: self) }
        config.onWrite = { [unowned self] offset, width in
            self.configWritten(offset: offset, width: width)
            self.configWindowWritten(offset: offset, width: width)
        }
        config.onRead = { [unowned self] offset, width in self.configWindowRead(offset: offset, width: width) }
        msix?.isFunctionMasked = { [unowned self] in self.msixFunctionMasked }
        deviceReset()
    }

    deinit {
        headerScratch.deallocate()
        controlScratch.deallocate()
    }

    public func registers(forBAR index: Int) -> RegisterBlock? {
        switch index {
        case BARIndex.legacy: legacyRegisters
        case BARIndex.msix: msix
        case BARIndex.modern: modernRegisters
        default: nil
        }
    }

    // MARK: Reset

    /// Power-on: a device reset plus a masked, empty MSI-X table.
    public func hardwareReset() {
        msix?.reset()
        deviceReset()
    }

    /// The reset a driver asks for by writing 0 to device status (2.1.2):
    /// status, features, queues, ISR and the receive filter back to their
    /// initial values; the link state is the backend's and stays.
    public func deviceReset() {
        status = []
        driverFeatures = []
        negotiatedFeatures = []
        deviceFeatureSelect = 0
        driverFeatureSelect = 0
        queueSelect = 0
        isr = 0
        msixConfigVector = VirtQueue.noVector
        lastError = nil
        for q in queues { q.reset() }
        currentMAC = configuration.macAddress
        rxFilter.reset(vlanFiltering: false)
        updateINTx()
    }

    // MARK: Device status

    /// True while the driver has the device running and nothing broke.
    public var isRunning: Bool {
        status.contains(.driverOK) && !status.contains(.needsReset) && !status.contains(.failed)
    }

    /// A driver's write to device status, through either interface.
    func writeStatus(_ value: UInt8) {
        guard value != 0 else {
            deviceReset()
            return
        }
        var new = VirtioDeviceStatus(rawValue: value)
        if new.contains(.featuresOK) && !status.contains(.featuresOK) {
            if !acceptDriverFeatures() { new.remove(.featuresOK) }
        }
        // DEVICE_NEEDS_RESET belongs to the device: a driver can't set or clear it.
        if status.contains(.needsReset) { new.insert(.needsReset) } else { new.remove(.needsReset) }
        let starting = new.contains(.driverOK) && !status.contains(.driverOK)
        status = new
        if starting { driverDidStart() }
    }

    /// DRIVER_OK: queues may now be used; offer held frames and send what waits.
    private func driverDidStart() {
        applyNegotiatedFeatures()
        guard isRunning else { return }
        port.pump()
        processTransmitQueue()
        processControlQueue()
    }

    /// A fatal violation: DEVICE_NEEDS_RESET, a configuration-change
    /// interrupt so the driver notices, and no further queue work.
    func fail(_ error: VirtioNetError) {
        guard !status.contains(.needsReset) else { return }
        lastError = error
        status.insert(.needsReset)
        raiseConfigInterrupt()
    }

    // MARK: Notifications from the driver

    /// The driver kicked queue `index`.
    func notify(queue index: Int) {
        counters.notifications += 1
        guard isRunning else { return }
        switch index {
        case QueueIndex.receive: port.pump()
        case QueueIndex.transmit: processTransmitQueue()
        case QueueIndex.control where queues.count > QueueIndex.control: processControlQueue()
        default: break
        }
    }

    /// The queue the selector names, if it exists.
    var selectedQueue: VirtQueue? {
        Int(queueSelect) < queues.count ? queues[Int(queueSelect)] : nil
    }

    // MARK: Interrupts

    /// True when the guest enabled MSI-X in the capability.
    public var msixEnabled: Bool {
        guard let o = msixCapabilityOffset else { return false }
        return config.read(offset: o + 3, width: .byte) & 0x80 != 0
    }

    var msixFunctionMasked: Bool {
        guard let o = msixCapabilityOffset else { return false }
        return config.read(offset: o + 3, width: .byte) & 0x40 != 0
    }

    /// Used buffers on `queue`: ISR bit 0 and the queue's vector or INTx.
    func raiseQueueInterrupt(_ queue: VirtQueue) {
        counters.queueInterrupts += 1
        isr |= 1
        if msixEnabled {
            msix?.signal(vector: queue.msixVector, functionMasked: msixFunctionMasked)
        } else {
            updateINTx()
        }
    }

    /// Configuration change: ISR bit 1, a new generation, the config vector or INTx.
    func raiseConfigInterrupt() {
        counters.configInterrupts += 1
        isr |= 2
        configGeneration &+= 1
        if msixEnabled {
            msix?.signal(vector: msixConfigVector, functionMasked: msixFunctionMasked)
        } else {
            updateINTx()
        }
    }

    /// Reading ISR status returns it and clears it, deasserting INTx (4.1.4.5).
    func readAndClearISR() -> UInt8 {
        let value = isr
        isr = 0
        updateINTx()
        return value
    }

    /// INTx follows ISR while MSI-X is off.
    func updateINTx() {
        config.set(asserted: isr != 0 && !msixEnabled)
    }

    private func configWritten(offset: Int, width: AccessWidth) {
        guard let o = msixCapabilityOffset, offset <= o + 3, offset + width.rawValue > o + 3 else { return }
        // MSI-X enable or function mask changed: INTx follows, pending vectors may fire.
        updateINTx()
        if msixEnabled && !msixFunctionMasked { msix?.deliverPending() }
    }

    // MARK: Link

    public func linkStateDidChange(up: Bool) {
        guard up != linkUp else { return }
        linkUp = up
        if negotiatedFeatures.contains(.status) && status.contains(.driverOK) {
            raiseConfigInterrupt()
        } else {
            configGeneration &+= 1
        }
    }
}

extension VirtioNet {
    /// A vector the driver writes to a vector register: kept if the table
    /// has it, otherwise VIRTIO_MSI_NO_VECTOR, which the driver reads back
    /// to learn the mapping failed (4.1.5.1.2).
    func acceptedVector(_ vector: UInt16) -> UInt16 {
        guard let msix, Int(vector) < msix.vectorCount else { return VirtQueue.noVector }
        return vector
    }
}
