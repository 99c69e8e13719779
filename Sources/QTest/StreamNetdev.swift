import Board
import NICCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// QEMU's stream netdev framing on a connected socket: every frame is
/// preceded by its length as a 4-byte big-endian number. This is what
/// `-netdev socket,fd=N` speaks on a stream socket and what
/// `-netdev stream` speaks on its connection.
///
/// Reads are non-blocking: `poll()` drains what has arrived, hands each
/// complete frame to the port, and keeps a partial one for later. Buffers
/// are allocated once. A length above `maxFrame` means the stream is out of
/// step; the connection is closed rather than guessed at.
public final class StreamNetdev: EventSource, FrameTransmitter {
    public static let maxFrame = 65536
    public let port: FramePort
    /// The connected socket, or -1 when closed or still waiting for a peer.
    public private(set) var fd: Int32
    /// A listening socket waiting for its one peer (`server=on`).
    public private(set) var listenFD: Int32
    public private(set) var framesIn = 0
    public private(set) var framesOut = 0
    public private(set) var droppedOut = 0

    private var inbox: UnsafeMutableRawBufferPointer
    private var filled = 0
    private var outbox: UnsafeMutableRawBufferPointer

    /// Uses `fd`, already connected; or, with `listening`, accepts one peer on it.
    public init(port: FramePort, fd: Int32, listening: Bool = false) {
        self.port = port
        self.fd = listening ? -1 : fd
        self.listenFD = listening ? fd : -1
        inbox = .allocate(byteCount: 4 + Self.maxFrame, alignment: 16)
        outbox = .allocate(byteCount: 4 + Self.maxFrame, alignment: 16)
        if fd >= 0 { setNonBlocking(fd) }
        port.transmitter = self
    }

    deinit {
        close()
        inbox.deallocate()
        outbox.deallocate()
    }

    /// The descriptor the event loop should wait on for this netdev.
    public var pollDescriptor: Int32 { fd >= 0 ? fd : listenFD }

    public func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
        if listenFD >= 0 { _ = Glibc.close(listenFD); listenFD = -1 }
    }

    // MARK: Inbound

    public func poll() -> Bool {
        if fd < 0, listenFD >= 0 {
            let peer = accept(listenFD, nil, nil)
            guard peer >= 0 else { return false }
            setNonBlocking(peer)
            fd = peer
        }
        guard fd >= 0 else { return false }
        var worked = false
        // Bounded: at most 64 reads per poll, so one busy peer can't starve
        // the qtest channel.
        for _ in 0..<64 {
            let space = inbox.count - filled
            guard space > 0, let base = inbox.baseAddress else { break }
            let n = read(fd, base + filled, space)
            if n == 0 { closeConnection(); return true }
            if n < 0 {
                if errno == EINTR { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK { closeConnection(); return true }
                break
            }
            filled += n
            worked = true
            guard deliverFrames() else { return true }
        }
        return worked
    }

    /// Hands every complete frame in the inbox to the port. False if the
    /// stream was out of step and has been closed.
    private func deliverFrames() -> Bool {
        var start = 0
        while filled - start >= 4 {
            let length = Int(inbox[start]) << 24 | Int(inbox[start + 1]) << 16 | Int(inbox[start + 2]) << 8 | Int(inbox[start + 3])
            guard length <= Self.maxFrame else { closeConnection(); return false }
            guard filled - start - 4 >= length else { break }
            port.offer(UnsafeRawBufferPointer(rebasing: inbox[(start + 4)..<(start + 4 + length)]))
            framesIn += 1
            start += 4 + length
        }
        if start > 0, let base = inbox.baseAddress {
            (base).copyMemory(from: base + start, byteCount: filled - start)
            filled -= start
        }
        return true
    }

    private func closeConnection() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
        filled = 0
    }

    // MARK: Outbound

    public func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        guard fd >= 0, frame.count <= Self.maxFrame, let out = outbox.baseAddress else {
            droppedOut += 1
            return
        }
        let n = frame.count
        outbox[0] = UInt8(truncatingIfNeeded: n >> 24)
        outbox[1] = UInt8(truncatingIfNeeded: n >> 16)
        outbox[2] = UInt8(truncatingIfNeeded: n >> 8)
        outbox[3] = UInt8(truncatingIfNeeded: n)
        if n > 0, let src = frame.baseAddress { (out + 4).copyMemory(from: src, byteCount: n) }
        var sent = 0
        var stalls = 0
        while sent < 4 + n {
            let w = write(fd, out + sent, 4 + n - sent)
            if w > 0 { sent += w; continue }
            if w < 0 && errno == EINTR { continue }
            if w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && stalls < 100 {
                // The peer is slow: wait (at most 100 x 10 ms) for room.
                stalls += 1
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = Glibc.poll(&p, 1, 10)
                continue
            }
            closeConnection()
            droppedOut += 1
            return
        }
        framesOut += 1
    }
}

func setNonBlocking(_ fd: Int32) {
    let flags = fcntl(fd, F_GETFL)
    if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
}
