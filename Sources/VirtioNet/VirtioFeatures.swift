/// Feature bits a virtio-net device offers and a driver accepts (virtio 1.x
/// sections 5.1.3 "Feature bits" and 6 "Reserved Feature Bits").
///
/// Bits 0-23 are network-device specific, 24-40 belong to the transport and
/// the ring layout. The legacy interface carries only bits 0-31.
public struct VirtioFeatures: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// VIRTIO_NET_F_CSUM (0): the device completes partial checksums on transmit.
    public static let csum = VirtioFeatures(rawValue: 1 << 0)
    /// VIRTIO_NET_F_GUEST_CSUM (1): the driver handles partial checksums on receive.
    public static let guestCsum = VirtioFeatures(rawValue: 1 << 1)
    /// VIRTIO_NET_F_CTRL_GUEST_OFFLOADS (2).
    public static let ctrlGuestOffloads = VirtioFeatures(rawValue: 1 << 2)
    /// VIRTIO_NET_F_MTU (3): the `mtu` config field is valid.
    public static let mtu = VirtioFeatures(rawValue: 1 << 3)
    /// VIRTIO_NET_F_MAC (5): the `mac` config field is valid.
    public static let mac = VirtioFeatures(rawValue: 1 << 5)
    /// VIRTIO_NET_F_GUEST_TSO4 (7).
    public static let guestTSO4 = VirtioFeatures(rawValue: 1 << 7)
    /// VIRTIO_NET_F_HOST_TSO4 (11).
    public static let hostTSO4 = VirtioFeatures(rawValue: 1 << 11)
    /// VIRTIO_NET_F_MRG_RXBUF (15): a received frame may span several buffers.
    public static let mrgRxbuf = VirtioFeatures(rawValue: 1 << 15)
    /// VIRTIO_NET_F_STATUS (16): the `status` config field (link state) is valid.
    public static let status = VirtioFeatures(rawValue: 1 << 16)
    /// VIRTIO_NET_F_CTRL_VQ (17): the control virtqueue exists.
    public static let ctrlVQ = VirtioFeatures(rawValue: 1 << 17)
    /// VIRTIO_NET_F_CTRL_RX (18): RX mode commands on the control queue.
    public static let ctrlRx = VirtioFeatures(rawValue: 1 << 18)
    /// VIRTIO_NET_F_CTRL_VLAN (19): VLAN filter commands on the control queue.
    public static let ctrlVLAN = VirtioFeatures(rawValue: 1 << 19)
    /// VIRTIO_NET_F_CTRL_RX_EXTRA (20): ALLUNI, NOMULTI, NOUNI, NOBCAST.
    public static let ctrlRxExtra = VirtioFeatures(rawValue: 1 << 20)
    /// VIRTIO_NET_F_GUEST_ANNOUNCE (21).
    public static let guestAnnounce = VirtioFeatures(rawValue: 1 << 21)
    /// VIRTIO_NET_F_MQ (22).
    public static let mq = VirtioFeatures(rawValue: 1 << 22)
    /// VIRTIO_NET_F_CTRL_MAC_ADDR (23): MAC_ADDR_SET on the control queue.
    public static let ctrlMACAddr = VirtioFeatures(rawValue: 1 << 23)
    /// VIRTIO_F_NOTIFY_ON_EMPTY (24), legacy only.
    public static let notifyOnEmpty = VirtioFeatures(rawValue: 1 << 24)
    /// VIRTIO_F_ANY_LAYOUT (27): headers need not sit in their own descriptor.
    public static let anyLayout = VirtioFeatures(rawValue: 1 << 27)
    /// VIRTIO_F_RING_INDIRECT_DESC (28): indirect descriptor tables.
    public static let indirectDesc = VirtioFeatures(rawValue: 1 << 28)
    /// VIRTIO_F_RING_EVENT_IDX (29): used_event / avail_event suppression.
    public static let eventIdx = VirtioFeatures(rawValue: 1 << 29)
    /// VIRTIO_F_VERSION_1 (32): the virtio 1.x interface (modern only).
    public static let version1 = VirtioFeatures(rawValue: 1 << 32)
    /// VIRTIO_F_ACCESS_PLATFORM (33).
    public static let accessPlatform = VirtioFeatures(rawValue: 1 << 33)
    /// VIRTIO_F_RING_PACKED (34).
    public static let ringPacked = VirtioFeatures(rawValue: 1 << 34)

    /// The 32-bit window selected by a feature-select register.
    public func word(_ select: UInt32) -> UInt32 {
        switch select {
        case 0: UInt32(truncatingIfNeeded: rawValue)
        case 1: UInt32(truncatingIfNeeded: rawValue >> 32)
        default: 0
        }
    }

    /// This set with the 32-bit window `select` replaced by `value`.
    public func replacingWord(_ select: UInt32, with value: UInt32) -> VirtioFeatures {
        switch select {
        case 0: VirtioFeatures(rawValue: rawValue & 0xFFFF_FFFF_0000_0000 | UInt64(value))
        case 1: VirtioFeatures(rawValue: rawValue & 0xFFFF_FFFF | UInt64(value) << 32)
        default: self
        }
    }
}
