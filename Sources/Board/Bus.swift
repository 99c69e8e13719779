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
        /// Keeps `block` for the unretained `Window` that dispatches to it.
        var box: BlockBox
    }

    /// A block behind a final class, so that a window can hold it
    /// unretained (`Unmanaged` takes only a class) and reach it as a `let`
    /// of an object guaranteed alive, which costs no reference counting.
    private final class BlockBox {
        let block: RegisterBlock
        init(_ block: RegisterBlock) { self.block = block }
    }

    /// What a cycle needs of a region: its bounds and its block, held
    /// without a reference count so that dispatching an access copies no
    /// name and retains nothing. `regions` keeps every box alive, and
    /// `windows` is rebuilt from it whenever it changes.
    private struct Window {
        let base: UInt64
        let end: UInt64
        let box: Unmanaged<BlockBox>
    }

    public let name: String
    /// One past the highest address (0x10000 for port I/O).
    public let limit: UInt64
    @exclusivity(unchecked)
    private var regions: [Region] = []   // sorted by base
    /// Accesses no block claimed, for diagnostics.
    @exclusivity(unchecked)
    public private(set) var unclaimedAccesses = 0
    @exclusivity(unchecked)
    private var windows: ContiguousArray<Window> = []
    /// The window the last cycle hit: a driver's accesses come in runs to
    /// one device.
    @exclusivity(unchecked)
    private var lastHit = 0

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
        regions.insert(Region(mapping: Mapping(name: name, base: base, size: size), block: block, box: BlockBox(block)), at: i)
        rebuildWindows()
    }

    private func rebuildWindows() {
        windows = ContiguousArray(regions.map { Window(base: $0.mapping.base, end: $0.mapping.end, box: .passUnretained($0.box)) })
        lastHit = 0
    }

    /// Removes the mapping of `block` at `base`; no-op if there is none.
    public func unmap(_ block: RegisterBlock, at base: UInt64) {
        regions.removeAll { $0.mapping.base == base && $0.block === block }
        rebuildWindows()
    }

    /// The mapping that contains `address`, if any.
    public func mapping(containing address: UInt64) -> Mapping? {
        find(address).map { regions[$0].mapping }
    }

    public func read(_ address: UInt64, width: AccessWidth) -> UInt64 {
        guard let i = claim(address, width) else {
            unclaimedAccesses += 1
            return width.mask
        }
        let w = windows[i]
        // SAFETY: `regions` holds the box for as long as `windows` lists it.
        return w.box._withUnsafeGuaranteedRef { $0.block.read(offset: address &- w.base, width: width) } & width.mask
    }

    public func write(_ address: UInt64, width: AccessWidth, value: UInt64) {
        guard let i = claim(address, width) else {
            unclaimedAccesses += 1
            return
        }
        let w = windows[i]
        // SAFETY: `regions` holds the box for as long as `windows` lists it.
        w.box._withUnsafeGuaranteedRef { $0.block.write(offset: address &- w.base, width: width, value: value & width.mask) }
    }

    /// The window that holds the whole access, if one does.
    @inline(__always)
    private func claim(_ address: UInt64, _ width: AccessWidth) -> Int? {
        let n = windows.count
        var i = lastHit
        if i >= n || address < windows[i].base || address >= windows[i].end {
            guard let found = findWindow(address) else { return nil }
            i = found
            lastHit = i
        }
        // The access must not run past the window's end (nor wrap).
        let (last, overflow) = address.addingReportingOverflow(UInt64(width.rawValue))
        guard !overflow, last <= windows[i].end else { return nil }
        return i
    }

    private func findWindow(_ address: UInt64) -> Int? {
        var lo = 0, hi = windows.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if windows[mid].base <= address { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0, address < windows[lo - 1].end else { return nil }
        return lo - 1
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
