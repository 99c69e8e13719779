/// Memory handed out by the POST Memory Manager (PMM Specification 1.01):
/// blocks of extended memory from a fixed arena, each with an optional
/// handle an option ROM can find it by later.
struct PMMArena {
    struct Block {
        var address: UInt32
        var size: UInt32
        var handle: UInt32
    }

    /// Extended-memory arena: 1 MiB to 8 MiB. Low in memory, so a loader
    /// that relocates itself to the top of RAM does not copy over it.
    static let start: UInt32 = 0x10_0000
    static let end: UInt32 = 0x80_0000
    /// The "no handle" value (PMM spec: FFFFFFFFh).
    static let anonymous: UInt32 = 0xFFFF_FFFF

    private(set) var blocks: [Block] = []
    private var next = start
    /// No more blocks than this: an option ROM allocating in a loop runs out.
    static let maxBlocks = 256

    /// A block of `size` bytes aligned to `alignment` (a power of two), or nil.
    mutating func allocate(size: UInt32, alignment: UInt32, handle: UInt32, limit: UInt32) -> UInt32? {
        guard size > 0, blocks.count < Self.maxBlocks else { return nil }
        let align = max(alignment, 16)
        let base = (UInt64(next) + UInt64(align) - 1) & ~(UInt64(align) - 1)
        let end = base + UInt64(size)
        guard end <= UInt64(min(Self.end, limit)) else { return nil }
        blocks.append(Block(address: UInt32(base), size: size, handle: handle))
        next = UInt32(end)
        return UInt32(base)
    }

    func find(handle: UInt32) -> UInt32? {
        guard handle != Self.anonymous else { return nil }
        return blocks.first { $0.handle == handle }?.address
    }

    /// Frees the block at `address`; true if there was one. Space is only
    /// reclaimed when it was the last block (POST allocations are few).
    mutating func deallocate(address: UInt32) -> Bool {
        guard let i = blocks.firstIndex(where: { $0.address == address }) else { return false }
        if i == blocks.count - 1 { next = blocks[i].address }
        blocks.remove(at: i)
        return true
    }

    /// Largest block that could still be allocated.
    var largestFree: UInt32 { Self.end - next }
}
