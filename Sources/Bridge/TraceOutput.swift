#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered output for the trace writers: one fixed buffer, drained with
/// `write(2)` when full, on `flush()` and on `close()`.
final class TraceOutput {
    static let capacity = 256 << 10
    private var fd: Int32
    private let buffer: UnsafeMutableRawPointer
    private var count = 0
    let order: ByteOrder

    /// Creates (or truncates) `path` (`open(2)` with O_CREAT|O_TRUNC).
    init(path: String, order: ByteOrder) throws(TraceFileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        self.fd = fd
        self.order = order
        buffer = .allocate(byteCount: Self.capacity, alignment: 16)
    }

    deinit {
        try? close()
        buffer.deallocate()
    }

    /// Lends `n` bytes of buffer space to fill; `n` must be at most
    /// `capacity`. Flushes first when the buffer can't hold them.
    func append(_ n: Int, _ body: (UnsafeMutableRawPointer) -> Void) throws(TraceFileError) {
        guard fd >= 0 else { throw .io(reason: "write to a closed trace file") }
        if count + n > Self.capacity { try flush() }
        body(buffer + count)
        count += n
    }

    /// Copies `bytes` in, in pieces if they are larger than the buffer.
    func append(bytes: UnsafeRawBufferPointer) throws(TraceFileError) {
        var done = 0
        while done < bytes.count {
            if count == Self.capacity { try flush() }
            let n = min(bytes.count - done, Self.capacity - count)
            if let base = bytes.baseAddress { (buffer + count).copyMemory(from: base + done, byteCount: n) }
            count += n
            done += n
        }
    }

    /// Appends zero bytes (padding to a 32-bit boundary).
    func appendZeros(_ n: Int) throws(TraceFileError) {
        guard n > 0 else { return }
        try append(n) { $0.initializeMemory(as: UInt8.self, repeating: 0, count: n) }
    }

    /// Writes everything buffered to the file.
    func flush() throws(TraceFileError) {
        var done = 0
        while done < count {
            let n = write(fd, buffer + done, count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(reason: "write failed: \(String(cString: strerror(errno)))")
            }
            done += n
        }
        count = 0
    }

    func close() throws(TraceFileError) {
        guard fd >= 0 else { return }
        defer {
            closeDescriptor(fd)
            fd = -1
        }
        try flush()
    }
}

/// `close(2)`, out of reach of the `close()` methods that shadow it.
func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}
