/// A bounded FIFO of frames in one preallocated block: `capacity` slots of
/// `maxFrameSize` bytes each. Pushing copies into the next slot; nothing
/// allocates after `init`.
public final class FrameQueue {
    public let capacity: Int
    public let maxFrameSize: Int
    private let storage: UnsafeMutableRawPointer
    private let lengths: UnsafeMutablePointer<Int>
    @exclusivity(unchecked)
    private var head = 0
    @exclusivity(unchecked)
    public private(set) var count = 0

    public init(capacity: Int, maxFrameSize: Int) {
        precondition(capacity > 0 && maxFrameSize > 0)
        self.capacity = capacity
        self.maxFrameSize = maxFrameSize
        storage = .allocate(byteCount: capacity * maxFrameSize, alignment: 16)
        lengths = .allocate(capacity: capacity)
        lengths.initialize(repeating: 0, count: capacity)
    }

    deinit {
        storage.deallocate()
        lengths.deallocate()
    }

    public var isEmpty: Bool { count == 0 }
    public var isFull: Bool { count == capacity }

    /// Copies `frame` in at the tail. False (and nothing changes) when the
    /// queue is full or the frame is larger than a slot.
    @discardableResult
    public func push(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard count < capacity, frame.count <= maxFrameSize else { return false }
        let slot = (head + count) % capacity
        if let src = frame.baseAddress, frame.count > 0 {
            (storage + slot * maxFrameSize).copyMemory(from: src, byteCount: frame.count)
        }
        lengths[slot] = frame.count
        count += 1
        return true
    }

    /// Length of the frame at the head (0 when empty).
    public var frontCount: Int { count == 0 ? 0 : lengths[head] }

    /// Lends the head frame's bytes to `body`. Call only when not empty.
    public func withFront<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(count > 0, "withFront on an empty FrameQueue")
        return try body(UnsafeRawBufferPointer(start: storage + head * maxFrameSize, count: lengths[head]))
    }

    /// Removes the head frame (no-op when empty).
    public func pop() {
        guard count > 0 else { return }
        head = (head + 1) % capacity
        count -= 1
    }

    public func removeAll() {
        head = 0
        count = 0
    }
}
