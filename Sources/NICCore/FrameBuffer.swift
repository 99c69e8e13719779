/// A reusable buffer for one frame: fixed capacity, allocated once, with a
/// current length. The frame path fills and drains these instead of making
/// arrays.
public final class FrameBuffer {
    public let capacity: Int
    public let baseAddress: UnsafeMutableRawPointer
    /// Bytes currently holding a frame, 0...capacity.
    public var count: Int { length }
    // Private, so that other modules read it through `count` rather than
    // inlining a dynamically checked access to it (`@exclusivity` does not
    // travel across modules).
    @exclusivity(unchecked)
    private var length = 0

    public init(capacity: Int = 9216) {
        precondition(capacity > 0)
        self.capacity = capacity
        baseAddress = .allocate(byteCount: capacity, alignment: 16)
        baseAddress.initializeMemory(as: UInt8.self, repeating: 0, count: capacity)
    }

    deinit { baseAddress.deallocate() }

    /// Sets the length; clamps to `0...capacity`.
    public func setCount(_ n: Int) {
        length = max(0, min(n, capacity))
    }

    /// Replaces the contents with `bytes`, truncated to capacity. Returns the
    /// number of bytes kept.
    @discardableResult
    public func assign(_ bytes: UnsafeRawBufferPointer) -> Int {
        let n = min(bytes.count, capacity)
        if n > 0, let src = bytes.baseAddress { baseAddress.copyMemory(from: src, byteCount: n) }
        length = n
        return n
    }

    /// Appends `bytes`, as far as capacity allows. Returns the bytes appended.
    @discardableResult
    public func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        let n = min(bytes.count, capacity - count)
        if n > 0, let src = bytes.baseAddress { (baseAddress + count).copyMemory(from: src, byteCount: n) }
        length += n
        return n
    }

    /// Pads with zero bytes up to `length` (for runt frames) if shorter.
    public func pad(to length: Int) {
        let target = min(length, capacity)
        guard count < target else { return }
        (baseAddress + count).initializeMemory(as: UInt8.self, repeating: 0, count: target - count)
        self.length = target
    }

    /// The current frame, valid until the buffer is next changed.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: baseAddress, count: count) }

    /// The whole capacity, for filling in place (then `setCount`).
    public var storage: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: baseAddress, count: capacity) }

    public subscript(i: Int) -> UInt8 {
        get { i >= 0 && i < count ? baseAddress.load(fromByteOffset: i, as: UInt8.self) : 0 }
        set { if i >= 0 && i < capacity { baseAddress.storeBytes(of: newValue, toByteOffset: i, as: UInt8.self) } }
    }
}
