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

// MARK: Snapshot (in this file: the VLAN bitmap is private to it)

extension VirtioNetRxFilter {
    func save(into w: inout SnapshotWriter) {
        w.put("rxfilter.modes", bytes: [promiscuous, allMulticast, allUnicast, noMulticast, noUnicast, noBroadcast,
                                         unicastOverflow, multicastOverflow].map { $0 ? 1 : 0 })
        w.put("rxfilter.unicast", bytes: unicastTable.flatMap(\.bytes))
        w.put("rxfilter.multicast", bytes: multicastTable.flatMap(\.bytes))
        w.put("rxfilter.vlans", bytes: vlans.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } })
    }

    static func read(from r: inout SnapshotReader) throws(SnapshotError) -> VirtioNetRxFilter {
        let modes = try r.bytes("rxfilter.modes", count: 8)
        guard modes.allSatisfy({ $0 <= 1 }) else { throw SnapshotError("rx filter modes not booleans") }
        func table(_ name: String) throws(SnapshotError) -> [MACAddress] {
            let b = try r.variableBytes(name, maxCount: 6 * macTableEntries)
            guard b.count % 6 == 0 else { throw SnapshotError("rx filter \(name) not whole addresses") }
            return stride(from: 0, to: b.count, by: 6).compactMap { MACAddress(bytes: b[$0..<$0 + 6]) }
        }
        var f = VirtioNetRxFilter()
        f.unicastTable = try table("rxfilter.unicast")
        f.multicastTable = try table("rxfilter.multicast")
        let v = try r.bytes("rxfilter.vlans", count: 8 * 64)
        f.vlans = stride(from: 0, to: v.count, by: 8).map { at in (0..<8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(v[at + $1]) } }
        let m = modes.map { $0 == 1 }
        f.promiscuous = m[0]; f.allMulticast = m[1]; f.allUnicast = m[2]; f.noMulticast = m[3]; f.noUnicast = m[4]
        f.noBroadcast = m[5]; f.unicastOverflow = m[6]; f.multicastOverflow = m[7]
        return f
    }
}
