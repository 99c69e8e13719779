#if canImport(Glibc)
import Glibc
#endif
import NICCore

/// A UNIX stream socket that QEMU guests join with
/// `-netdev stream,server=off,addr.type=unix,addr.path=PATH`. Each frame on
/// the stream is a 4-byte big-endian length and the frame (QEMU's
/// net/stream framing). Guests and the local `FramePort` share one hub:
/// a frame goes to every other member, unicast frames only to the member
/// that last sent from that address once it's known.
final class QEMUStreamListener: FrameTransmitter {
    /// Largest frame accepted from a guest; longer lengths end the connection.
    static let maximumFrame = 65536

    final class Connection {
        let fd: Int32
        var input = [UInt8](repeating: 0, count: 4 + QEMUStreamListener.maximumFrame)
        var filled = 0
        var sources: Set<MACAddress> = []
        init(fd: Int32) { self.fd = fd }
    }

    let path: String
    let port: FramePort
    private let listenFD: Int32
    private(set) var connections: [Connection] = []
    var onConnect: (() -> Void)?
    var onDisconnect: (() -> Void)?
    private var header = [UInt8](repeating: 0, count: 4)

    init(path: String, port: FramePort) throws(CLIError) {
        self.path = path
        self.port = port
        var st = stat()
        if lstat(path, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFSOCK else {
                throw CLIError(description: "\(path) exists and is not a socket; choose another --qemu-socket path")
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw CLIError(description: "can't create a UNIX socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else {
            close(fd)
            throw CLIError(description: "--qemu-socket path is longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw CLIError(description: "can't listen on \(path): \(why)")
        }
        listenFD = fd
        port.transmitter = self
    }

    deinit {
        for c in connections { close(c.fd) }
        close(listenFD)
        unlink(path)
    }

    /// The descriptors to poll for input.
    func pollDescriptors() -> [pollfd] {
        [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)] + connections.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
    }

    /// Handles what poll reported.
    func service(_ fds: [pollfd]) {
        for p in fds where p.revents != 0 {
            if p.fd == listenFD {
                let fd = accept(listenFD, nil, nil)
                if fd >= 0 {
                    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                    connections.append(Connection(fd: fd))
                    onConnect?()
                }
            } else if let c = connections.first(where: { $0.fd == p.fd }) {
                if !read(c) { drop(c) }
            }
        }
    }

    /// Reads what is there and hands out every whole frame. False when the
    /// peer closed or broke the framing.
    private func read(_ c: Connection) -> Bool {
        let n = c.input.withUnsafeMutableBytes { raw -> Int in
            guard let base = raw.baseAddress else { return -1 }
            return recv(c.fd, base + c.filled, raw.count - c.filled, Int32(MSG_DONTWAIT))
        }
        if n == 0 { return false }
        if n < 0 { return errno == EAGAIN || errno == EINTR }
        c.filled += n
        var start = 0
        // Each pass consumes a whole frame, so this ends within filled/4 passes.
        while c.filled - start >= 4 {
            let length = Int(c.input[start]) << 24 | Int(c.input[start + 1]) << 16 | Int(c.input[start + 2]) << 8 | Int(c.input[start + 3])
            guard length <= Self.maximumFrame else { return false }
            guard c.filled - start >= 4 + length else { break }
            c.input.withUnsafeBytes { raw in
                let frame = UnsafeRawBufferPointer(rebasing: raw[(start + 4)..<(start + 4 + length)])
                if frame.count >= 12, let base = frame.baseAddress { c.sources.insert(MACAddress(loadingFrom: base + 6)) }
                forward(frame, except: c)
                port.offer(frame)
            }
            start += 4 + length
        }
        if start > 0 {
            c.input.withUnsafeMutableBytes { raw in
                if let base = raw.baseAddress, c.filled > start { memmove(base, base + start, c.filled - start) }
            }
            c.filled -= start
        }
        return true
    }

    private func drop(_ c: Connection) {
        close(c.fd)
        connections.removeAll { $0 === c }
        onDisconnect?()
    }

    // MARK: FrameTransmitter (frames from the local port)

    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        forward(frame, except: nil)
    }

    private func forward(_ frame: UnsafeRawBufferPointer, except source: Connection?) {
        guard frame.count >= 6, let base = frame.baseAddress else { return }
        let destination = MACAddress(loadingFrom: base)
        let owner = destination.isMulticast ? nil : connections.first { $0.sources.contains(destination) }
        for c in connections where c !== source && (owner == nil || owner === c) {
            if !write(frame, to: c) { drop(c) }
        }
    }

    private func write(_ frame: UnsafeRawBufferPointer, to c: Connection) -> Bool {
        let n = UInt32(frame.count)
        header[0] = UInt8(n >> 24); header[1] = UInt8(truncatingIfNeeded: n >> 16)
        header[2] = UInt8(truncatingIfNeeded: n >> 8); header[3] = UInt8(truncatingIfNeeded: n)
        return header.withUnsafeBytes { sendAll($0, c.fd) } && sendAll(frame, c.fd)
    }

    /// Blocking send of every byte; at most a few partial writes happen.
    private func sendAll(_ bytes: UnsafeRawBufferPointer, _ fd: Int32) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var done = 0
        var attempts = 0
        while done < bytes.count, attempts < 1000 {
            attempts += 1
            let n = send(fd, base + done, bytes.count - done, Int32(MSG_NOSIGNAL))
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return false
            }
            done += n
        }
        return done == bytes.count
    }
}
