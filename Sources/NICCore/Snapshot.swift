/// Why a snapshot was refused. Loading never changes a device when it throws.
public struct SnapshotError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A device whose whole state can be saved and restored (in the spirit of
/// QEMU's VMState: every model lists the fields that define it).
public protocol Snapshottable: AnyObject {
    /// The device's state in nicsim's snapshot format.
    func saveSnapshot() -> [UInt8]
    /// Restores a snapshot this model saved. Everything is read and checked
    /// before anything changes: on a throw the device is as it was.
    func loadSnapshot(_ bytes: UnsafeRawBufferPointer) throws(SnapshotError)
}

/// nicsim's snapshot format, version 1 (all integers little endian):
///
///     magic      8 bytes  "NICSIMSS"
///     format     u16      1
///     model      u8 length, UTF-8   (e.g. "RTL8139")
///     state      u16      the model's own state version
///     count      u32      number of fields
///     fields     count x { name: u8 length, UTF-8; length: u32; bytes }
///     crc        u32      CRC-32 of everything before it
///
/// A reader refuses another magic, format, model or state version, a
/// truncated or overlong buffer, a bad CRC, duplicate names, a missing
/// field, a field of the wrong size, and a field the model did not read.
public enum SnapshotFormat {
    public static let magic: [UInt8] = Array("NICSIMSS".utf8)
    public static let version: UInt16 = 1
}

/// Builds a snapshot field by field.
public struct SnapshotWriter {
    private var fields: [(String, [UInt8])] = []
    private let model: String
    private let stateVersion: UInt16

    public init(model: String, stateVersion: UInt16) {
        self.model = model
        self.stateVersion = stateVersion
    }

    public mutating func put(_ name: String, bytes: [UInt8]) {
        fields.append((name, bytes))
    }

    public mutating func put(_ name: String, from pointer: UnsafePointer<UInt8>, count: Int) {
        fields.append((name, Array(UnsafeBufferPointer(start: pointer, count: count))))
    }

    public mutating func put<T: FixedWidthInteger>(_ name: String, _ value: T) {
        var v = value.littleEndian
        fields.append((name, withUnsafeBytes(of: &v) { Array($0) }))
    }

    public mutating func put(_ name: String, _ value: Bool) {
        put(name, UInt8(value ? 1 : 0))
    }

    /// The finished snapshot.
    public func finish() -> [UInt8] {
        var out = SnapshotFormat.magic
        func u16(_ v: UInt16) { out += [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)] }
        func u32(_ v: UInt32) { u16(UInt16(truncatingIfNeeded: v)); u16(UInt16(truncatingIfNeeded: v >> 16)) }
        func name(_ s: String) {
            let b = Array(s.utf8.prefix(255))
            out.append(UInt8(b.count))
            out += b
        }
        u16(SnapshotFormat.version)
        name(model)
        u16(stateVersion)
        u32(UInt32(fields.count))
        for (n, bytes) in fields {
            name(n)
            u32(UInt32(bytes.count))
            out += bytes
        }
        u32(CRC32.checksum(out))
        return out
    }
}

/// Reads a snapshot: the constructor checks the whole structure; each
/// accessor checks one field's presence and size; `finish()` checks that
/// every field was read.
public struct SnapshotReader {
    private var fields: [String: [UInt8]] = [:]
    private var read: Set<String> = []
    public let model: String

    public init(_ bytes: UnsafeRawBufferPointer, model expectedModel: String, stateVersion expected: UInt16) throws(SnapshotError) {
        var at = 0
        func take(_ n: Int) throws(SnapshotError) -> UnsafeRawBufferPointer {
            guard n >= 0, bytes.count - at >= n else { throw SnapshotError("snapshot truncated at byte \(at)") }
            defer { at += n }
            return UnsafeRawBufferPointer(rebasing: bytes[at..<at + n])
        }
        func u16() throws(SnapshotError) -> UInt16 { let b = try take(2); return UInt16(b[0]) | UInt16(b[1]) << 8 }
        func u32() throws(SnapshotError) -> UInt32 { let b = try take(4); return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24 }
        func name() throws(SnapshotError) -> String {
            let n = try take(1)[0]
            return String(decoding: try take(Int(n)), as: UTF8.self)
        }
        guard bytes.count >= SnapshotFormat.magic.count + 4, Array(try take(SnapshotFormat.magic.count)) == SnapshotFormat.magic else {
            throw SnapshotError("not a nicsim snapshot")
        }
        let body = UnsafeRawBufferPointer(rebasing: bytes[0..<bytes.count - 4])
        let stored = UInt32(bytes[bytes.count - 4]) | UInt32(bytes[bytes.count - 3]) << 8
            | UInt32(bytes[bytes.count - 2]) << 16 | UInt32(bytes[bytes.count - 1]) << 24
        guard CRC32.checksum(body) == stored else { throw SnapshotError("snapshot CRC mismatch (corrupt)") }
        let format = try u16()
        guard format == SnapshotFormat.version else { throw SnapshotError("snapshot format \(format), this nicsim reads \(SnapshotFormat.version)") }
        model = try name()
        guard model == expectedModel else { throw SnapshotError("snapshot of a \(model), not a \(expectedModel)") }
        let state = try u16()
        guard state == expected else { throw SnapshotError("\(model) state version \(state), this nicsim reads \(expected)") }
        let count = try u32()
        for _ in 0..<count {
            let n = try name()
            let length = try u32()
            guard length <= UInt32(Int32.max) else { throw SnapshotError("field \(n) too long") }
            let value = Array(try take(Int(length)))
            guard fields.updateValue(value, forKey: n) == nil else { throw SnapshotError("field \(n) appears twice") }
        }
        guard at == bytes.count - 4 else { throw SnapshotError("\(bytes.count - 4 - at) stray bytes after the fields") }
    }

    public mutating func bytes(_ name: String, count: Int) throws(SnapshotError) -> [UInt8] {
        guard let v = fields[name] else { throw SnapshotError("\(model) field \(name) missing") }
        guard v.count == count else { throw SnapshotError("\(model) field \(name) is \(v.count) bytes, expected \(count)") }
        read.insert(name)
        return v
    }

    /// A field of any length up to `maxCount` (a partly filled buffer).
    public mutating func variableBytes(_ name: String, maxCount: Int) throws(SnapshotError) -> [UInt8] {
        guard let v = fields[name] else { throw SnapshotError("\(model) field \(name) missing") }
        guard v.count <= maxCount else { throw SnapshotError("\(model) field \(name) is \(v.count) bytes, at most \(maxCount)") }
        read.insert(name)
        return v
    }

    public mutating func integer<T: FixedWidthInteger>(_ name: String, as: T.Type = T.self) throws(SnapshotError) -> T {
        let b = try bytes(name, count: MemoryLayout<T>.size)
        var v: T = 0
        for i in (0..<b.count).reversed() { v = v << 8 | T(truncatingIfNeeded: b[i]) }
        return v
    }

    public mutating func bool(_ name: String) throws(SnapshotError) -> Bool {
        let v: UInt8 = try integer(name)
        guard v <= 1 else { throw SnapshotError("\(model) field \(name) is not a boolean") }
        return v == 1
    }

    /// Throws if a field was never read (a field this nicsim does not know).
    public func finish() throws(SnapshotError) {
        if let extra = fields.keys.sorted().first(where: { !read.contains($0) }) {
            throw SnapshotError("\(model) field \(extra) unknown to this nicsim")
        }
    }
}
