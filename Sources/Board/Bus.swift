import NICCore

/// Why a range could not be mapped on a bus.
public enum BusError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The range overlaps `existing`, already mapped at `base`.
    case overlap(name: String, existing: String, base: UInt64)
    /// The range is empty or runs past the end of the address space.
    case outOfSpace(name: String, base: UInt64, size: UInt64)

    public var description: String {
        switch self {
        case .overlap(let n, let e, let b):
            "cannot map \(n): overlaps \(e) at 0x\(String(b, radix: 16))"
        case .outOfSpace(let n, let b, let s):
            "cannot map \(n): 0x\(String(b, radix: 16)) + 0x\(String(s, radix: 16)) is outside the address space"
        }
    }
}

/// One address space (port I/O or memory) with register blocks mapped into it.
///
/// Ranges never overlap: `map` refuses a range that touches one already
/// mapped. An access that no block claims whole (nothing mapped there, or
/// it straddles a block's end) is an unclaimed cycle: reads return all-ones
/// of the access width and writes are dropped, as on a PC bus.
public final class Bus {
    public struct Mapping: Sendable, Equatable {
        public let name: String
        public let base: UInt64
        public let size: UInt64
        public var end: UInt64 { base + size }
    }

    private struct Region {
        var mapping: Mapping
        var block: RegisterBlock
    }

    public let name: String
    /// One past the highest address (0x10000 for port I/O).
    public let limit: UInt64
    private var regions: [Region] = []   // sorted by base
    /// Accesses no block claimed, for diagnostics.
    public private(set) var unclaimedAccesses = 0

    public init(name: String, limit: UInt64) {
        self.name = name
        self.limit = limit
    }

    public var mappings: [Mapping] { regions.map(\.mapping) }

    /// Maps `block` at `base`, covering `size` bytes (default: the block's size).
    public func map(_ block: RegisterBlock, at base: UInt64, size: UInt64? = nil, name: String) throws(BusError) {
        let size = size ?? block.size
        let (end, overflow) = base.addingReportingOverflow(size)
        guard size > 0, !overflow, end <= limit else {
            throw .outOfSpace(name: name, base: base, size: size)
        }
        let i = insertionIndex(for: base)
        if i > 0, regions[i - 1].mapping.end > base {
            throw .overlap(name: name, existing: regions[i - 1].mapping.name, base: regions[i - 1].mapping.base)
        }
        if i < regions.count, regions[i].mapping.base < end {
            throw .overlap(name: name, existing: regions[i].mapping.name, base: regions[i].mapping.base)
        }
        regions.insert(Region(mapping: Mapping(name: name, base: base, size: size), block: block), at: i)
    }

    /// Removes the mapping of `block` at `base`; no-op if there is none.
    public func unmap(_ block: RegisterBlock, at base: UInt64) {
        regions.removeAll { $0.mapping.base == base && $0.block === block }
    }

    /// The mapping that contains `address`, if any.
    public func mapping(containing address: UInt64) -> Mapping? {
        find(address).map { regions[$0].mapping }
    }

    public func read(_ address: UInt64, width: AccessWidth) -> UInt64 {
        guard let (region, offset) = claim(address, width) else {
            unclaimedAccesses += 1
            return width.mask
        }
        return region.block.read(offset: offset, width: width) & width.mask
    }

    public func write(_ address: UInt64, width: AccessWidth, value: UInt64) {
        guard let (region, offset) = claim(address, width) else {
            unclaimedAccesses += 1
            return
        }
        region.block.write(offset: offset, width: width, value: value & width.mask)
    }

    private func claim(_ address: UInt64, _ width: AccessWidth) -> (Region, UInt64)? {
        guard let i = find(address) else { return nil }
        let r = regions[i]
        let offset = address - r.mapping.base
        guard offset + UInt64(width.rawValue) <= r.mapping.size else { return nil }
        return (r, offset)
    }

    private func insertionIndex(for base: UInt64) -> Int {
        var lo = 0, hi = regions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if regions[mid].mapping.base < base { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    private func find(_ address: UInt64) -> Int? {
        var lo = 0, hi = regions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if regions[mid].mapping.base <= address { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return nil }
        let r = regions[lo - 1].mapping
        return address < r.end ? lo - 1 : nil
    }
}
