/// A bounded FIFO of frames in one preallocated block, each with a release
/// time and a flag saying whether its last four bytes are an FCS. The
/// switch's delay lines and reorder windows live in these; nothing
/// allocates after `init`.
final class FrameSlots {
    let capacity: Int
    let slotSize: Int
    private let storage: UnsafeMutableRawPointer
    private let lengths: UnsafeMutablePointer<Int>
    private let deadlines: UnsafeMutablePointer<UInt64>
    private let fcsFlags: UnsafeMutablePointer<Bool>
    @exclusivity(unchecked)
    private var head = 0
    @exclusivity(unchecked)
    private(set) var count = 0

    init(capacity: Int, slotSize: Int) {
        self.capacity = max(1, capacity)
        self.slotSize = max(1, slotSize)
        storage = .allocate(byteCount: self.capacity * self.slotSize, alignment: 16)
        lengths = .allocate(capacity: self.capacity)
        lengths.initialize(repeating: 0, count: self.capacity)
        deadlines = .allocate(capacity: self.capacity)
        deadlines.initialize(repeating: 0, count: self.capacity)
        fcsFlags = .allocate(capacity: self.capacity)
        fcsFlags.initialize(repeating: false, count: self.capacity)
    }

    deinit {
        storage.deallocate()
        lengths.deallocate()
        deadlines.deallocate()
        fcsFlags.deallocate()
    }

    var isEmpty: Bool { count == 0 }
    var isFull: Bool { count == capacity }

    /// Copies a frame in at the tail. False when full or the frame is too big.
    func push(_ frame: UnsafeRawBufferPointer, deadline: UInt64, hasFCS: Bool) -> Bool {
        guard count < capacity, frame.count <= slotSize else { return false }
        let slot = (head + count) % capacity
        if let src = frame.baseAddress, frame.count > 0 {
            (storage + slot * slotSize).copyMemory(from: src, byteCount: frame.count)
        }
        lengths[slot] = frame.count
        deadlines[slot] = deadline
        fcsFlags[slot] = hasFCS
        count += 1
        return true
    }

    /// Release time of the head frame (nil when empty).
    var frontDeadline: UInt64? { count == 0 ? nil : deadlines[head] }

    /// Release time of the tail frame (nil when empty).
    var backDeadline: UInt64? { count == 0 ? nil : deadlines[(head + count - 1) % capacity] }

    /// Lends frame `i` (0 is the head) to `body`. Out-of-range `i` lends nothing.
    func withFrame(at i: Int, _ body: (UnsafeRawBufferPointer, Bool) -> Void) {
        guard i >= 0, i < count else { return }
        let slot = (head + i) % capacity
        body(UnsafeRawBufferPointer(start: storage + slot * slotSize, count: lengths[slot]), fcsFlags[slot])
    }

    /// Removes the head frame (no-op when empty).
    func pop() {
        guard count > 0 else { return }
        head = (head + 1) % capacity
        count -= 1
    }

    func removeAll() {
        head = 0
        count = 0
    }
}
