import NICCore

/// The learning switch's filtering database (IEEE 802.1D §7.9): source
/// address to port, each entry aged out `agingTime` after it was last
/// heard from. The entries form a list in the order they were last heard
/// from, so the one that ages out next is always at its head: learning,
/// refreshing, looking up and ageing cost the same however full the table
/// is, and the table never holds more than `capacity` entries (their slots
/// are reused, not reallocated).
struct MACTable {
    struct Entry {
        var address: MACAddress
        var port: Int
        var lastSeen: UInt64
        /// Neighbours in the last-heard order (slot indices, -1 for none).
        var older: Int
        var newer: Int
    }

    let capacity: Int
    let agingTime: UInt64
    private var index: [MACAddress: Int] = [:]
    private var slots: [Entry] = []
    private var freeSlots: [Int] = []
    /// Heard from longest ago, and most recently.
    private var oldest = -1
    private var newest = -1
    /// Entries looked at to find aged-out ones (ageing is O(entries aged out)).
    private(set) var entriesExamined = 0

    init(capacity: Int, agingTime: UInt64) {
        self.capacity = max(1, capacity)
        self.agingTime = agingTime
        index.reserveCapacity(min(self.capacity, 1024))
        slots.reserveCapacity(min(self.capacity, 1024))
    }

    var count: Int { index.count }

    private func isExpired(_ e: Entry, now: UInt64) -> Bool {
        now &- e.lastSeen >= agingTime
    }

    /// The port `address` was last heard on, unless its entry aged out.
    func port(for address: MACAddress, now: UInt64) -> Int? {
        guard let i = index[address], !isExpired(slots[i], now: now) else { return nil }
        return slots[i].port
    }

    /// True when `address` has an entry, aged out or not.
    func contains(_ address: MACAddress) -> Bool { index[address] != nil }

    /// Records `address` on `port` now. A full table first drops entries
    /// that have aged out (from the head); if none has, the address is not
    /// learned and false is returned.
    mutating func learn(_ address: MACAddress, on port: Int, now: UInt64) -> Bool {
        if let i = index[address] {
            slots[i].port = port
            slots[i].lastSeen = now
            moveToNewest(i)
            return true
        }
        if index.count >= capacity {
            removeExpired(now: now)
            guard index.count < capacity else { return false }
        }
        let entry = Entry(address: address, port: port, lastSeen: now, older: newest, newer: -1)
        let i: Int
        if let free = freeSlots.popLast() {
            slots[free] = entry
            i = free
        } else {
            slots.append(entry)
            i = slots.count - 1
        }
        index[address] = i
        linkAsNewest(i)
        return true
    }

    mutating func remove(_ address: MACAddress) {
        guard let i = index.removeValue(forKey: address) else { return }
        unlink(i)
        freeSlots.append(i)
    }

    /// Drops the aged-out entries: they are all at the head.
    mutating func removeExpired(now: UInt64) {
        while oldest >= 0 {
            entriesExamined += 1
            guard isExpired(slots[oldest], now: now) else { return }
            remove(slots[oldest].address)
        }
    }

    /// Drops every entry on `port` (its link went down). O(entries), as
    /// rare as a link going down.
    mutating func removeAll(on port: Int) {
        var i = oldest
        while i >= 0 {
            let next = slots[i].newer
            if slots[i].port == port { remove(slots[i].address) }
            i = next
        }
    }

    /// Entries not aged out: the aged-out ones are a run at the head.
    func liveCount(now: UInt64) -> Int {
        var expired = 0
        var i = oldest
        while i >= 0, isExpired(slots[i], now: now) {
            expired += 1
            i = slots[i].newer
        }
        return index.count - expired
    }

    // MARK: The last-heard list

    private mutating func linkAsNewest(_ i: Int) {
        slots[i].older = newest
        slots[i].newer = -1
        if newest >= 0 { slots[newest].newer = i } else { oldest = i }
        newest = i
    }

    private mutating func unlink(_ i: Int) {
        let (o, n) = (slots[i].older, slots[i].newer)
        if o >= 0 { slots[o].newer = n } else { oldest = n }
        if n >= 0 { slots[n].older = o } else { newest = o }
    }

    private mutating func moveToNewest(_ i: Int) {
        guard newest != i else { return }
        unlink(i)
        linkAsNewest(i)
    }
}
