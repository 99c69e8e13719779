import NICCore

/// Which virtio-pci interfaces the function exposes, like QEMU's
/// `disable-legacy` / `disable-modern` properties.
public enum VirtioPCIVariant: Sendable, Equatable {
    /// Legacy only (disable-modern=on): 1af4:1000, revision 0, I/O BAR.
    case legacy
    /// Transitional (the default): 1af4:1000 with both the legacy I/O BAR
    /// and the virtio 1.x capabilities.
    case transitional
    /// Modern only (disable-legacy=on): 1af4:1041, revision 1, no I/O BAR.
    case modern

    public init(disableLegacy: Bool, disableModern: Bool) {
        switch (disableLegacy, disableModern) {
        case (true, _): self = .modern
        case (false, true): self = .legacy
        case (false, false): self = .transitional
        }
    }

    public var hasLegacyInterface: Bool { self != .modern }
    public var hasModernInterface: Bool { self != .legacy }
}

/// How a virtio-net function is built: its address, interfaces and what the
/// backend lets it offer.
public struct VirtioNetConfiguration: Sendable, Equatable {
    public var macAddress: MACAddress
    public var variant: VirtioPCIVariant
    /// MSI-X vectors in the table (0: no MSI-X capability, INTx only).
    public var msixVectors: Int
    /// Size of the receive and transmit queues (QEMU: 256).
    public var queueSize: UInt16
    /// Size of the control queue (QEMU: 64).
    public var controlQueueSize: UInt16
    /// The MTU in the config space; VIRTIO_NET_F_MTU is offered when set.
    public var mtu: UInt16?
    /// Offer the control queue with RX mode, MAC table and VLAN filtering.
    public var controlQueue: Bool
    /// Offer VIRTIO_NET_F_MRG_RXBUF.
    public var mergeableReceiveBuffers: Bool
    /// Offer CSUM and GUEST_CSUM. Backends without checksum offload (pcap
    /// files, the switch, live capture) get finished checksums: the device
    /// completes partial ones in software before a frame leaves.
    public var checksumOffload: Bool
    /// Offer VIRTIO_F_RING_INDIRECT_DESC.
    public var indirectDescriptors: Bool
    /// Offer VIRTIO_F_RING_EVENT_IDX.
    public var eventIndex: Bool
    /// Offer VIRTIO_F_RING_PACKED (modern interface only; off by default,
    /// as QEMU's `packed` property is).
    public var packedRing: Bool

    public init(
        macAddress: MACAddress, variant: VirtioPCIVariant = .transitional, msixVectors: Int = 0,
        queueSize: UInt16 = 256, controlQueueSize: UInt16 = 64, mtu: UInt16? = nil,
        controlQueue: Bool = true, mergeableReceiveBuffers: Bool = true, checksumOffload: Bool = true,
        indirectDescriptors: Bool = true, eventIndex: Bool = true, packedRing: Bool = false
    ) {
        self.macAddress = macAddress
        self.variant = variant
        self.msixVectors = max(0, min(msixVectors, 64))
        self.queueSize = max(1, min(queueSize, 1024))
        self.controlQueueSize = max(1, min(controlQueueSize, 1024))
        self.mtu = mtu
        self.controlQueue = controlQueue
        self.mergeableReceiveBuffers = mergeableReceiveBuffers
        self.checksumOffload = checksumOffload
        self.indirectDescriptors = indirectDescriptors
        self.eventIndex = eventIndex
        self.packedRing = packedRing
    }

    /// The features the device offers with this configuration.
    public var offeredFeatures: VirtioFeatures {
        var f: VirtioFeatures = [.mac, .status, .anyLayout]
        if mtu != nil { f.insert(.mtu) }
        if mergeableReceiveBuffers { f.insert(.mrgRxbuf) }
        if checksumOffload { f.formUnion([.csum, .guestCsum]) }
        if controlQueue { f.formUnion([.ctrlVQ, .ctrlRx, .ctrlRxExtra, .ctrlVLAN, .ctrlMACAddr]) }
        if indirectDescriptors { f.insert(.indirectDesc) }
        if eventIndex { f.insert(.eventIdx) }
        if variant.hasModernInterface {
            f.insert(.version1)
            if packedRing { f.insert(.ringPacked) }
        }
        return f
    }
}
