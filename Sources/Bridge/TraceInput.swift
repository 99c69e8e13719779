#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered, streaming input for the trace readers: one fixed buffer,
/// allocated once, refilled with `read(2)` (so pipes work too). Callers ask
/// for a number of contiguous bytes they have already checked against
/// `capacity`; nothing here allocates by a length taken from the file.
final class TraceInput {
    /// The largest run of contiguous bytes a reader can ask for.
    static let capacity = (1 << 20) + (64 << 10)
    private let fd: Int32
    private let ownsDescriptor: Bool
    private let buffer: UnsafeMutableRawPointer
    private var start = 0
    private var end = 0
    private var bufferFileOffset: UInt64 = 0
    private var atEOF = false

    /// Opens `path` for reading (`open(2)`).
    init(path: String) throws(TraceFileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        self.fd = fd
        ownsDescriptor = true
        buffer = .allocate(byteCount: Self.capacity, alignment: 16)
    }

    /// Reads from an open descriptor (stdin, a pipe); the caller keeps ownership.
    init(fileDescriptor: Int32) {
        fd = fileDescriptor
        ownsDescriptor = false
        buffer = .allocate(byteCount: Self.capacity, alignment: 16)
    }

    deinit {
        if ownsDescriptor { close(fd) }
        buffer.deallocate()
    }

    /// File offset of the next unread byte.
    var offset: UInt64 { bufferFileOffset + UInt64(start) }

    /// Makes `n` bytes contiguous in the buffer; false if the file ends first.
    private func fill(_ n: Int) throws(TraceFileError) -> Bool {
        if end - start >= n { return true }
        guard n <= Self.capacity else { return false }
        if start > 0 {
            if end > start { memmove(buffer, buffer + start, end - start) }
            bufferFileOffset += UInt64(start)
            end -= start
            start = 0
        }
        while end < n, !atEOF {
            let got = read(fd, buffer + end, Self.capacity - end)
            if got < 0 {
                if errno == EINTR { continue }
                throw .io(reason: "read failed at byte \(offset): \(String(cString: strerror(errno)))")
            }
            if got == 0 { atEOF = true } else { end += got }
        }
        return end - start >= n
    }

    /// The next `n` bytes without consuming them; nil if fewer remain.
    func peek(_ n: Int) throws(TraceFileError) -> UnsafeRawBufferPointer? {
        guard try fill(n) else { return nil }
        return UnsafeRawBufferPointer(start: buffer + start, count: n)
    }

    /// True when no bytes remain.
    func isAtEnd() throws(TraceFileError) -> Bool {
        try !fill(1)
    }

    /// Consumes and returns the next `n` bytes (valid until the next call).
    /// Nil when the file ends cleanly here; `.truncated` naming `what` when
    /// it ends part-way.
    func take(_ n: Int, what: @autoclosure () -> String) throws(TraceFileError) -> UnsafeRawBufferPointer? {
        let at = offset
        guard try fill(n) else {
            if end == start { return nil }
            throw .truncated(offset: at, reason: what())
        }
        let p = UnsafeRawBufferPointer(start: buffer + start, count: n)
        start += n
        return p
    }

    /// Like `take`, but running out at any point is `.truncated`.
    func require(_ n: Int, what: @autoclosure () -> String) throws(TraceFileError) -> UnsafeRawBufferPointer {
        let at = offset
        guard let p = try take(n, what: what()) else { throw .truncated(offset: at, reason: what()) }
        return p
    }

    /// Consumes `n` bytes of any size a piece at a time (blocks too large
    /// to hold, which nobody needs to see).
    func skip(_ n: UInt64, what: @autoclosure () -> String) throws(TraceFileError) {
        let at = offset
        var left = n
        while left > 0 {
            let piece = Int(min(left, UInt64(Self.capacity)))
            let available = try fill(piece) ? piece : end - start
            guard available > 0 else { throw .truncated(offset: at, reason: what()) }
            start += available
            left -= UInt64(available)
        }
    }
}
