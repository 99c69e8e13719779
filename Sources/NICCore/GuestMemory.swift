/// Why a DMA access failed. A device that sees one reports it the way its
/// hardware reports a bus error; it never traps.
public enum DMAError: Error, Equatable, Sendable {
    /// Some byte of `[address, address + length)` is outside guest RAM.
    case outOfRange(address: UInt64, length: Int)
    /// The device's PCI command register has Bus Master Enable clear.
    case busMasterDisabled
}

/// Guest-physical memory as a device sees it through DMA.
///
/// Every access is checked once against the whole range before any byte
/// moves: an access either succeeds whole or throws and changes nothing.
/// Emulators wrap their own RAM by conforming to this protocol.
public protocol GuestMemory: AnyObject {
    /// Bytes of guest-physical address space that are backed by RAM, from 0.
    var size: UInt64 { get }

    /// Copies `buffer.count` bytes starting at `address` into `buffer`.
    func read(at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DMAError)

    /// Copies `buffer` into guest memory starting at `address`.
    func write(at address: UInt64, from buffer: UnsafeRawBufferPointer) throws(DMAError)

    /// Sets `count` bytes at `address` to `value`.
    func fill(at address: UInt64, count: Int, with value: UInt8) throws(DMAError)

    // Little-endian scalars: descriptors, ring indices and headers are
    // read and written a few bytes at a time on the frame path, so a
    // memory whose bytes are in place answers them with a load or store
    // rather than a copy (the extension below serves everyone else).
    func readU8(_ address: UInt64) throws(DMAError) -> UInt8
    func readU16(_ address: UInt64) throws(DMAError) -> UInt16
    func readU32(_ address: UInt64) throws(DMAError) -> UInt32
    func readU64(_ address: UInt64) throws(DMAError) -> UInt64
    func writeU8(_ address: UInt64, _ value: UInt8) throws(DMAError)
    func writeU16(_ address: UInt64, _ value: UInt16) throws(DMAError)
    func writeU32(_ address: UInt64, _ value: UInt32) throws(DMAError)
    func writeU64(_ address: UInt64, _ value: UInt64) throws(DMAError)
}

extension GuestMemory {
    /// True when `[address, address + length)` lies inside RAM (no overflow).
    @inlinable
    public func contains(address: UInt64, length: Int) -> Bool {
        guard length >= 0 else { return false }
        let (end, overflow) = address.addingReportingOverflow(UInt64(length))
        return !overflow && end <= size
    }

    @inlinable
    public func checkRange(_ address: UInt64, _ length: Int) throws(DMAError) {
        guard contains(address: address, length: length) else {
            throw .outOfRange(address: address, length: length)
        }
    }

    // Little-endian scalar helpers: every PCI device we model is little endian.

    public func readU8(_ address: UInt64) throws(DMAError) -> UInt8 {
        var v: UInt8 = 0
        try withUnsafeMutableBytes(of: &v) { (p) throws(DMAError) in try read(at: address, into: p) }
        return v
    }

    public func readU16(_ address: UInt64) throws(DMAError) -> UInt16 {
        var v: UInt16 = 0
        try withUnsafeMutableBytes(of: &v) { (p) throws(DMAError) in try read(at: address, into: p) }
        return UInt16(littleEndian: v)
    }

    public func readU32(_ address: UInt64) throws(DMAError) -> UInt32 {
        var v: UInt32 = 0
        try withUnsafeMutableBytes(of: &v) { (p) throws(DMAError) in try read(at: address, into: p) }
        return UInt32(littleEndian: v)
    }

    public func readU64(_ address: UInt64) throws(DMAError) -> UInt64 {
        var v: UInt64 = 0
        try withUnsafeMutableBytes(of: &v) { (p) throws(DMAError) in try read(at: address, into: p) }
        return UInt64(littleEndian: v)
    }

    public func writeU8(_ address: UInt64, _ value: UInt8) throws(DMAError) {
        var v = value
        try withUnsafeBytes(of: &v) { (p) throws(DMAError) in try write(at: address, from: p) }
    }

    public func writeU16(_ address: UInt64, _ value: UInt16) throws(DMAError) {
        var v = value.littleEndian
        try withUnsafeBytes(of: &v) { (p) throws(DMAError) in try write(at: address, from: p) }
    }

    public func writeU32(_ address: UInt64, _ value: UInt32) throws(DMAError) {
        var v = value.littleEndian
        try withUnsafeBytes(of: &v) { (p) throws(DMAError) in try write(at: address, from: p) }
    }

    public func writeU64(_ address: UInt64, _ value: UInt64) throws(DMAError) {
        var v = value.littleEndian
        try withUnsafeBytes(of: &v) { (p) throws(DMAError) in try write(at: address, from: p) }
    }

    /// Copies an array into guest memory (test and set-up convenience; not for
    /// the frame path).
    public func write(at address: UInt64, bytes: [UInt8]) throws(DMAError) {
        var failure: DMAError?
        bytes.withUnsafeBytes { p in
            do throws(DMAError) { try write(at: address, from: p) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Reads `count` bytes into a new array (test and set-up convenience; not
    /// for the frame path).
    public func readBytes(at address: UInt64, count: Int) throws(DMAError) -> [UInt8] {
        try checkRange(address, count)
        var out = [UInt8](repeating: 0, count: count)
        var failure: DMAError?
        out.withUnsafeMutableBytes { p in
            do throws(DMAError) { try read(at: address, into: p) } catch { failure = error }
        }
        if let failure { throw failure }
        return out
    }
}

/// One contiguous block of RAM starting at guest-physical 0.
///
/// Allocated once; every access costs one bounds check and one `memcpy`.
public final class FlatMemory: GuestMemory {
    public let size: UInt64
    @usableFromInline let base: UnsafeMutableRawPointer

    /// Zero-filled RAM of `size` bytes.
    public init(size: Int) {
        precondition(size > 0, "FlatMemory needs a positive size")
        self.size = UInt64(size)
        base = .allocate(byteCount: size, alignment: 64)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: size)
    }

    deinit { base.deallocate() }

    @inlinable
    public func read(at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DMAError) {
        try checkRange(address, buffer.count)
        guard let dst = buffer.baseAddress, buffer.count > 0 else { return }
        dst.copyMemory(from: base + Int(address), byteCount: buffer.count)
    }

    @inlinable
    public func write(at address: UInt64, from buffer: UnsafeRawBufferPointer) throws(DMAError) {
        try checkRange(address, buffer.count)
        guard let src = buffer.baseAddress, buffer.count > 0 else { return }
        (base + Int(address)).copyMemory(from: src, byteCount: buffer.count)
    }

    public func fill(at address: UInt64, count: Int, with value: UInt8) throws(DMAError) {
        try checkRange(address, count)
        (base + Int(address)).initializeMemory(as: UInt8.self, repeating: value, count: count)
    }

    @inlinable
    func load<T: FixedWidthInteger>(_ address: UInt64, as type: T.Type) throws(DMAError) -> T {
        try checkRange(address, MemoryLayout<T>.size)
        return T(littleEndian: base.loadUnaligned(fromByteOffset: Int(address), as: T.self))
    }

    @inlinable
    func store<T: FixedWidthInteger>(_ address: UInt64, _ value: T) throws(DMAError) {
        try checkRange(address, MemoryLayout<T>.size)
        base.storeBytes(of: value.littleEndian, toByteOffset: Int(address), as: T.self)
    }

    public func readU8(_ address: UInt64) throws(DMAError) -> UInt8 { try load(address, as: UInt8.self) }
    public func readU16(_ address: UInt64) throws(DMAError) -> UInt16 { try load(address, as: UInt16.self) }
    public func readU32(_ address: UInt64) throws(DMAError) -> UInt32 { try load(address, as: UInt32.self) }
    public func readU64(_ address: UInt64) throws(DMAError) -> UInt64 { try load(address, as: UInt64.self) }
    public func writeU8(_ address: UInt64, _ value: UInt8) throws(DMAError) { try store(address, value) }
    public func writeU16(_ address: UInt64, _ value: UInt16) throws(DMAError) { try store(address, value) }
    public func writeU32(_ address: UInt64, _ value: UInt32) throws(DMAError) { try store(address, value) }
    public func writeU64(_ address: UInt64, _ value: UInt64) throws(DMAError) { try store(address, value) }

    /// Direct access to a checked range, for hosts (qtest, the x86 machine)
    /// that need the bytes in place. The pointer must not escape `body`.
    public func withBytes<R, E: Error>(
        at address: UInt64, count: Int,
        _ body: (UnsafeMutableRawBufferPointer) throws(E) -> R
    ) throws(DMAError) -> Result<R, E> {
        try checkRange(address, count)
        do {
            return .success(try body(UnsafeMutableRawBufferPointer(start: base + Int(address), count: count)))
        } catch {
            return .failure(error)
        }
    }

    /// The whole of RAM, for hosts that map it elsewhere (the x86 machine hands
    /// it to the CPU emulator). Valid for the lifetime of this object.
    public var unsafeBaseAddress: UnsafeMutableRawPointer { base }
}

/// A device's view of guest memory through its PCI function: every access
/// is refused while the function's Bus Master Enable bit is clear.
public final class BusMasterMemory: GuestMemory {
    public let ram: GuestMemory
    // Strong: the space holds nothing of this view, so there is no cycle,
    // and a `let` the object owns is reached on every DMA without
    // reference counting.
    private let config: PCIConfigSpace

    public init(ram: GuestMemory, config: PCIConfigSpace) {
        self.ram = ram
        self.config = config
    }

    public var size: UInt64 { ram.size }

    public func read(at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DMAError) {
        guard config.busMasterEnabled else { throw .busMasterDisabled }
        try ram.read(at: address, into: buffer)
    }

    public func write(at address: UInt64, from buffer: UnsafeRawBufferPointer) throws(DMAError) {
        guard config.busMasterEnabled else { throw .busMasterDisabled }
        try ram.write(at: address, from: buffer)
    }

    public func fill(at address: UInt64, count: Int, with value: UInt8) throws(DMAError) {
        guard config.busMasterEnabled else { throw .busMasterDisabled }
        try ram.fill(at: address, count: count, with: value)
    }

    public func readU8(_ address: UInt64) throws(DMAError) -> UInt8 {
        guard config.busMasterEnabled else { throw .busMasterDisabled }
        return try ram.readU8(address)
    }

    public func readU16(_ address: UInt64) throws(DMAError) -> UInt16 {
        guard config.busMasterEnabled else { throw .busMasterDisabled }
        return try ram.readU16(address)
    }

    public func readU32(_ address: UInt64) throws(DMAError) -> UInt32 {
        guard config.busMasterEnabled else { throw .busMasterDisabled }
        return try ram.readU32(address)
    }

    public func readU64(_ address: UInt64) throws(DMAError) -> UInt64 {
        guard config.busMasterEnabled else { throw .busMasterDisabled }
        return try ram.readU64(address)
    }

    public func writeU8(_ address: UInt64, _ value: UInt8) throws(DMAError) {
        guard config.busMasterEnabled else { throw .busMasterDisabled }
        try ram.writeU8(address, value)
    }

    public func writeU16(_ address: UInt64, _ value: UInt16) throws(DMAError) {
        guard config.busMasterEnabled else { throw .busMasterDisabled }
        try ram.writeU16(address, value)
    }

    public func writeU32(_ address: UInt64, _ value: UInt32) throws(DMAError) {
        guard config.busMasterEnabled else { throw .busMasterDisabled }
        try ram.writeU32(address, value)
    }

    public func writeU64(_ address: UInt64, _ value: UInt64) throws(DMAError) {
        guard config.busMasterEnabled else { throw .busMasterDisabled }
        try ram.writeU64(address, value)
    }
}
