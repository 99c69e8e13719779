#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NICCore
import Wire

/// One read transfer (RFC 1350 with RFC 2347 options and RFC 7440
/// windows): the file, the negotiated sizes, and which blocks the client
/// has acknowledged.
final class TFTPSession {
    /// Where the bytes come from: the open file, or (for netascii) the
    /// converted text in memory.
    enum Source {
        case file(fd: Int32)
        case memory([UInt8])
    }

    let client: UDPEndpoint
    let localPort: UInt16
    let filename: String
    /// "octet" or "netascii".
    let mode: String
    let source: Source
    let size: Int
    let blockSize: Int
    let windowSize: Int
    let timeout: UInt64
    /// Options to acknowledge before the first DATA; empty means none.
    let acknowledgedOptions: [TFTPOption]
    /// Index of the final block: the first one shorter than blockSize
    /// (possibly empty). Indices count from 1 and don't wrap; the 16-bit
    /// block number on the wire is the index modulo 65536.
    let lastBlock: Int

    var awaitingOptionAck: Bool
    /// Highest block the client acknowledged (0: none yet).
    var acked = 0
    /// Highest block sent so far.
    var sent = 0
    var deadline: UInt64 = 0
    var retries = 0
    var retransmissions = 0
    /// The blocks sent so far, in order, when the server keeps records:
    /// each block is hashed once, the first time it goes out.
    var hash: SHA256?

    init(client: UDPEndpoint, localPort: UInt16, filename: String, mode: String = "octet", source: Source, size: Int,
         blockSize: Int, windowSize: Int, timeout: UInt64, acknowledgedOptions: [TFTPOption]) {
        self.client = client
        self.localPort = localPort
        self.filename = filename
        self.mode = mode
        self.source = source
        self.size = size
        self.blockSize = max(8, blockSize)
        self.windowSize = max(1, windowSize)
        self.timeout = timeout
        self.acknowledgedOptions = acknowledgedOptions
        awaitingOptionAck = !acknowledgedOptions.isEmpty
        lastBlock = size / self.blockSize + 1
    }

    deinit {
        if case .file(let fd) = source { close(fd) }
    }

    var isComplete: Bool { acked >= lastBlock }

    /// The block index (acked, sent] whose 16-bit number is `number`, if any.
    func outstandingBlock(numbered number: UInt16) -> Int? {
        let delta = Int(number &- UInt16(truncatingIfNeeded: acked))
        guard delta >= 1, acked + delta <= sent else { return nil }
        return acked + delta
    }

    /// Copies block `index` into `out` (which has room for blockSize bytes).
    /// Returns the byte count, or nil when the file can't be read.
    func read(block index: Int, into out: UnsafeMutableRawBufferPointer) -> Int? {
        let offset = (index - 1) * blockSize
        let count = max(0, min(blockSize, size - offset))
        guard count <= out.count, let dst = out.baseAddress else { return nil }
        guard count > 0 else { return 0 }
        switch source {
        case .memory(let bytes):
            bytes.withUnsafeBytes { src in
                if let base = src.baseAddress { dst.copyMemory(from: base + offset, byteCount: count) }
            }
            return count
        case .file(let fd):
            var done = 0
            // pread returns short counts only at EOF or on signals; a few tries suffice.
            for _ in 0..<8 where done < count {
                let n = pread(fd, dst + done, count - done, off_t(offset + done))
                if n <= 0 { break }
                done += n
            }
            return done == count ? count : nil
        }
    }

    /// RFC 1350 netascii: line ends as CR LF, a bare CR as CR NUL.
    static func netascii(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 16)
        for b in bytes {
            switch b {
            case 0x0A: out += [0x0D, 0x0A]
            case 0x0D: out += [0x0D, 0x00]
            default: out.append(b)
            }
        }
        return out
    }
}
