import NICCore

/// Offsets in the virtio-net device config space (struct
/// virtio_net_config, virtio 1.x 5.1.4).
public enum VirtioNetConfigField {
    /// mac[6]: valid with VIRTIO_NET_F_MAC.
    public static let mac = 0
    /// status le16: VIRTIO_NET_S_LINK_UP (1), VIRTIO_NET_S_ANNOUNCE (2);
    /// valid with VIRTIO_NET_F_STATUS.
    public static let status = 6
    /// max_virtqueue_pairs le16: valid with VIRTIO_NET_F_MQ (we report 1).
    public static let maxVirtqueuePairs = 8
    /// mtu le16: valid with VIRTIO_NET_F_MTU.
    public static let mtu = 10
    /// Bytes of the structure the device exposes.
    public static let size = 12

    /// VIRTIO_NET_S_LINK_UP.
    public static let statusLinkUp: UInt16 = 1
}

extension VirtioNet {
    /// Byte `offset` of struct virtio_net_config (0 past its end).
    func deviceConfigByte(_ offset: Int) -> UInt8 {
        typealias F = VirtioNetConfigField
        func byte(_ v: UInt16, _ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: v >> UInt16(8 * i)) }
        switch offset {
        case F.mac..<(F.mac + 6): return currentMAC[offset - F.mac]
        case F.status..<(F.status + 2): return byte(linkUp ? F.statusLinkUp : 0, offset - F.status)
        case F.maxVirtqueuePairs..<(F.maxVirtqueuePairs + 2): return byte(1, offset - F.maxVirtqueuePairs)
        case F.mtu..<(F.mtu + 2): return byte(configuration.mtu ?? 1500, offset - F.mtu)
        default: return 0
        }
    }

    /// A driver write to the config space. Only the MAC is writable, and
    /// only by a legacy driver without CTRL_MAC_ADDR (how Linux changes the
    /// address of a legacy device); everything else is read-only (5.1.4.2).
    func writeDeviceConfigByte(_ offset: Int, _ value: UInt8, legacy: Bool) {
        guard legacy, offset >= VirtioNetConfigField.mac, offset < VirtioNetConfigField.mac + 6,
              !negotiatedFeatures.contains(.ctrlMACAddr), !negotiatedFeatures.contains(.version1)
        else { return }
        let shift = UInt64(8 * (5 - offset))
        currentMAC = MACAddress(rawValue: currentMAC.rawValue & ~(0xFF << shift) | UInt64(value) << shift)
        configGeneration &+= 1
    }
}
