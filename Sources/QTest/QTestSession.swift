import Board
import Bridge
import NICCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `nicsim qtest` at run time: the machine from the options, its netdevs
/// connected, and one event loop that waits on the qtest channel and every
/// netdev socket at once. Commands are answered as they arrive; frames
/// from a netdev are delivered between commands, and the interrupts they
/// raise are reported at once as asynchronous `IRQ` lines.
public final class QTestSession {
    public let machine: QTestMachine
    public let server: QTestServer
    private var netdevs: [EventSource] = []
    private let input: Int32
    private let output: Int32
    /// Set when the channel can't take a reply (the harness went away).
    private let channelState = ChannelState()

    private final class ChannelState {
        var broken = false
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(options: QEMUOptions) throws(Failure) {
        do {
            machine = try QTestMachine(options: options)
        } catch {
            throw Failure(description: error.description)
        }
        switch options.channel {
        case .stdio:
            input = 0
            output = 1
        case .unix(let path, let server):
            do {
                if server {
                    let l = try Sockets.listenUnix(path)
                    let peer = accept(l, nil, nil)
                    Glibc.close(l)
                    guard peer >= 0 else { throw Failure(description: "accept on \(path) failed") }
                    input = peer
                } else {
                    input = try Sockets.connectUnix(path)
                }
            } catch let e as Sockets.Failure {
                throw Failure(description: "-qtest: \(e.description)")
            } catch let e as Failure {
                throw e
            } catch {
                throw Failure(description: "-qtest: \(error)")
            }
            output = input
        }
        let out = output
        let state = channelState
        server = QTestServer(board: machine.board) { line in
            if !state.broken && !Self.writeLine(out, line) { state.broken = true }
        }
        for (id, netdev) in options.netdevs.sorted(by: { $0.key < $1.key }) {
            // A netdev no device uses is still opened, as QEMU opens it.
            let port = machine.nic(forNetdev: id)?.device.port ?? FramePort(policy: .drop)
            let backend: EventSource
            do throws(Sockets.Failure) {
                switch netdev {
                case .socketFD(let fd):
                    switch Sockets.socketType(fd) {
                    case Int32(SOCK_STREAM.rawValue): backend = try Self.stream(port: port, fd: fd, listening: false)
                    case Int32(SOCK_DGRAM.rawValue): backend = DatagramNetdev(port: port, fd: fd)
                    default:
                        throw Sockets.Failure(description: "-netdev socket,id=\(id): fd \(fd) is not an open stream or datagram socket")
                    }
                case .streamUnix(let path, let server):
                    backend = try Self.stream(port: port, fd: server ? try Sockets.listenUnix(path) : try Sockets.connectUnix(path), listening: server)
                case .streamInet(let host, let p, let server):
                    backend = try Self.stream(port: port, fd: try Sockets.inet(host: host, port: p, listening: server), listening: server)
                }
            } catch {
                throw Failure(description: error.description)
            }
            netdevs.append(backend)
            machine.board.add(source: backend)
        }
    }

    /// A stream netdev on `fd`: QEMU's 4-byte big-endian length framing,
    /// written once, in the Bridge's `QEMUSocket`. The NIC's link stays as
    /// the machine set it.
    static func stream(port: FramePort, fd: Int32, listening: Bool) throws(Sockets.Failure) -> QEMUSocket {
        do {
            let socket = try QEMUSocket(.adopt(fd: fd, listening: listening), port: port, drivesLink: false)
            return socket
        } catch {
            throw Sockets.Failure(description: "-netdev: \(error)")
        }
    }

    /// Serves until the channel closes. Lines are at most 1 MiB (a longer
    /// one is answered FAIL and skipped).
    public func run() {
        // A harness that closes its end mid-reply ends the session with an
        // error from write(2), not a SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        var pending = [UInt8]()
        var discarding = false
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
        defer { chunk.deallocate() }
        var fds: [pollfd] = []
        fds.reserveCapacity(1 + netdevs.count)
        while true {
            fds.removeAll(keepingCapacity: true)
            fds.append(pollfd(fd: input, events: Int16(POLLIN), revents: 0))
            for n in netdevs {
                if let stream = n as? QEMUSocket {
                    if stream.pollDescriptor >= 0 { fds.append(pollfd(fd: stream.pollDescriptor, events: stream.pollEvents, revents: 0)) }
                } else if let datagram = n as? DatagramNetdev, datagram.fd >= 0 {
                    fds.append(pollfd(fd: datagram.fd, events: Int16(POLLIN), revents: 0))
                }
            }
            let r = Glibc.poll(&fds, nfds_t(fds.count), -1)
            if r < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds.dropFirst().contains(where: { $0.revents != 0 }) {
                machine.board.runUntilIdle()
            }
            guard !channelState.broken else { return }
            guard fds[0].revents != 0 else { continue }
            let n = read(input, chunk.baseAddress, chunk.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            var lineStart = 0
            for i in 0..<n where chunk[i] == UInt8(ascii: "\n") {
                if !discarding {
                    pending.append(contentsOf: chunk[lineStart..<i])
                    server.handle(line: String(decoding: pending, as: UTF8.self))
                    if channelState.broken { return }
                }
                pending.removeAll(keepingCapacity: true)
                discarding = false
                lineStart = i + 1
            }
            if !discarding { pending.append(contentsOf: chunk[lineStart..<n]) }
            if pending.count > 1 << 20 {
                pending.removeAll()
                if !discarding && !Self.writeLine(output, "FAIL line too long") { return }
                discarding = true
            }
        }
    }

    /// Writes `line` and a newline; false if the channel is gone.
    @discardableResult
    static func writeLine(_ fd: Int32, _ line: String) -> Bool {
        var text = line
        text.append("\n")
        return text.withUTF8 { p in
            guard let base = p.baseAddress else { return false }
            var sent = 0
            while sent < p.count {
                let w = write(fd, base + sent, p.count - sent)
                if w > 0 { sent += w } else if w < 0 && errno == EINTR { continue } else { return false }
            }
            return true
        }
    }
}
