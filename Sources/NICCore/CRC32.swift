import CCRC32

/// IEEE 802.3 CRC-32 (polynomial 0x04C11DB7, reflected, initial and final
/// value all-ones): the Ethernet FCS, and the checksum in zlib and pcapng.
public enum CRC32 {
    @usableFromInline static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// The same table extended for slicing-by-16: entry `k * 256 + n` is
    /// the CRC of byte `n` followed by `k` zero bytes, so sixteen bytes
    /// fold in with sixteen independent lookups instead of sixteen
    /// dependent steps. Allocated once and never freed, so the frame path
    /// reads it through a plain pointer.
    // Written once by the initialiser, only read after: safe to share.
    @usableFromInline nonisolated(unsafe) static let slices: UnsafePointer<UInt32> = {
        let t = UnsafeMutablePointer<UInt32>.allocate(capacity: 16 * 256)
        for n in 0..<256 { t[n] = table[n] }
        for k in 1..<16 {
            for n in 0..<256 {
                let previous = t[(k - 1) * 256 + n]
                t[k * 256 + n] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return UnsafePointer(t)
    }()

    /// Whether this CPU folds with carry-less multiplication (checked once).
    static let folds = nicsim_crc32_folding_available() != 0

    /// Continues a raw (uninverted) reflected CRC over `bytes`: frames of
    /// 64 bytes and more by folding (`CCRC32`) where the CPU can, the rest,
    /// and every byte on other CPUs, by the table.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        if bytes.count >= 64, folds {
            let folded = bytes.count & ~15
            let c = nicsim_crc32_fold(crc, base.assumingMemoryBound(to: UInt8.self), folded)
            return tableUpdate(c, UnsafeRawBufferPointer(rebasing: bytes[folded...]))
        }
        return tableUpdate(crc, bytes)
    }

    /// `update` by slicing-by-16 alone: the reference the folding is
    /// tested against.
    public static func tableUpdate(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        let count = bytes.count
        let t = slices
        var c = crc
        var i = 0
        @inline(__always) func at(_ k: Int, _ byte: UInt32) -> UInt32 { t[k &* 256 &+ Int(byte & 0xFF)] }
        while count &- i >= 16 {
            let one = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt32.self)) ^ c
            let two = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i &+ 4, as: UInt32.self))
            let three = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i &+ 8, as: UInt32.self))
            let four = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i &+ 12, as: UInt32.self))
            c = at(15, one) ^ at(14, one >> 8) ^ at(13, one >> 16) ^ at(12, one >> 24)
                ^ at(11, two) ^ at(10, two >> 8) ^ at(9, two >> 16) ^ at(8, two >> 24)
                ^ at(7, three) ^ at(6, three >> 8) ^ at(5, three >> 16) ^ at(4, three >> 24)
                ^ at(3, four) ^ at(2, four >> 8) ^ at(1, four >> 16) ^ at(0, four >> 24)
            i &+= 16
        }
        while i < count {
            c = t[Int((c ^ UInt32(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)] ^ (c >> 8)
            i &+= 1
        }
        return c
    }

    /// The standard CRC-32 of `bytes` ("123456789" gives 0xCBF43926).
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        ~update(0xFFFF_FFFF, bytes)
    }

    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        Array(bytes).withUnsafeBytes { checksum($0) }
    }
}

/// The Ethernet frame check sequence.
public enum EthernetFCS {
    /// The FCS of a frame (destination address up to the end of the payload).
    /// It goes on the wire least significant byte first.
    public static func compute(_ frame: UnsafeRawBufferPointer) -> UInt32 {
        CRC32.checksum(frame)
    }

    /// True when the last four bytes of `frameWithFCS` are the FCS of the rest.
    public static func isValid(_ frameWithFCS: UnsafeRawBufferPointer) -> Bool {
        guard frameWithFCS.count >= 4 else { return false }
        let body = UnsafeRawBufferPointer(rebasing: frameWithFCS[..<(frameWithFCS.count - 4)])
        var stored: UInt32 = 0
        for i in 0..<4 { stored |= UInt32(frameWithFCS[frameWithFCS.count - 4 + i]) << (8 * UInt32(i)) }
        return compute(body) == stored
    }
}

/// The 64-bin multicast hash filter of the DP8390 and RTL8139 (MAR0-7).
///
/// Both datasheets define it the same way: run the destination address
/// through the receiver's CRC generator (the Ethernet CRC, bits shifted in
/// least significant bit of each byte first, register initialised to
/// all-ones) and take the 6 most significant bits of the CRC register. The
/// top 3 bits pick the MAR byte and the low 3 the bit within it.
public enum MulticastHash {
    /// The bin (0...63) for `address`.
    public static func index(of address: MACAddress) -> Int {
        var raw: UInt32 = 0xFFFF_FFFF
        withUnsafeBytes(of: address.rawValue.bigEndian) { p in
            raw = CRC32.update(raw, UnsafeRawBufferPointer(rebasing: p[2..<8]))
        }
        // `raw` is the CRC register in reflected order, so its 6 most
        // significant bits are its 6 least significant, reversed.
        var top = 0
        for bit in 0..<6 where raw & (1 << UInt32(bit)) != 0 {
            top |= 1 << (5 - bit)
        }
        return top
    }

    /// MAR byte (0...7) and bit mask for `address`.
    public static func marPosition(of address: MACAddress) -> (byte: Int, mask: UInt8) {
        let i = index(of: address)
        return (i >> 3, UInt8(1) << UInt8(i & 7))
    }

    /// True when the MAR bit for `address` is set in the 8-byte `mar`.
    public static func matches(_ address: MACAddress, mar: UInt64) -> Bool {
        mar & (UInt64(1) << UInt64(index(of: address))) != 0
    }
}
