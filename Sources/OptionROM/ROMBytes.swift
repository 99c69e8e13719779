import NICCore

/// Bounds-checked little-endian reads inside one image of a ROM file.
/// Every read is checked against the image's end, so a hostile pointer
/// becomes a `ROMError`, never an out-of-range index.
struct ROMBytes {
    let bytes: [UInt8]
    /// File offset where the image starts.
    let base: Int
    /// Bytes of the image (never past the file's end).
    let count: Int

    func contains(_ offset: Int, _ length: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= count - length
    }

    func check(_ offset: Int, _ length: Int, _ what: String) throws(ROMError) {
        guard contains(offset, length) else {
            throw .pointerPastEnd(offset: base, structure: what, pointer: offset, limit: count)
        }
    }

    func u8(_ o: Int) -> UInt8 { contains(o, 1) ? bytes[base + o] : 0 }
    func u16(_ o: Int) -> UInt16 { contains(o, 2) ? bytes.le16(at: base + o) : 0 }
    func u32(_ o: Int) -> UInt32 { contains(o, 4) ? bytes.le32(at: base + o) : 0 }

    /// True when the four bytes at `o` are the ASCII `tag`.
    func hasTag(_ o: Int, _ tag: String) -> Bool {
        let t = Array(tag.utf8)
        guard contains(o, t.count) else { return false }
        for i in 0..<t.count where bytes[base + o + i] != t[i] { return false }
        return true
    }

    /// Low byte of the sum of `length` bytes at `o` (0 when they are consistent).
    func sum(_ o: Int, _ length: Int) -> UInt8 {
        guard contains(o, length) else { return 0xFF }
        var s: UInt8 = 0
        for i in 0..<length { s &+= bytes[base + o + i] }
        return s
    }

    /// A NUL-terminated ASCII string at `o`, at most `limit` bytes, with
    /// non-printable bytes shown as '.'.
    func string(_ o: Int, limit: Int = 128) -> String? {
        guard o > 0, contains(o, 1) else { return nil }
        var out = ""
        var i = o
        while i < count, i - o < limit {
            let b = bytes[base + i]
            if b == 0 { break }
            out.append((0x20...0x7E).contains(b) ? Character(UnicodeScalar(b)) : ".")
            i += 1
        }
        return out
    }
}
