import NICCore

/// The receive filter the control queue programs (virtio 1.x 5.1.6.5.1
/// and 5.1.6.5.2): RX mode switches, the MAC filter table and the VLAN
/// filter. At reset the device is promiscuous, as QEMU's is, so a driver
/// without VIRTIO_NET_F_CTRL_RX receives everything.
public struct VirtioNetRxFilter: Sendable, Equatable {
    /// Entries each of the unicast and multicast tables holds; a longer
    /// list sets the overflow flag, which accepts the whole class.
    public static let macTableEntries = 64

    /// VIRTIO_NET_CTRL_RX_PROMISC.
    public var promiscuous = true
    /// VIRTIO_NET_CTRL_RX_ALLMULTI.
    public var allMulticast = false
    /// VIRTIO_NET_CTRL_RX_ALLUNI.
    public var allUnicast = false
    /// VIRTIO_NET_CTRL_RX_NOMULTI.
    public var noMulticast = false
    /// VIRTIO_NET_CTRL_RX_NOUNI.
    public var noUnicast = false
    /// VIRTIO_NET_CTRL_RX_NOBCAST.
    public var noBroadcast = false
    public internal(set) var unicastTable: [MACAddress] = []
    public internal(set) var multicastTable: [MACAddress] = []
    public internal(set) var unicastOverflow = false
    public internal(set) var multicastOverflow = false
    /// One bit per VLAN ID, 4096 bits.
    private var vlans = [UInt64](repeating: 0, count: 64)

    public init() {
        unicastTable.reserveCapacity(Self.macTableEntries)
        multicastTable.reserveCapacity(Self.macTableEntries)
    }

    /// The reset state. Without VIRTIO_NET_F_CTRL_VLAN every VLAN passes;
    /// with it, none does until the driver adds it.
    mutating func reset(vlanFiltering: Bool) {
        promiscuous = true
        allMulticast = false
        allUnicast = false
        noMulticast = false
        noUnicast = false
        noBroadcast = false
        unicastTable.removeAll(keepingCapacity: true)
        multicastTable.removeAll(keepingCapacity: true)
        unicastOverflow = false
        multicastOverflow = false
        for i in 0..<vlans.count { vlans[i] = vlanFiltering ? 0 : ~0 }
    }

    public func allowsVLAN(_ id: UInt16) -> Bool {
        let i = Int(id & 0xFFF)
        return vlans[i >> 6] & (1 << UInt64(i & 63)) != 0
    }

    mutating func setVLAN(_ id: UInt16, allowed: Bool) {
        let i = Int(id & 0xFFF)
        if allowed { vlans[i >> 6] |= 1 << UInt64(i & 63) } else { vlans[i >> 6] &= ~(1 << UInt64(i & 63)) }
    }

    /// Whether a frame (at least 14 bytes) to a device at `station` passes:
    /// promiscuous first, then the VLAN table for 802.1Q frames, then the
    /// destination's class (broadcast, multicast, unicast) with its switches
    /// and table.
    public func accepts(_ frame: UnsafeRawBufferPointer, station: MACAddress) -> Bool {
        guard frame.count >= 14, let base = frame.baseAddress else { return false }
        if promiscuous { return true }
        if frame.count >= 16, frame[12] == 0x81, frame[13] == 0x00 {
            let tci = UInt16(frame[14]) << 8 | UInt16(frame[15])
            guard allowsVLAN(tci & 0xFFF) else { return false }
        }
        let destination = MACAddress(loadingFrom: base)
        if destination.isBroadcast { return !noBroadcast }
        if destination.isMulticast {
            if noMulticast { return false }
            if allMulticast || multicastOverflow { return true }
            return multicastTable.contains(destination)
        }
        if noUnicast { return false }
        if allUnicast || unicastOverflow || destination == station { return true }
        return unicastTable.contains(destination)
    }
}

extension VirtioNet: StationFilterSource {
    /// The current MAC (config space or VIRTIO_NET_CTRL_MAC_ADDR_SET), and
    /// promiscuous mode only when the driver negotiated CTRL_RX and asked
    /// for it: the device starts promiscuous for drivers that can't
    /// program a filter, which is no request of theirs.
    public var stationFilter: StationFilter {
        StationFilter(address: currentMAC, promiscuous: negotiatedFeatures.contains(.ctrlRx) && rxFilter.promiscuous)
    }
}
