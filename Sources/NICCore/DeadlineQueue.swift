/// Entries ordered by deadline, and among equal deadlines by the order they
/// were pushed, so whatever runs them is deterministic: a binary min-heap
/// on (deadline, push sequence). The virtual clock's timers and the fleet's
/// scheduler both keep their due work in one.
public struct DeadlineQueue<Payload> {
    public struct Entry {
        public var deadline: UInt64
        public var payload: Payload
        @usableFromInline var sequence: UInt64

        @inlinable
        init(deadline: UInt64, payload: Payload, sequence: UInt64) {
            self.deadline = deadline
            self.payload = payload
            self.sequence = sequence
        }
    }

    @usableFromInline var heap: [Entry] = []
    @usableFromInline var nextSequence: UInt64 = 0

    @inlinable
    public init() {}

    @inlinable
    public var isEmpty: Bool { heap.isEmpty }

    /// The earliest entry (the first pushed among equal deadlines).
    @inlinable
    public var first: Entry? { heap.first }

    @inlinable
    static func before(_ a: Entry, _ b: Entry) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence
    }

    @inlinable
    public mutating func push(deadline: UInt64, _ payload: Payload) {
        heap.append(Entry(deadline: deadline, payload: payload, sequence: nextSequence))
        nextSequence &+= 1
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.before(heap[i], heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    /// Removes and returns the earliest entry, or nil when there is none.
    @inlinable @discardableResult
    public mutating func popFirst() -> Entry? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count, Self.before(heap[l], heap[m]) { m = l }
                if r < heap.count, Self.before(heap[r], heap[m]) { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
