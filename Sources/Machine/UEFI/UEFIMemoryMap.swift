/// The firmware's view of RAM as UEFI pages: which ranges are allocated
/// and as what type, the rest conventional memory (GetMemoryMap,
/// AllocatePages, AllocatePool). The first megabyte is the firmware's own
/// (page tables, GDT, trap page, tables) and the UNDI drivers' DMA region
/// (16-32 MiB, see `DriverBus`) is boot-services data, so neither is ever
/// handed to the guest.
struct UEFIMemoryMap {
    struct Range {
        var start: UInt64
        var pages: UInt64
        var type: EFIMemoryType
        /// AllocatePool's allocations, so FreePool finds them by address.
        var pool: Bool = false
        var end: UInt64 { start + pages << 12 }
    }

    let ramSize: UInt64
    /// Allocated ranges, sorted by start, never overlapping.
    private(set) var allocated: [Range] = []
    /// Changes with every allocation and free (GetMemoryMap's MapKey).
    private(set) var key: UInt64 = 1

    static let firmwareEnd: UInt64 = 0x10_0000
    static let dmaRegion: Swift.Range<UInt64> = 0x100_0000..<0x200_0000

    init(ramSize: UInt64) {
        self.ramSize = ramSize
        guard ramSize > 0 else { return }
        allocated.append(Range(start: 0, pages: Self.firmwareEnd >> 12, type: .bootServicesData))
        if ramSize >= Self.dmaRegion.upperBound {
            allocated.append(Range(start: Self.dmaRegion.lowerBound, pages: UInt64(Self.dmaRegion.count) >> 12, type: .bootServicesData))
        }
    }

    /// Allocates `pages` pages: anywhere (highest free range below
    /// `maximum`), or exactly at `address`. Nil if there is no room.
    mutating func allocate(pages: UInt64, type: EFIMemoryType, maximum: UInt64 = .max, at address: UInt64? = nil,
                           pool: Bool = false) -> UInt64? {
        guard pages > 0, pages < ramSize >> 12 else { return nil }
        let size = pages << 12
        var chosen: UInt64?
        if let address {
            guard address & 0xFFF == 0, address <= ramSize, size <= ramSize - address, isFree(address, size) else { return nil }
            chosen = address
        } else {
            // Highest fit: walk the gaps between allocations from the top.
            var top = min(ramSize, maximum == .max ? ramSize : (maximum &+ 1) & ~0xFFF)
            for r in allocated.reversed() {
                if r.end <= top, top - r.end >= size {
                    chosen = top - size
                    break
                }
                top = min(top, r.start)
            }
        }
        guard let start = chosen else { return nil }
        let index = allocated.firstIndex { $0.start > start } ?? allocated.count
        allocated.insert(Range(start: start, pages: pages, type: type, pool: pool), at: index)
        key &+= 1
        return start
    }

    private func isFree(_ start: UInt64, _ size: UInt64) -> Bool {
        !allocated.contains { $0.start < start + size && start < $0.end }
    }

    /// Frees an allocation made by `allocate` that starts at `start`
    /// (with `pages` pages for FreePages; nil for FreePool).
    mutating func free(_ start: UInt64, pages: UInt64?, pool: Bool) -> Bool {
        guard let i = allocated.firstIndex(where: { $0.start == start && $0.pool == pool && (pages == nil || $0.pages == pages) }),
              allocated[i].start >= Self.firmwareEnd, !(Self.dmaRegion.contains(allocated[i].start)) else { return false }
        allocated.remove(at: i)
        key &+= 1
        return true
    }

    /// The map as descriptors: (type, start, pages), conventional memory between allocations.
    var descriptors: [(type: EFIMemoryType, start: UInt64, pages: UInt64)] {
        var out: [(EFIMemoryType, UInt64, UInt64)] = []
        var cursor: UInt64 = 0
        for r in allocated {
            if r.start > cursor { out.append((.conventional, cursor, (r.start - cursor) >> 12)) }
            if let last = out.last, last.0 == r.type, last.1 + last.2 << 12 == r.start {
                out[out.count - 1].2 += r.pages
            } else {
                out.append((r.type, r.start, r.pages))
            }
            cursor = r.end
        }
        if ramSize > cursor { out.append((.conventional, cursor, (ramSize - cursor) >> 12)) }
        return out.map { (type: $0.0, start: $0.1, pages: $0.2) }
    }
}
