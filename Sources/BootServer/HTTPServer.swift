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
/// virtual clock with exponential backoff (RFC 6298) and on three
/// duplicate ACKs, the peer's window and a simple congestion window
/// respected, FIN and RST both ways, and an idle timeout. Connections,
/// receive buffers and retries are bounded; the send side holds no copy of
/// a file. Segments for other ports, or for no connection, get an RST.
public final class HTTPServer {
    public let port: UInt16
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

    public private(set) var counters = Counters()
    public var activeConnections: Int { connections.count }

    private let clock: VirtualClock
    weak var output: TCPOutput?
    var log: (BootServerEvent) -> Void = { _ in }
    private var connections: [UDPEndpoint: TCPConnection] = [:]
    private var random: SeededRandom
    private var timer: TimerID?
    private var timerDeadline: UInt64 = .max

    init(port: UInt16, root: TFTPRoot, clock: VirtualClock, seed: UInt64) {
        self.port = port
        self.root = root
        self.clock = clock
        random = SeededRandom(seed: seed ^ 0x6874_7470)
    }

    // MARK: Segments in

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

    private func process(_ c: TCPConnection, _ h: TCPHeader, _ payload: UnsafeRawBufferPointer) {
        let now = clock.now
        c.lastHeard = now
        if h.flags.contains(.rst) {
            // RFC 5961 §3.2: only an RST at exactly RCV.NXT resets; one
            // elsewhere in the window gets a challenge ACK.
            if h.sequenceNumber == c.rcvNxt {
                drop(c, failure: c.response.map { _ in "reset by the client" }, resetPeer: false)
            } else if h.sequenceNumber &- c.rcvNxt < UInt32(c.receiveWindow) {
                sendAck(c)
            }
            return
        }
        if h.flags.contains(.syn) {
            // A repeated SYN (our SYN-ACK was lost) is answered again;
            // any other SYN gets a challenge ACK (RFC 5961 §4.2).
            if c.state == .synReceived, h.sequenceNumber &+ 1 == c.rcvNxt { sendSynAck(c) } else { sendAck(c) }
            return
        }
        // RFC 9293 §3.10.7.4: past SYN, a segment without ACK is dropped.
        guard h.flags.contains(.ack) else { return }
        if c.state == .synReceived {
            guard h.acknowledgmentNumber == c.sequence(at: 0) else {
                sendReset(sequence: h.acknowledgmentNumber, to: c.peer)
                return
            }
            c.state = .established
            c.retries = 0
            c.retransmitDeadline = 0
            c.retransmissionTimeout = initialRetransmissionTimeout
            c.peerWindow = Int(h.window)
        }
        guard acknowledge(c, h, payloadCount: payload.count) else { return }

        var ackNeeded = false
        let fin = h.flags.contains(.fin)
        if !payload.isEmpty || fin {
            ackNeeded = true
            receive(c, h.sequenceNumber, payload, fin: fin)
        }
        serve(c)
        if connections[c.peer] === c { transmit(c, ackNeeded: ackNeeded) }
        finishIfClosed(c)
    }

    /// Applies the ACK field; false when the segment must go no further
    /// (it acknowledged something never sent: RFC 9293 §3.10.7.4 answers
    /// with an ACK and drops it).
    private func acknowledge(_ c: TCPConnection, _ h: TCPHeader, payloadCount: Int) -> Bool {
        // Distance from SND.UNA, wrapping: within what is outstanding it is
        // new; in the upper half it is an old ACK whose field is ignored.
        // Once our FIN is acknowledged SND.UNA sits one past the last byte.
        let distance = h.acknowledgmentNumber &- (c.sequence(at: c.sndUna) &+ (c.finAcknowledged ? 1 : 0))
        if distance > UInt32(clamping: c.outstanding) {
            if distance < 1 << 31 {
                sendAck(c)
                return false
            }
            return true
        }
        let advanced = Int(distance)
        if advanced > 0 {
            let data = min(advanced, c.sndMax - c.sndUna)
            c.sndUna += data
            if advanced > data { c.finAcknowledged = true }
            if c.sndNxt < c.sndUna { c.sndNxt = c.sndUna }
            c.retries = 0
            c.retransmissionTimeout = initialRetransmissionTimeout
            c.duplicateAcks = 0
            if let recover = c.recover {
                if c.sndUna < recover {
                    // RFC 6582 §3.2: a partial ACK names the next hole; fill it now.
                    retransmitFirst(c)
                } else {
                    c.recover = nil
                    c.congestionWindow = c.slowStartThreshold
                }
            } else if c.congestionWindow < c.slowStartThreshold {
                c.congestionWindow = min(c.congestionWindow + min(advanced, c.mss), maximumCongestionWindow)
            } else {
                c.congestionWindow = min(c.congestionWindow + max(1, c.mss * c.mss / c.congestionWindow), maximumCongestionWindow)
            }
            c.retransmitDeadline = c.outstanding > 0 ? clock.now &+ c.retransmissionTimeout : 0
            completeResponse(c)
        } else if payloadCount == 0, !h.flags.contains(.fin), c.outstanding > 0, Int(h.window) == c.peerWindow {
            // RFC 5681 §3.2: the third duplicate ACK means a segment was
            // lost while later ones arrived; resend it now and halve the window.
            c.duplicateAcks += 1
            if c.duplicateAcks == 3, c.recover == nil {
                c.slowStartThreshold = max((c.sndMax - c.sndUna) / 2, 2 * c.mss)
                c.congestionWindow = c.slowStartThreshold
                c.recover = c.sndMax
                retransmitFirst(c)
            }
        }
        c.peerWindow = Int(h.window)
        return true
    }

    /// Takes the in-order part of a segment's payload and its FIN.
    private func receive(_ c: TCPConnection, _ sequence: UInt32, _ payload: UnsafeRawBufferPointer, fin: Bool) {
        guard !c.peerFinished else { return }
        let distance = sequence &- c.rcvNxt
        let skip: Int
        if distance == 0 {
            skip = 0
        } else if distance >= 1 << 31 {
            // Starts before RCV.NXT: a retransmission, maybe with new bytes at its end.
            let behind = Int(c.rcvNxt &- sequence)
            guard behind < payload.count || (behind == payload.count && fin) else { return }
            skip = behind
        } else {
            return  // out of order: dropped, the ACK tells the peer what we need
        }
        let fresh = UnsafeRawBufferPointer(rebasing: payload[skip...])
        let taken = c.append(fresh)
        c.rcvNxt &+= UInt32(truncatingIfNeeded: taken)
        if fin, taken == fresh.count {
            c.rcvNxt &+= 1
            c.peerFinished = true
        }
    }

    // MARK: HTTP

    /// Answers the next request in the receive buffer when no response is
    /// in flight; queues our FIN when the client is done.
    private func serve(_ c: TCPConnection) {
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
    private func completeResponse(_ c: TCPConnection) {
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

    // MARK: Segments out

    /// Sends what the windows allow from SND.NXT, then the FIN when it is
    /// due; a bare ACK when nothing else carries one.
    private func transmit(_ c: TCPConnection, ackNeeded: Bool) {
        guard let output else { return }
        guard c.state == .established else {
            if ackNeeded { sendAck(c) }
            return
        }
        var sent = false
        let window = min(c.peerWindow, c.congestionWindow)
        while c.sndNxt < c.streamEnd {
            let room = window - (c.sndNxt - c.sndUna)
            guard room > 0 else { break }
            let area = output.tcpPayloadArea
            let n = min(c.mss, c.streamEnd - c.sndNxt, room, area.count)
            guard let got = c.read(at: c.sndNxt, into: UnsafeMutableRawBufferPointer(rebasing: area[0..<n])), got == n else {
                drop(c, failure: "read error", resetPeer: true)
                return
            }
            var flags: TCPHeader.Flags = .ack
            if c.sndNxt + n == c.streamEnd { flags.insert(.psh) }
            if c.sndNxt < c.sndMax {
                c.retransmissions += 1
                counters.retransmissions += 1
            }
            send(c, sequence: c.sequence(at: c.sndNxt), flags: flags, payloadCount: n)
            counters.bytesSent += n
            c.sndNxt += n
            c.sndMax = max(c.sndMax, c.sndNxt)
            sent = true
        }
        if c.finQueued, !c.finAcknowledged, c.sndNxt == c.streamEnd, !c.finSent || c.finResend {
            send(c, sequence: c.sequence(at: c.streamEnd), flags: [.fin, .ack], payloadCount: 0)
            c.finSent = true
            c.finResend = false
            sent = true
        }
        if !sent && ackNeeded { sendAck(c) }
        // Something outstanding, or data waiting behind a closed window
        // (probed when the timer fires), needs the timer.
        if c.retransmitDeadline == 0, c.outstanding > 0 || c.sndNxt < c.streamEnd {
            c.retransmitDeadline = clock.now &+ c.retransmissionTimeout
        }
        arm(c)
    }

    /// Go-back-N from SND.UNA, after a timeout.
    private func goBack(_ c: TCPConnection) {
        c.sndNxt = c.sndUna
        c.finResend = c.finSent && !c.finAcknowledged
    }

    /// Resends the oldest unacknowledged segment (or the FIN when only it
    /// is outstanding), leaving SND.NXT where it is.
    private func retransmitFirst(_ c: TCPConnection) {
        guard let output else { return }
        c.retransmissions += 1
        counters.retransmissions += 1
        let n = min(c.mss, c.sndMax - c.sndUna)
        guard n > 0 else {
            if c.finSent, !c.finAcknowledged { send(c, sequence: c.sequence(at: c.streamEnd), flags: [.fin, .ack], payloadCount: 0) }
            return
        }
        let area = output.tcpPayloadArea
        guard n <= area.count, let got = c.read(at: c.sndUna, into: UnsafeMutableRawBufferPointer(rebasing: area[0..<n])), got == n else {
            drop(c, failure: "read error", resetPeer: true)
            return
        }
        send(c, sequence: c.sequence(at: c.sndUna), flags: .ack, payloadCount: n)
        counters.bytesSent += n
    }

    private func send(_ c: TCPConnection, sequence: UInt32, flags: TCPHeader.Flags, payloadCount: Int, mss: UInt16? = nil) {
        let header = TCPHeader(sourcePort: c.localPort, destinationPort: c.peer.port, sequenceNumber: sequence,
                               acknowledgmentNumber: c.rcvNxt, flags: flags, window: c.receiveWindow, maximumSegmentSize: mss)
        counters.segmentsSent += 1
        output?.sendTCP(header, payloadCount: payloadCount, to: c.peer)
    }

    private func sendSynAck(_ c: TCPConnection) {
        send(c, sequence: c.iss, flags: [.syn, .ack], payloadCount: 0, mss: UInt16(maximumSegmentSize))
    }

    private func sendAck(_ c: TCPConnection) {
        send(c, sequence: c.sequence(at: c.sndNxt) &+ (c.finSent && c.sndNxt == c.streamEnd && !c.finResend ? 1 : 0),
             flags: .ack, payloadCount: 0)
    }

    /// RFC 9293 §3.10.7.1: the RST answering a segment for no connection.
    private func reset(answering h: TCPHeader, payloadCount: Int, to peer: UDPEndpoint) {
        guard let header = h.reset(payloadCount: payloadCount) else { return }
        counters.resetsSent += 1
        output?.sendTCP(header, payloadCount: 0, to: peer)
    }

    private func sendReset(sequence: UInt32, to peer: UDPEndpoint, from localPort: UInt16? = nil) {
        let header = TCPHeader(sourcePort: localPort ?? port, destinationPort: peer.port, sequenceNumber: sequence,
                               acknowledgmentNumber: 0, flags: .rst, window: 0)
        counters.resetsSent += 1
        output?.sendTCP(header, payloadCount: 0, to: peer)
    }

    // MARK: Closing

    /// Both FINs acknowledged: the connection is done.
    private func finishIfClosed(_ c: TCPConnection) {
        guard c.finAcknowledged, c.peerFinished, connections[c.peer] === c else { return }
        connections[c.peer] = nil
        c.response = nil
    }

    /// Ends a connection early, with an RST to the peer unless it sent one.
    private func drop(_ c: TCPConnection, failure: String?, resetPeer: Bool) {
        guard connections[c.peer] === c else { return }
        connections[c.peer] = nil
        if resetPeer { sendReset(sequence: c.sequence(at: c.sndNxt), to: c.peer) }
        if let failure {
            counters.connectionsAborted += 1
            log(.httpFailed(client: c.peer.ip, path: c.response?.path ?? "-", reason: failure))
        }
        c.response?.close()
        c.response = nil
    }

    // MARK: Timers

    /// The retransmission deadline while something waits for the peer
    /// (the retries bound that), else the idle deadline.
    private func deadline(of c: TCPConnection) -> UInt64 {
        c.retransmitDeadline == 0 ? c.lastHeard &+ idleTimeout : c.retransmitDeadline
    }

    /// Makes sure the one timer fires no later than `c` needs it; it is
    /// rescheduled only when it must move earlier, not per segment.
    private func arm(_ c: TCPConnection) {
        let d = deadline(of: c)
        guard timer == nil || d < timerDeadline else { return }
        if let timer { clock.cancel(timer) }
        timerDeadline = d
        timer = clock.schedule(at: d) { [weak self] in self?.timerFired() }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = .max
        let now = clock.now
        let due = connections.values.filter { deadline(of: $0) <= now }.sorted { ($0.peer.ip, $0.peer.port) < ($1.peer.ip, $1.peer.port) }
        for c in due {
            if c.retransmitDeadline == 0, now >= c.lastHeard &+ idleTimeout {
                drop(c, failure: c.response == nil && c.state == .established ? nil : "idle for \(idleTimeout / VirtualClock.second) s",
                     resetPeer: true)
                continue
            }
            guard c.retransmitDeadline != 0, c.retransmitDeadline <= now else { continue }
            c.retries += 1
            if c.retries > maximumRetries {
                // Logged only when a response was cut short (not for a
                // handshake nobody finished, or a FIN nobody acknowledged).
                drop(c, failure: c.response.map { _ in "no acknowledgement after \(maximumRetries) retransmissions" }, resetPeer: true)
                continue
            }
            c.retransmissionTimeout = min(c.retransmissionTimeout &* 2, maximumRetransmissionTimeout)
            c.retransmitDeadline = 0
            if c.state == .synReceived {
                sendSynAck(c)
                c.retransmitDeadline = now &+ c.retransmissionTimeout
                continue
            }
            if c.outstanding > 0 {
                // RFC 5681 §3.1: after a timeout, one segment at a time again.
                c.slowStartThreshold = max((c.sndMax - c.sndUna) / 2, 2 * c.mss)
                c.congestionWindow = c.mss
                c.recover = nil
                goBack(c)
                transmit(c, ackNeeded: false)
            } else if c.sndNxt < c.streamEnd, c.peerWindow == 0 {
                // RFC 9293 §3.8.6.1: probe a zero window with one byte.
                c.peerWindow = 1
                transmit(c, ackNeeded: false)
                c.peerWindow = 0
            }
            if c.retransmitDeadline == 0, c.outstanding > 0 || c.sndNxt < c.streamEnd {
                c.retransmitDeadline = now &+ c.retransmissionTimeout
            }
        }
        if let next = connections.values.map({ deadline(of: $0) }).min() {
            timerDeadline = next
            timer = clock.schedule(at: next) { [weak self] in self?.timerFired() }
        }
    }
}
