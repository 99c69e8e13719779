import Synchronization

/// A single-producer, single-consumer ring of frames in one preallocated
/// block: the capture thread pushes, the Board's thread pops. The indices
/// are atomics (release on publish, acquire on observe); the slots are
/// plain memory owned by whichever side the indices say. Nothing allocates
/// after `init`.
final class FrameRing: @unchecked Sendable {
    let capacity: Int
    let slotSize: Int
    private let storage: UnsafeMutableRawPointer
    private let lengths: UnsafeMutablePointer<Int>
    /// Frames taken by the consumer (only the consumer writes it).
    private let head = Atomic<Int>(0)
    /// Frames published by the producer (only the producer writes it).
    private let tail = Atomic<Int>(0)
    /// Frames the producer dropped because the ring was full.
    let dropped = Atomic<Int>(0)

    init(capacity: Int, slotSize: Int) {
        self.capacity = max(1, capacity)
        self.slotSize = max(1, slotSize)
        storage = .allocate(byteCount: self.capacity * self.slotSize, alignment: 16)
        lengths = .allocate(capacity: self.capacity)
        lengths.initialize(repeating: 0, count: self.capacity)
    }

    deinit {
        storage.deallocate()
        lengths.deallocate()
    }

    /// Producer: copies a frame in (cut to the slot size). False when full.
    @discardableResult
    func push(_ bytes: UnsafeRawPointer, count: Int) -> Bool {
        let t = tail.load(ordering: .relaxed)
        guard t - head.load(ordering: .acquiring) < capacity else {
            dropped.add(1, ordering: .relaxed)
            return false
        }
        let slot = t % capacity
        let n = max(0, min(count, slotSize))
        (storage + slot * slotSize).copyMemory(from: bytes, byteCount: n)
        lengths[slot] = n
        tail.store(t + 1, ordering: .releasing)
        return true
    }

    /// Consumer: lends up to `limit` frames to `body` (which may change
    /// them in place), oldest first, and frees each slot after its call. Returns the number handed out.
    func drain(limit: Int, _ body: (UnsafeMutableRawBufferPointer) -> Void) -> Int {
        var h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .acquiring)
        var n = 0
        while h < t, n < limit {
            let slot = h % capacity
            body(UnsafeMutableRawBufferPointer(start: storage + slot * slotSize, count: lengths[slot]))
            h += 1
            n += 1
            head.store(h, ordering: .releasing)
        }
        return n
    }

    var isEmpty: Bool { head.load(ordering: .acquiring) == tail.load(ordering: .acquiring) }
}
