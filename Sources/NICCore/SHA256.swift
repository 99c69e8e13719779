/// SHA-256 (FIPS 180-4 section 6.2), streaming: `update` with the bytes in
/// order, as many times as they arrive, then `finalize`. Used for the hashes
/// of the files a boot fetched (the TFTP transfer log, the boot summary).
///
/// Whole 64-byte blocks are compressed straight from the caller's bytes;
/// only a block split across two updates is copied, into a fixed buffer.
/// The message schedule lives on the stack, so `update` never allocates.
public struct SHA256: Sendable {
    /// FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the
    /// cube roots of the first 64 primes.
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    /// FIPS 180-4 5.3.3: the initial hash value H(0).
    private var h: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
    /// A block begun by one update and not yet completed (64 bytes).
    private var pending: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var pendingCount = 0
    /// Message length so far, in bytes.
    public private(set) var length: UInt64 = 0

    public init() {}

    /// Appends `bytes` to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var next = bytes.baseAddress, !bytes.isEmpty else { return }
        var left = bytes.count
        length &+= UInt64(left)
        if pendingCount > 0 {
            let n = min(left, 64 - pendingCount)
            let at = pendingCount
            withUnsafeMutableBytes(of: &pending) { $0.baseAddress!.advanced(by: at).copyMemory(from: next, byteCount: n) }
            pendingCount += n
            next += n
            left -= n
            guard pendingCount == 64 else { return }
            let block = pending
            withUnsafeBytes(of: block) { compress($0.baseAddress!) }
            pendingCount = 0
        }
        while left >= 64 {
            compress(next)
            next += 64
            left -= 64
        }
        if left > 0 {
            withUnsafeMutableBytes(of: &pending) { $0.baseAddress!.copyMemory(from: next, byteCount: left) }
            pendingCount = left
        }
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest as 64 lower-case hex digits. FIPS 180-4 5.1.1: a 1 bit,
    /// zeros to 56 mod 64 bytes, then the bit length as 64 bits big-endian.
    /// The hasher must not be updated afterwards.
    public mutating func finalize() -> String {
        let bits = length &* 8
        var tail = [UInt8](repeating: 0, count: pendingCount < 56 ? 64 - pendingCount : 128 - pendingCount)
        tail[0] = 0x80
        for i in 0..<8 { tail[tail.count - 1 - i] = UInt8(truncatingIfNeeded: bits >> (UInt64(i) * 8)) }
        update(tail)
        let words = [h.0, h.1, h.2, h.3, h.4, h.5, h.6, h.7]
        let hex = Array("0123456789abcdef")
        var s = ""
        s.reserveCapacity(64)
        for word in words {
            for shift in stride(from: 28, through: 0, by: -4) { s.append(hex[Int((word >> UInt32(shift)) & 0xF)]) }
        }
        return s
    }

    /// The digest of `bytes`, in hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        var s = SHA256()
        s.update(bytes)
        return s.finalize()
    }

    /// FIPS 180-4 6.2.2: one 64-byte block at `block` into the hash value.
    /// Written with raw pointers, `while` loops and the rotations spelled
    /// out: debug builds (what `swift build` and the tests run) don't inline
    /// buffer subscripts, ranges or helpers, and hash ten times slower with them.
    private mutating func compress(_ block: UnsafeRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { buffer in
            // SAFETY: the caller passes 64 readable bytes; buffer holds 64 words.
            let w = buffer.baseAddress!
            let bytes = block.assumingMemoryBound(to: UInt8.self)
            var i = 0
            while i < 16 {
                w[i] = UInt32(bytes[4 * i]) << 24 | UInt32(bytes[4 * i + 1]) << 16 | UInt32(bytes[4 * i + 2]) << 8 | UInt32(bytes[4 * i + 3])
                i += 1
            }
            while i < 64 {
                let x = w[i - 15], y = w[i - 2]
                let s0 = (x >> 7 | x << 25) ^ (x >> 18 | x << 14) ^ (x >> 3)
                let s1 = (y >> 17 | y << 15) ^ (y >> 19 | y << 13) ^ (y >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
                i += 1
            }
            var (a, b, c, d, e, f, g, h) = self.h
            Self.k.withUnsafeBufferPointer { table in
                // SAFETY: the table has 64 entries.
                let k = table.baseAddress!
                var i = 0
                while i < 64 {
                    let s1 = (e >> 6 | e << 26) ^ (e >> 11 | e << 21) ^ (e >> 25 | e << 7)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = h &+ s1 &+ ch &+ k[i] &+ w[i]
                    let s0 = (a >> 2 | a << 30) ^ (a >> 13 | a << 19) ^ (a >> 22 | a << 10)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = s0 &+ maj
                    h = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
                    i += 1
                }
            }
            self.h = (self.h.0 &+ a, self.h.1 &+ b, self.h.2 &+ c, self.h.3 &+ d, self.h.4 &+ e, self.h.5 &+ f, self.h.6 &+ g, self.h.7 &+ h)
        }
    }
}
