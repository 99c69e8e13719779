import NICCore
import Wire

/// The addresses the DHCP server hands out and who holds them (RFC 2131
/// section 4.3.1): a client keeps its address across requests, an offered
/// address is reserved briefly, a declined one is set aside.
///
/// Choosing an address costs O(log n) amortized however full the pool is,
/// and an exhausted pool is answered without a scan. Addresses never
/// handed out are taken in order by a cursor that passes each address
/// once; every address behind the cursor waits in a queue ordered by the
/// time it becomes free (its lease's end, its decline hold-off), so the
/// head of the queue says at once whether anything is free now. A lease
/// renewed after it was queued is re-queued when its old time comes up.
public struct LeasePool: Sendable {
    public struct Lease: Sendable, Equatable {
        public var mac: MACAddress
        public var ip: IPv4Address
        /// Virtual-clock deadline in ns.
        public var expires: UInt64
        /// False while only offered.
        public var bound: Bool
    }

    /// The largest pool nicsim manages (a /16), so its bookkeeping is bounded.
    public static let maximumSize = 65536

    public let range: ClosedRange<IPv4Address>
    public private(set) var leases: [MACAddress: Lease] = [:]
    private var holders: [IPv4Address: MACAddress] = [:]
    /// Declined addresses, with when they may be used again.
    private var declined: [IPv4Address: UInt64] = [:]
    /// Offsets below this have been passed by the cursor and are queued.
    private var cursor = 0
    /// (time the address becomes free, offset), smallest first; an entry
    /// whose time is not `queuedAt[offset]` is stale and skipped.
    private var queue = MinHeap()
    /// The time each offset is queued at; .max: not queued (at or past the cursor).
    private var queuedAt: [UInt64]
    /// Addresses looked at while choosing (tests bound it).
    private(set) var addressesExamined = 0

    public init(range: ClosedRange<IPv4Address>) {
        let upper = IPv4Address(rawValue: min(range.upperBound.rawValue, range.lowerBound.rawValue &+ UInt32(Self.maximumSize - 1)))
        self.range = range.lowerBound...max(range.lowerBound, upper)
        queuedAt = [UInt64](repeating: .max, count: Int(self.range.upperBound.rawValue - self.range.lowerBound.rawValue) + 1)
    }

    public func lease(for mac: MACAddress) -> Lease? { leases[mac] }

    /// True when `ip` is in the pool and not held by another live lease.
    public func isAvailable(_ ip: IPv4Address, for mac: MACAddress, now: UInt64) -> Bool {
        guard range.contains(ip) else { return false }
        if let until = declined[ip], until > now { return false }
        guard let holder = holders[ip], holder != mac, let other = leases[holder] else { return true }
        return other.expires <= now
    }

    /// The address to offer: the client's current one, else the one it
    /// asked for if free, else the one free longest, else the lowest never
    /// handed out. Nil when the pool is full.
    public mutating func choose(for mac: MACAddress, requested: IPv4Address?, now: UInt64) -> IPv4Address? {
        if let current = leases[mac], isAvailable(current.ip, for: mac, now: now) { return current.ip }
        if let requested, isAvailable(requested, for: mac, now: now) { return requested }
        // The queue's head: free now, or re-queued at its real time.
        while let head = queue.min, head.time <= now {
            addressesExamined += 1
            guard queuedAt[head.offset] == head.time else {
                queue.removeMin()  // stale: queued again at another time since
                continue
            }
            let ip = address(head.offset)
            let free = freeTime(ip)
            if free <= now { return ip }
            queue.removeMin()
            enqueue(head.offset, at: free)
        }
        // Then the cursor: each address it passes is queued.
        while cursor < queuedAt.count {
            addressesExamined += 1
            let ip = address(cursor)
            let free = freeTime(ip)
            if free <= now { return ip }
            enqueue(cursor, at: free)
            cursor += 1
        }
        return nil
    }

    /// Records an offer (reserved until `expires`) or a binding.
    public mutating func hold(_ ip: IPv4Address, for mac: MACAddress, until expires: UInt64, bound: Bool) {
        if let old = leases[mac], old.ip != ip {
            holders[old.ip] = nil
            freed(old.ip)
        }
        if let other = holders[ip], other != mac { leases[other] = nil }
        leases[mac] = Lease(mac: mac, ip: ip, expires: expires, bound: bound)
        holders[ip] = mac
        freed(ip)  // a shorter hold than the one queued moves it forward
    }

    public mutating func release(_ mac: MACAddress) {
        guard let old = leases.removeValue(forKey: mac) else { return }
        holders[old.ip] = nil
        freed(old.ip)
    }

    /// The client found `ip` in use (DHCPDECLINE): keep it out of the pool a while.
    public mutating func decline(_ ip: IPv4Address, by mac: MACAddress, until: UInt64) {
        release(mac)
        declined[ip] = until
        freed(ip)
    }

    // MARK: Bookkeeping

    private func address(_ offset: Int) -> IPv4Address {
        IPv4Address(rawValue: range.lowerBound.rawValue &+ UInt32(offset))
    }

    /// When `ip` becomes free for anyone: the end of its holder's lease
    /// and of its decline hold-off (0: free already).
    private func freeTime(_ ip: IPv4Address) -> UInt64 {
        var t = declined[ip] ?? 0
        if let holder = holders[ip], let lease = leases[holder] { t = max(t, lease.expires) }
        return t
    }

    /// `ip` may now become free earlier than it is queued for: queue it
    /// again at the earlier time (addresses at or past the cursor are not
    /// queued yet; the cursor will look at them).
    private mutating func freed(_ ip: IPv4Address) {
        guard range.contains(ip) else { return }
        let offset = Int(ip.rawValue - range.lowerBound.rawValue)
        guard offset < cursor else { return }
        let t = freeTime(ip)
        if t < queuedAt[offset] { enqueue(offset, at: t) }
    }

    private mutating func enqueue(_ offset: Int, at time: UInt64) {
        queuedAt[offset] = time
        queue.insert(time: time, offset: offset)
        // Stale entries pile up only when holds keep getting shorter;
        // past twice the pool, rebuild from queuedAt (amortized O(1)).
        if queue.count > 2 * queuedAt.count + 16 {
            queue = MinHeap()
            for (o, t) in queuedAt.enumerated() where t != .max { queue.insert(time: t, offset: o) }
        }
    }
}

/// A binary min-heap of (time, offset), earliest time first, lowest
/// offset among equal times.
private struct MinHeap: Sendable {
    struct Item: Sendable {
        var time: UInt64
        var offset: Int
    }

    private var items: [Item] = []

    var count: Int { items.count }
    var min: Item? { items.first }

    private static func less(_ a: Item, _ b: Item) -> Bool {
        a.time != b.time ? a.time < b.time : a.offset < b.offset
    }

    mutating func insert(time: UInt64, offset: Int) {
        items.append(Item(time: time, offset: offset))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.less(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func removeMin() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < items.count, Self.less(items[l], items[smallest]) { smallest = l }
            if r < items.count, Self.less(items[r], items[smallest]) { smallest = r }
            guard smallest != i else { return }
            items.swapAt(i, smallest)
            i = smallest
        }
    }
}
