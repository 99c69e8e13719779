import NICCore
import Wire

/// How the HTTP server puts segments on the wire without allocating: the
/// payload is written straight into the sender's frame buffer, then the
/// headers in front of it.
protocol TCPOutput: AnyObject {
    /// Where the next segment's payload goes.
    var tcpPayloadArea: UnsafeMutableRawBufferPointer { get }
    /// Sends `header` and the `payloadCount` bytes in `tcpPayloadArea` to `peer`.
    func sendTCP(_ header: TCPHeader, payloadCount: Int, to peer: UDPEndpoint)
}

/// The built-in HTTP/1.1 file server (RFC 9110, RFC 9112) for UEFI HTTP
/// Boot and iPXE's `chain http://`: GET and HEAD of files under the TFTP
/// root, resolved by `TFTPRoot` with the same rules (nothing outside the
/// root, only regular files, no blocking opens), with Content-Length, one
/// byte range (206/416), keep-alive and pipelined requests answered in
/// order.
///
/// It runs on its own small TCP (RFC 9293) inside the BootServer's IPv4
/// host: passive open on one port, segments in order only (an
/// out-of-order segment is dropped and answered with the ACK the peer
/// needs), retransmission from the oldest unacknowledged byte on the
/// virtual clock with exponential backoff (RFC 6298), NewReno fast
/// recovery on three duplicate ACKs (RFC 6582), the peer's window and a
/// congestion window (RFC 5681) respected, FIN and RST both ways, and an idle timeout. Connections,
/// receive buffers and retries are bounded; the send side holds no copy of
/// a file. Segments for other ports, or for no connection, get an RST.
public final class HTTPServer {
    /// The TCP port listened on (`--http-port`).
    public let port: UInt16
    /// The directory served: the TFTP server's.
    public let root: TFTPRoot
    /// Connections beyond this are refused with an RST to their SYN.
    public var maximumConnections = 64
    /// Per connection: a request head must fit (else 431).
    public let receiveBufferSize = HTTPRequest.maximumHeadSize
    /// The largest segment we send or accept: a 1500-byte MTU's.
    public let maximumSegmentSize = 1460
    /// RFC 6298 §2.1: 1 s before any round trip is measured.
    public var initialRetransmissionTimeout: UInt64 = VirtualClock.second
    public var maximumRetransmissionTimeout: UInt64 = 4 * VirtualClock.second
    /// Retransmissions of one segment before the connection is reset.
    public var maximumRetries = 8
    /// A connection the peer leaves silent this long is reset.
    public var idleTimeout: UInt64 = 30 * VirtualClock.second
    /// The congestion window never grows beyond this (the peer's window,
    /// unscaled, caps the flight at 64 KiB anyway).
    let maximumCongestionWindow = 65535

    /// What the server did, for the stop summary and tests.
    public struct Counters: Sendable, Equatable {
        public var connectionsAccepted = 0
        public var connectionsRefused = 0
        public var requests = 0
        /// Responses the client acknowledged completely.
        public var responsesCompleted = 0
        public var segmentsSent = 0
        /// Payload bytes sent, retransmissions included.
        public var bytesSent = 0
        public var retransmissions = 0
        public var resetsSent = 0
        /// Connections ended by timeout, a reset or a read error.
        public var connectionsAborted = 0

        public init() {}
    }

    public internal(set) var counters = Counters()
    public var activeConnections: Int { connections.count }

    let clock: VirtualClock
    weak var output: TCPOutput?
    var log: (BootServerEvent) -> Void = { _ in }
    var connections: [UDPEndpoint: TCPConnection] = [:]
    var random: SeededRandom
    var timer: TimerID?
    var timerDeadline: UInt64 = .max

    init(port: UInt16, root: TFTPRoot, clock: VirtualClock, seed: UInt64) {
        self.port = port
        self.root = root
        self.clock = clock
        random = SeededRandom(seed: seed ^ 0x6874_7470)
    }

    // MARK: Segments in: dispatch and passive open

    /// A validated TCP segment addressed to the server, with its payload.
    func handle(_ segment: TCPSegment, payload: UnsafeRawBufferPointer) {
        let h = segment.tcp
        let peer = UDPEndpoint(mac: segment.ethernet.source, ip: segment.ip.source, port: h.sourcePort)
        if h.destinationPort == port, let c = connections[peer] {
            process(c, h, payload)
            return
        }
        // RFC 9293 §3.10.7.1: an RST for no connection is dropped.
        if h.flags.contains(.rst) { return }
        if h.destinationPort == port, h.flags.contains(.syn), !h.flags.contains(.ack) {
            guard connections.count < maximumConnections else {
                counters.connectionsRefused += 1
                reset(answering: h, payloadCount: payload.count, to: peer)
                return
            }
            accept(h, from: peer)
            return
        }
        reset(answering: h, payloadCount: payload.count, to: peer)
    }

    private func accept(_ h: TCPHeader, from peer: UDPEndpoint) {
        let c = TCPConnection(peer: peer, localPort: port, iss: UInt32(truncatingIfNeeded: random.next()),
                              peerSequence: h.sequenceNumber, receiveCapacity: receiveBufferSize,
                              initialTimeout: initialRetransmissionTimeout, now: clock.now)
        c.mss = max(64, min(Int(h.maximumSegmentSize ?? 536), maximumSegmentSize))
        c.peerWindow = Int(h.window)
        c.congestionWindow = 10 * c.mss
        connections[peer] = c
        counters.connectionsAccepted += 1
        sendSynAck(c)
        c.retransmitDeadline = clock.now &+ c.retransmissionTimeout
        arm(c)
    }

    // MARK: HTTP

    /// Answers the next request in the receive buffer when no response is
    /// in flight; queues our FIN when the client is done.
    func serve(_ c: TCPConnection) {
        guard c.state == .established else { return }
        while c.response == nil, !c.finQueued {
            // RFC 9112 §2.2: empty lines before a request line are ignored.
            while c.received > 0, c.receiveBuffer[0] == 0x0D || c.receiveBuffer[0] == 0x0A { c.consume(1) }
            let buffered = UnsafeRawBufferPointer(rebasing: c.receiveBuffer[0..<c.received])
            guard let length = HTTPRequest.headLength(in: buffered) else {
                if c.received >= c.receiveBuffer.count {
                    // The head can't be read; what follows it is not read either.
                    c.consume(c.received)
                    counters.requests += 1
                    respond(c, status: 431, method: "-", path: "-")
                } else if c.peerFinished {
                    c.finQueued = true
                }
                return
            }
            let parsed: HTTPRequest
            do {
                parsed = try HTTPRequest(parsing: UnsafeRawBufferPointer(rebasing: buffered[0..<length]))
            } catch {
                c.consume(length)
                counters.requests += 1
                respond(c, status: error.status, method: "-", path: "-")
                return
            }
            c.consume(length)
            counters.requests += 1
            respond(c, to: parsed)
        }
    }

    private func respond(_ c: TCPConnection, to request: HTTPRequest) {
        let name = String(request.path.drop { $0 == "/" })
        let opened: (fd: Int32, size: Int)
        do { opened = try root.open(name) } catch {
            let status = error == .notFound ? 404 : 403
            respond(c, status: status, method: request.method.rawValue, path: request.path, keepAlive: request.keepAlive)
            return
        }
        var status = 200
        var body = 0..<opened.size
        var extra = ""
        if let range = request.range {
            if let r = range.resolved(size: opened.size) {
                status = 206
                body = r
                extra = "Content-Range: bytes \(r.lowerBound)-\(r.upperBound - 1)/\(opened.size)\r\n"
            } else {
                closeDescriptor(opened.fd)
                respond(c, status: 416, method: request.method.rawValue, path: request.path, keepAlive: request.keepAlive,
                        extra: "Content-Range: bytes */\(opened.size)\r\n")
                return
            }
        }
        let head = Self.head(status: status, length: body.count, keepAlive: request.keepAlive,
                             extra: "Content-Type: \(Self.mediaType(of: name))\r\nAccept-Ranges: bytes\r\n" + extra)
        let sendsBody = request.method == .get && !body.isEmpty
        if !sendsBody { closeDescriptor(opened.fd) }
        queue(c, HTTPResponse(start: c.streamEnd, head: head, fd: sendsBody ? opened.fd : -1, body: sendsBody ? body : 0..<0,
                              status: status, method: request.method.rawValue, path: request.path), keepAlive: request.keepAlive)
    }

    /// An error (or empty) response with a one-line text body.
    private func respond(_ c: TCPConnection, status: Int, method: String, path: String, keepAlive: Bool = false, extra: String = "") {
        let text = Array("\(status) \(Self.reason(status))\n".utf8)
        let head = Self.head(status: status, length: text.count, keepAlive: keepAlive, extra: "Content-Type: text/plain\r\n" + extra)
        let bytes = method == "HEAD" ? head : head + text
        queue(c, HTTPResponse(start: c.streamEnd, head: bytes, fd: -1, body: 0..<0, status: status, method: method, path: path),
              keepAlive: keepAlive)
    }

    private func queue(_ c: TCPConnection, _ response: HTTPResponse, keepAlive: Bool) {
        c.response = response
        c.streamEnd = response.end
        if !keepAlive { c.finQueued = true }
    }

    /// When SND.UNA passes the response's end the client has all of it.
    func completeResponse(_ c: TCPConnection) {
        guard let r = c.response, c.sndUna >= r.end else { return }
        counters.responsesCompleted += 1
        log(.httpServed(client: c.peer.ip, method: r.method, path: r.path, status: r.status, size: r.body.count))
        r.close()
        c.response = nil
        serve(c)
    }

    static func head(status: Int, length: Int, keepAlive: Bool, extra: String) -> [UInt8] {
        Array(("HTTP/1.1 \(status) \(reason(status))\r\nServer: nicsim\r\nContent-Length: \(length)\r\n" + extra
            + "Connection: \(keepAlive ? "keep-alive" : "close")\r\n\r\n").utf8)
    }

    /// UEFI HTTP Boot (UEFI 2.x §24.7.3) tells an EFI image, an ISO and a
    /// disk image apart by the media type; anything else is octets.
    static func mediaType(of name: String) -> String {
        let lower = name.lowercased()
        if lower.hasSuffix(".efi") { return "application/efi" }
        if lower.hasSuffix(".iso") { return "application/vnd.efi-iso" }
        if lower.hasSuffix(".img") { return "application/vnd.efi-img" }
        return "application/octet-stream"
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 206: "Partial Content"
        case 400: "Bad Request"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 416: "Range Not Satisfiable"
        case 431: "Request Header Fields Too Large"
        case 505: "HTTP Version Not Supported"
        default: "Error"
        }
    }
}
