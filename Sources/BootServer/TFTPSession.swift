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
///
/// Both modes read the file block by block; nothing holds a copy of it.
/// netascii converts each block as it is read, and keeps where each
/// unacknowledged block starts in the file (a few words per block of the
/// window), so a retransmitted window converts to the same bytes.
final class TFTPSession {
    /// Where the bytes come from: the open file as it is, or converted to
    /// netascii on the way.
    enum Source {
        case file(fd: Int32)
        case netascii(fd: Int32)
    }

    /// Where a netascii block starts: a byte offset in the file and the
    /// second byte of a line end whose first (CR) ended the block before.
    struct NetasciiCheckpoint {
        var offset: Int
        var carry: UInt8?
    }

    let client: UDPEndpoint
    let localPort: UInt16
    let filename: String
    /// "octet" or "netascii".
    let mode: String
    let source: Source
    /// Bytes the transfer carries: the file's size for octet; for
    /// netascii, the file's size until the last block is read, then the
    /// converted size.
    @exclusivity(unchecked)
    private(set) var size: Int
    let blockSize: Int
    let windowSize: Int
    let timeout: UInt64
    /// Options to acknowledge before the first DATA; empty means none.
    let acknowledgedOptions: [TFTPOption]
    /// Index of the final block: the first one shorter than blockSize
    /// (possibly empty). Indices count from 1 and don't wrap; the 16-bit
    /// block number on the wire is the index modulo 65536. For netascii
    /// it is known once that block is read (Int.max until then).
    @exclusivity(unchecked)
    private(set) var lastBlock: Int

    @exclusivity(unchecked)
    var awaitingOptionAck: Bool
    /// Highest block the client acknowledged (0: none yet).
    var acked = 0 {
        didSet { dropCheckpoints(below: acked + 1) }
    }
    /// Highest block sent so far.
    @exclusivity(unchecked)
    var sent = 0
    @exclusivity(unchecked)
    var deadline: UInt64 = 0
    @exclusivity(unchecked)
    var retries = 0
    @exclusivity(unchecked)
    var retransmissions = 0
    /// The blocks sent so far, in order, when the server keeps records:
    /// each block is hashed once, the first time it goes out.
    @exclusivity(unchecked)
    var hash: SHA256?
    /// netascii: checkpoints[i] is where block `checkpointBase + i` starts;
    /// at most one per block of the window, plus the next.
    @exclusivity(unchecked)
    private var checkpoints: [NetasciiCheckpoint] = []
    @exclusivity(unchecked)
    private var checkpointBase = 1

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
        switch source {
        case .file:
            lastBlock = size / self.blockSize + 1
        case .netascii:
            lastBlock = .max
            checkpoints.reserveCapacity(self.windowSize + 1)
            checkpoints.append(NetasciiCheckpoint(offset: 0, carry: nil))
        }
    }

    deinit {
        switch source {
        case .file(let fd), .netascii(let fd): close(fd)
        }
    }

    var isComplete: Bool { acked >= lastBlock }

    /// Bytes this session keeps in memory about the file (netascii's
    /// checkpoints; never the file's contents).
    var heldBytes: Int { checkpoints.capacity * MemoryLayout<NetasciiCheckpoint>.stride }

    /// The block index (acked, sent] whose 16-bit number is `number`, if any.
    func outstandingBlock(numbered number: UInt16) -> Int? {
        let delta = Int(number &- UInt16(truncatingIfNeeded: acked))
        guard delta >= 1, acked + delta <= sent else { return nil }
        return acked + delta
    }

    /// Copies block `index` into `out` (which has room for blockSize bytes);
    /// netascii reads the file through `scratch` (at least blockSize
    /// bytes, shared by every session). Returns the byte count, or nil when
    /// the file can't be read.
    func read(block index: Int, into out: UnsafeMutableRawBufferPointer, scratch: UnsafeMutableRawBufferPointer) -> Int? {
        guard blockSize <= out.count, let dst = out.baseAddress else { return nil }
        switch source {
        case .file(let fd):
            let offset = (index - 1) * blockSize
            let count = max(0, min(blockSize, size - offset))
            return Self.readFully(fd, dst, count: count, at: offset) == count ? count : nil
        case .netascii(let fd):
            return readNetascii(fd, block: index, into: dst, scratch: scratch)
        }
    }

    /// pread until `count` bytes or the end of the file; nil on an error.
    private static func readFully(_ fd: Int32, _ dst: UnsafeMutableRawPointer, count: Int, at offset: Int) -> Int? {
        var done = 0
        // pread returns short counts only at EOF or on signals; a few tries suffice.
        for _ in 0..<8 where done < count {
            let n = pread(fd, dst + done, count - done, off_t(offset + done))
            if n < 0 { return nil }
            if n == 0 { break }
            done += n
        }
        return done
    }

    // MARK: netascii

    /// RFC 1350 netascii: line ends as CR LF, a bare CR as CR NUL. Block
    /// `index` is converted from its checkpoint; the next block's
    /// checkpoint is recorded the first time.
    private func readNetascii(_ fd: Int32, block index: Int, into dst: UnsafeMutableRawPointer,
                              scratch: UnsafeMutableRawBufferPointer) -> Int? {
        let slot = index - checkpointBase
        guard slot >= 0, slot < checkpoints.count, let raw = scratch.baseAddress, scratch.count >= blockSize else { return nil }
        let start = checkpoints[slot]
        var produced = 0
        if let carry = start.carry {
            dst.storeBytes(of: carry, as: UInt8.self)
            produced = 1
        }
        // Every file byte makes at least one output byte: blockSize bytes
        // of file always fill the block, unless the file ends first.
        guard let got = Self.readFully(fd, raw, count: blockSize - produced, at: start.offset) else { return nil }
        var consumed = 0
        var carry: UInt8?
        while consumed < got, produced < blockSize {
            let b = raw.load(fromByteOffset: consumed, as: UInt8.self)
            consumed += 1
            let second: UInt8?
            switch b {
            case 0x0A: second = 0x0A
            case 0x0D: second = 0x00
            default: second = nil
            }
            dst.storeBytes(of: second == nil ? b : 0x0D, toByteOffset: produced, as: UInt8.self)
            produced += 1
            guard let second else { continue }
            if produced < blockSize {
                dst.storeBytes(of: second, toByteOffset: produced, as: UInt8.self)
                produced += 1
            } else {
                carry = second
            }
        }
        if slot + 1 == checkpoints.count {
            checkpoints.append(NetasciiCheckpoint(offset: start.offset + consumed, carry: carry))
        }
        if produced < blockSize {
            lastBlock = index
            size = (index - 1) * blockSize + produced
        }
        return produced
    }

    /// Forgets where acknowledged blocks start: they are never sent again.
    private func dropCheckpoints(below index: Int) {
        let drop = min(index - checkpointBase, checkpoints.count - 1)
        guard drop > 0 else { return }
        checkpoints.removeFirst(drop)
        checkpointBase += drop
    }
}
