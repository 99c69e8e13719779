import NICCore
import Wire

/// IPv4-to-Ethernet address mappings learnt from ARP (RFC 826), a fixed
/// number of entries, oldest replaced first. Entries do not expire: a boot
/// lasts seconds, and the PXE base code keeps its mappings for its life.
public struct ARPCache: Sendable {
    public struct Entry: Sendable, Equatable {
        public var ip: IPv4Address
        public var mac: MACAddress
    }

    public let capacity: Int
    public private(set) var entries: [Entry] = []
    private var next = 0

    public init(capacity: Int = 16) {
        self.capacity = max(1, capacity)
        entries.reserveCapacity(self.capacity)
    }

    public func lookup(_ ip: IPv4Address) -> MACAddress? {
        entries.first { $0.ip == ip }?.mac
    }

    /// Adds or refreshes a mapping.
    public mutating func update(_ ip: IPv4Address, _ mac: MACAddress) {
        guard !ip.isAny, !ip.isBroadcast, !mac.isMulticast else { return }
        if let i = entries.firstIndex(where: { $0.ip == ip }) {
            entries[i].mac = mac
        } else if entries.count < capacity {
            entries.append(Entry(ip: ip, mac: mac))
        } else {
            entries[next] = Entry(ip: ip, mac: mac)
            next = (next + 1) % capacity
        }
    }

    public mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
        next = 0
    }
}
