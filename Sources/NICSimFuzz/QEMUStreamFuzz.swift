import Bridge
import NICCore
import QTest

#if canImport(Glibc)
import Glibc
#endif

/// QEMU's stream netdev framing (a 4-byte big-endian length before each
/// frame) as a peer sends it, to the Bridge's `QEMUSocket` in both of its
/// uses: listening for `nicsim serve --qemu-socket`, and adopting a
/// connected socket as qtest's `-netdev socket,fd=N` does. The input is one schedule byte
/// (bits 0-2 pick how the stream is cut into writes, bit 3 echoes every
/// frame back to the peer) and then the stream. Each run opens a real
/// connection (a UNIX socket when listening, a socket pair when adopting), writes the stream in pieces, lets the netdev poll
/// after each piece, and closes; everything the netdev hands on must be a
/// frame no longer than it allows.
enum QEMUStreamFuzz {
    /// Bytes per write, by schedule.
    static let pieceSizes = [1, 3, 7, 64, 1000, 4096, 65536, Int.max]

    /// Where `QEMUSocket` listens; it removes the socket file when closed.
    private static let socketPath = "/tmp/nicsim-fuzz-\(getpid()).sock"

    /// The NIC side of the netdev's port: takes every frame, checks its
    /// length, and (when asked) sends it back the way it came.
    final class Sink: FrameReceiver {
        let port: FramePort
        let maxFrame: Int
        let echo: Bool
        private(set) var frames = 0

        init(port: FramePort, maxFrame: Int, echo: Bool) {
            self.port = port
            self.maxFrame = maxFrame
            self.echo = echo
            port.receiver = self
        }

        func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
            precondition(frame.count <= maxFrame, "the netdev handed on a \(frame.count)-byte frame")
            frames += 1
            if echo { port.transmit(frame) }
            return .accepted
        }

        func linkStateDidChange(up: Bool) {}
    }

    static func runBridge(_ input: inout FuzzInput) {
        let schedule = input.u8()
        let stream = input.rest()
        let path = socketPath
        let port = FramePort(policy: .hold(capacity: 4))
        let sink = Sink(port: port, maxFrame: QEMUSocket.defaultMaxFrameSize, echo: schedule & 8 != 0)
        guard let socket = try? QEMUSocket(.listen(.unix(path: path)), port: port, sendBufferSize: 128 << 10) else {
            preconditionFailure("cannot listen on \(path)")
        }
        socket.log = { _ in }
        defer { socket.close() }
        let peer = connectUNIX(path)
        defer { close(peer) }
        _ = socket.poll()
        feed(stream, to: peer, pieceSize: pieceSizes[Int(schedule & 7)]) { _ = socket.poll() }
        shutdown(peer, Int32(SHUT_WR))
        _ = socket.poll()
        drain(peer)
        _ = sink.frames
    }

    static func runQTest(_ input: inout FuzzInput) {
        let schedule = input.u8()
        let stream = input.rest()
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            preconditionFailure("socketpair failed: errno \(errno)")
        }
        let port = FramePort(policy: .drop)
        let sink = Sink(port: port, maxFrame: QEMUSocket.defaultMaxFrameSize, echo: schedule & 8 != 0)
        guard let netdev = try? QEMUSocket(.adopt(fd: pair[0], listening: false), port: port, sendBufferSize: 128 << 10,
                                           drivesLink: false) else {
            preconditionFailure("cannot adopt a socket pair")
        }
        netdev.log = { _ in }
        defer { netdev.close() }
        let peer = pair[1]
        defer { close(peer) }
        _ = fcntl(peer, F_SETFL, fcntl(peer, F_GETFL) | O_NONBLOCK)
        feed(stream, to: peer, pieceSize: pieceSizes[Int(schedule & 7)]) { _ = netdev.poll() }
        shutdown(peer, Int32(SHUT_WR))
        _ = netdev.poll()
        drain(peer)
        _ = sink.frames
    }

    /// Writes `bytes` to `fd` in pieces, calling `poll` after each; when
    /// the socket is full, polls until the reader has made room (and stops
    /// if it never does: the netdev closed the connection).
    private static func feed(_ bytes: UnsafeRawBufferPointer, to fd: Int32, pieceSize: Int, poll: () -> Void) {
        var at = 0
        var stalls = 0
        while at < bytes.count, stalls < 4 {
            // MSG_NOSIGNAL: the netdev may have closed the connection on us.
            let n = send(fd, bytes.baseAddress! + at, min(pieceSize, bytes.count - at), Int32(MSG_NOSIGNAL))
            if n > 0 {
                at += n
                stalls = 0
            } else {
                stalls += 1
            }
            poll()
            drain(fd)
        }
    }

    /// Reads and discards whatever the netdev sent back.
    private static func drain(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while buffer.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) > 0 {}
    }

    private static func connectUNIX(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        precondition(fd >= 0, "socket failed: errno \(errno)")
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { sun in
            for (i, b) in bytes.prefix(sun.count - 1).enumerated() { sun[i] = b }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        precondition(rc == 0, "connect to \(path) failed: errno \(errno)")
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return fd
    }
}
