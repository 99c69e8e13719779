import Board
import NICCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `-netdev socket,fd=N` on a datagram socket: QEMU's framing there is one
/// frame per datagram, no length prefix. Non-blocking reads into one
/// buffer allocated once; a datagram larger than `maxFrame` is truncated by
/// the socket and dropped here.
public final class DatagramNetdev: EventSource, FrameTransmitter {
    public static let maxFrame = 65536
    public let port: FramePort
    public private(set) var fd: Int32
    public private(set) var framesIn = 0
    public private(set) var framesOut = 0
    public private(set) var droppedIn = 0
    public private(set) var droppedOut = 0
    private let inbox: UnsafeMutableRawBufferPointer

    public init(port: FramePort, fd: Int32) {
        self.port = port
        self.fd = fd
        inbox = .allocate(byteCount: Self.maxFrame + 1, alignment: 16)
        setNonBlocking(fd)
        port.transmitter = self
    }

    deinit {
        close()
        inbox.deallocate()
    }

    public func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
    }

    public func poll() -> Bool {
        guard fd >= 0, let base = inbox.baseAddress else { return false }
        var worked = false
        for _ in 0..<64 {
            let n = recv(fd, base, inbox.count, 0)
            if n < 0 {
                if errno == EINTR { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK { close() }
                break
            }
            worked = true
            guard n <= Self.maxFrame else {
                droppedIn += 1
                continue
            }
            port.offer(UnsafeRawBufferPointer(start: base, count: n))
            framesIn += 1
        }
        return worked
    }

    public func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        guard fd >= 0 else {
            droppedOut += 1
            return
        }
        var attempts = 0
        while attempts < 100 {
            attempts += 1
            if send(fd, frame.baseAddress, frame.count, 0) == frame.count {
                framesOut += 1
                return
            }
            if errno == EINTR { continue }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS else { break }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = Glibc.poll(&p, 1, 10)
        }
        droppedOut += 1
    }
}
