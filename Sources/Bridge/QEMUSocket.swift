#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NICCore

/// Counters of a QEMU socket backend.
public struct QEMUSocketCounters: Sendable, Equatable {
    /// Frames and bytes that came from the peer.
    public var framesIn = 0
    public var bytesIn = 0
    /// Frames and bytes sent to the peer.
    public var framesOut = 0
    public var bytesOut = 0
    /// Frames to send while no peer was connected.
    public var droppedNoPeer = 0
    /// Frames to send that did not fit in the send buffer (the peer is slow).
    public var droppedSendBufferFull = 0
    /// Connections accepted or made.
    public var connections = 0
    /// Connections closed because the peer broke the framing.
    public var protocolErrors = 0
    /// Peers turned away because one was already connected.
    public var refusedPeers = 0
    /// Zero-length records from the peer (skipped, as QEMU skips them).
    public var emptyRecords = 0
}

/// QEMU's socket netdev, so a real QEMU guest joins a nicsim network.
///
/// QEMU's `-netdev socket` (TCP) and `-netdev stream` (TCP or UNIX) carry
/// each Ethernet frame as a 4-byte big-endian length followed by the frame.
/// nicsim either listens (QEMU connects with `server=off` or
/// `connect=`) or connects (to QEMU's `server=on` or `listen=`), and then,
/// given a `reconnectInterval`, connects again when the peer goes away.
/// One peer at a time; while none is connected the port's link is down.
///
/// A length larger than `maxFrameSize` means the peer is
/// not speaking this framing: that connection is closed with the reason
/// logged, and a listener goes back to waiting for the next one. Everything
/// is non-blocking and driven by the Board's loop through `poll()`; the
/// receive and send buffers are allocated once.
public final class QEMUSocket: FrameTransmitter, EventSource {
    public enum Mode: Sendable, Equatable {
        case listen(SocketEndpoint)
        case connect(SocketEndpoint)
        /// A stream socket opened elsewhere, now owned (and closed) by this
        /// netdev: a connected one (QEMU's `-netdev socket,fd=N`), or a
        /// listening one whose first peer is accepted.
        case adopt(fd: Int32, listening: Bool)
    }

    /// QEMU's receive buffer size (NET_BUFSIZE: 4096 + 65536): no QEMU NIC sends more.
    public static let defaultMaxFrameSize = 69_632
    public let mode: Mode
    public let port: FramePort
    public let maxFrameSize: Int
    public private(set) var counters = QEMUSocketCounters()
    /// Why the last connection was closed, if one was.
    public private(set) var lastCloseReason: String?
    /// Where closes and protocol errors are reported (stderr by default).
    public var log: (String) -> Void = { message in
        let line = Array("nicsim: \(message)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
    /// The TCP port a listener is bound to (useful after listening on port 0).
    public private(set) var boundPort: UInt16?
    /// In connect mode, how long (wall-clock seconds) to wait before
    /// connecting again after the peer went away; nil: don't. QEMU's own
    /// `reconnect=` works the same way. Only the socket waits on the wall
    /// clock; the emulation's time is untouched.
    public var reconnectInterval: Double?
    /// Connections made again after the peer went away.
    public private(set) var reconnects = 0
    private var pendingConnect: Int32 = -1
    private var nextReconnect: Double = 0

    private var listener: Int32 = -1
    private var connection: Int32 = -1
    private let receiveBuffer: UnsafeMutableRawPointer
    private let receiveCapacity: Int
    private var receiveStart = 0
    private var receiveEnd = 0
    private let sendBuffer: UnsafeMutableRawPointer
    private let sendCapacity: Int
    private var sendStart = 0
    private var sendEnd = 0
    private var unixPath: String?
    private let drivesLink: Bool

    /// Listens or connects now; a connect failure throws.
    /// With `drivesLink` (the default) the port's link is up only while a
    /// peer is connected; without it the link is left as it is, as QEMU's
    /// qtest machines leave a NIC's link with a socket netdev.
    public init(_ mode: Mode, port: FramePort, maxFrameSize: Int = QEMUSocket.defaultMaxFrameSize,
                sendBufferSize: Int = 1 << 20, drivesLink: Bool = true) throws(QEMUSocketError) {
        self.mode = mode
        self.port = port
        self.maxFrameSize = max(64, maxFrameSize)
        receiveCapacity = 4 + self.maxFrameSize + (64 << 10)
        receiveBuffer = .allocate(byteCount: receiveCapacity, alignment: 16)
        sendCapacity = max(sendBufferSize, 4 + self.maxFrameSize)
        sendBuffer = .allocate(byteCount: sendCapacity, alignment: 16)
        self.drivesLink = drivesLink
        port.transmitter = self
        if drivesLink { port.setLink(up: false) }
        switch mode {
        case .listen(let endpoint): try startListening(endpoint)
        case .connect(let endpoint): try connect(to: endpoint)
        case .adopt(let fd, let listening):
            guard fd >= 0 else { throw .system("no socket to adopt (descriptor \(fd))") }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            if listening { listener = fd } else { adopt(fd) }
        }
    }

    deinit {
        close()
        receiveBuffer.deallocate()
        sendBuffer.deallocate()
    }

    public var isConnected: Bool { connection >= 0 }

    /// The descriptor a host's poll(2) loop waits on for this netdev (the
    /// connection, else the listener; -1 when neither is open), and the
    /// events to wait for: POLLOUT too while sent frames are queued.
    public var pollDescriptor: Int32 { connection >= 0 ? connection : listener }
    public var pollEvents: Int16 { Int16(POLLIN) | (connection >= 0 && sendEnd > sendStart ? Int16(POLLOUT) : 0) }

    /// Closes the connection and the listener.
    public func close() {
        reconnectInterval = nil
        if pendingConnect >= 0 {
            closeDescriptor(pendingConnect)
            pendingConnect = -1
        }
        if connection >= 0 { dropConnection(reason: nil) }
        if listener >= 0 {
            closeDescriptor(listener)
            listener = -1
        }
        if let path = unixPath {
            unlink(path)
            unixPath = nil
        }
    }

    // MARK: Setting up

    private func startListening(_ endpoint: SocketEndpoint) throws(QEMUSocketError) {
        let address = try ResolvedAddress(endpoint, forListening: true)
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("cannot create a socket for \(endpoint): \(Self.errorText())") }
        if case .unix(let path) = endpoint {
            // A stale socket file from an earlier run would make bind fail.
            var st = stat()
            if lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFSOCK { unlink(path) }
        } else {
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound = address.withSockaddr { bind(fd, $0, $1) }
        guard bound == 0, listen(fd, 4) == 0 else {
            let text = Self.errorText()
            closeDescriptor(fd)
            throw .system("cannot listen on \(endpoint): \(text) (is another nicsim or QEMU already using it?)")
        }
        listener = fd
        switch endpoint {
        case .unix(let path):
            unixPath = path
        case .tcp:
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let ok = withUnsafeMutableBytes(of: &storage) { raw in
                getsockname(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length)
            }
            if ok == 0 {
                withUnsafeBytes(of: storage) { raw in
                    // sin_port and sin6_port both sit at offset 2, in network order.
                    boundPort = UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
                }
            }
        }
    }

    private func connect(to endpoint: SocketEndpoint) throws(QEMUSocketError) {
        let address = try ResolvedAddress(endpoint, forListening: false)
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("cannot create a socket for \(endpoint): \(Self.errorText())") }
        let rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        guard rc == 0 else {
            let text = Self.errorText()
            closeDescriptor(fd)
            throw .system("cannot connect to \(endpoint): \(text) (start QEMU with server=on first)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        adopt(fd)
    }

    /// Connect mode, no peer: starts a non-blocking connect when the
    /// interval has passed, and adopts it once it completes.
    private func tryReconnect() -> Bool {
        guard case .connect(let endpoint) = mode, let interval = reconnectInterval else { return false }
        if pendingConnect >= 0 {
            var p = pollfd(fd: pendingConnect, events: Int16(POLLOUT), revents: 0)
            guard Glibc.poll(&p, 1, 0) > 0 else { return false }
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(pendingConnect, SOL_SOCKET, SO_ERROR, &failure, &length)
            let fd = pendingConnect
            pendingConnect = -1
            guard failure == 0 else {
                closeDescriptor(fd)
                nextReconnect = Self.monotonicSeconds() + interval
                return false
            }
            reconnects += 1
            adopt(fd)
            return true
        }
        guard Self.monotonicSeconds() >= nextReconnect else { return false }
        nextReconnect = Self.monotonicSeconds() + interval
        guard let address = try? ResolvedAddress(endpoint, forListening: false) else { return false }
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        let rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        if rc == 0 {
            reconnects += 1
            adopt(fd)
            return true
        }
        if errno == EINPROGRESS {
            pendingConnect = fd
        } else {
            closeDescriptor(fd)
        }
        return false
    }

    private static func monotonicSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    private func adopt(_ fd: Int32) {
        if address(familyOf: fd) != AF_UNIX {
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        connection = fd
        receiveStart = 0
        receiveEnd = 0
        sendStart = 0
        sendEnd = 0
        counters.connections += 1
        if drivesLink { port.setLink(up: true) }
    }

    private func address(familyOf fd: Int32) -> Int32 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutableBytes(of: &storage) { raw in
            getsockname(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length)
        }
        return Int32(storage.ss_family)
    }

    private func dropConnection(reason: String?) {
        guard connection >= 0 else { return }
        closeDescriptor(connection)
        connection = -1
        if let reason {
            lastCloseReason = reason
            log("QEMU socket \(endpointDescription): closed the connection: \(reason)")
        }
        if drivesLink { port.setLink(up: false) }
    }

    private var endpointDescription: String {
        switch mode {
        case .listen(let e), .connect(let e): e.description
        case .adopt(let fd, _): "fd \(fd)"
        }
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }

    // MARK: Event loop

    /// Accepts a waiting peer, reads whatever arrived (handing each whole
    /// frame to the port) and sends what is queued. Never blocks.
    public func poll() -> Bool {
        var worked = false
        if connection < 0, listener >= 0 {
            let fd = accept(listener, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                adopt(fd)
                worked = true
            }
        }
        if connection < 0, tryReconnect() { worked = true }
        guard connection >= 0 else { return worked }
        if listener >= 0 { refuseExtraPeers() }
        if flushSendBuffer() { worked = true }
        // At most 64 reads per pass, so one busy peer can't starve the loop.
        for _ in 0..<64 where connection >= 0 {
            if receiveEnd == receiveCapacity { compactReceiveBuffer() }
            let n = recv(connection, receiveBuffer + receiveEnd, receiveCapacity - receiveEnd, 0)
            if n > 0 {
                receiveEnd += n
                worked = true
                deliverWholeFrames()
                continue
            }
            if n == 0 {
                let partial = receiveEnd > receiveStart
                dropConnection(reason: partial ? "the peer closed the connection in the middle of a frame" : "the peer closed the connection")
                worked = true
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                dropConnection(reason: "receive failed: \(Self.errorText())")
                worked = true
            }
            break
        }
        return worked
    }

    /// One peer at a time: a second one is accepted and closed at once (so
    /// it fails fast instead of hanging in the backlog), and logged.
    private func refuseExtraPeers() {
        for _ in 0..<4 {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            closeDescriptor(fd)
            counters.refusedPeers += 1
            log("QEMU socket \(endpointDescription): refused another peer: one is already connected")
        }
    }

    /// Hands every complete frame in the receive buffer to the port.
    private func deliverWholeFrames() {
        while connection >= 0, receiveEnd - receiveStart >= 4 {
            let length = Int(UInt32(bigEndian: (receiveBuffer + receiveStart).loadUnaligned(as: UInt32.self)))
            guard length <= maxFrameSize else {
                counters.protocolErrors += 1
                dropConnection(reason: "the peer sent a frame length of \(length) bytes (more than \(maxFrameSize)): "
                               + "not QEMU's 4-byte big-endian length framing")
                return
            }
            if length == 0 {
                // QEMU's framing allows an empty record; no NIC takes an empty frame.
                receiveStart += 4
                counters.emptyRecords += 1
                continue
            }
            guard receiveEnd - receiveStart >= 4 + length else { break }
            let frame = UnsafeRawBufferPointer(start: receiveBuffer + receiveStart + 4, count: length)
            counters.framesIn += 1
            counters.bytesIn += length
            receiveStart += 4 + length
            port.offer(frame)
        }
        if receiveStart == receiveEnd {
            receiveStart = 0
            receiveEnd = 0
        } else if receiveCapacity - receiveEnd < 4 + maxFrameSize {
            compactReceiveBuffer()
        }
    }

    private func compactReceiveBuffer() {
        let pending = receiveEnd - receiveStart
        if pending > 0, receiveStart > 0 { memmove(receiveBuffer, receiveBuffer + receiveStart, pending) }
        receiveStart = 0
        receiveEnd = pending
    }

    // MARK: Sending

    /// A frame from the port for the peer: framed into the send buffer and
    /// sent as far as the socket takes it now.
    public func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        guard connection >= 0 else {
            counters.droppedNoPeer += 1
            return
        }
        let need = 4 + frame.count
        guard frame.count <= maxFrameSize else {
            counters.droppedSendBufferFull += 1
            return
        }
        if sendCapacity - sendEnd < need, sendStart > 0 {
            let pending = sendEnd - sendStart
            if pending > 0 { memmove(sendBuffer, sendBuffer + sendStart, pending) }
            sendStart = 0
            sendEnd = pending
        }
        guard sendCapacity - sendEnd >= need else {
            counters.droppedSendBufferFull += 1
            return
        }
        (sendBuffer + sendEnd).storeBytes(of: UInt32(frame.count).bigEndian, as: UInt32.self)
        if let base = frame.baseAddress, frame.count > 0 {
            (sendBuffer + sendEnd + 4).copyMemory(from: base, byteCount: frame.count)
        }
        sendEnd += need
        counters.framesOut += 1
        counters.bytesOut += frame.count
        _ = flushSendBuffer()
    }

    /// Sends queued bytes until the socket would block. True if any went.
    private func flushSendBuffer() -> Bool {
        var sent = false
        while connection >= 0, sendEnd > sendStart {
            let n = send(connection, sendBuffer + sendStart, sendEnd - sendStart, Int32(MSG_NOSIGNAL))
            if n > 0 {
                sendStart += n
                sent = true
                continue
            }
            if n < 0, errno == EINTR { continue }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK { break }
            dropConnection(reason: "send failed: \(Self.errorText())")
            break
        }
        if sendStart == sendEnd {
            sendStart = 0
            sendEnd = 0
        }
        return sent
    }
}
