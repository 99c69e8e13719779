import NICCore
import Wire

/// The TCP under the HTTP server (RFC 9293): a connection's segments in
/// order, the ACK and window bookkeeping, what goes out, closing, and the
/// one timer for retransmissions and idle connections.
extension HTTPServer {
    // MARK: Segments in

    func process(_ c: TCPConnection, _ h: TCPHeader, _ payload: UnsafeRawBufferPointer) {
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
    func acknowledge(_ c: TCPConnection, _ h: TCPHeader, payloadCount: Int) -> Bool {
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
    func receive(_ c: TCPConnection, _ sequence: UInt32, _ payload: UnsafeRawBufferPointer, fin: Bool) {
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

    // MARK: Segments out

    /// Sends what the windows allow from SND.NXT, then the FIN when it is
    /// due; a bare ACK when nothing else carries one.
    func transmit(_ c: TCPConnection, ackNeeded: Bool) {
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
    func goBack(_ c: TCPConnection) {
        c.sndNxt = c.sndUna
        c.finResend = c.finSent && !c.finAcknowledged
    }

    /// Resends the oldest unacknowledged segment (or the FIN when only it
    /// is outstanding), leaving SND.NXT where it is.
    func retransmitFirst(_ c: TCPConnection) {
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

    func send(_ c: TCPConnection, sequence: UInt32, flags: TCPHeader.Flags, payloadCount: Int, mss: UInt16? = nil) {
        let header = TCPHeader(sourcePort: c.localPort, destinationPort: c.peer.port, sequenceNumber: sequence,
                               acknowledgmentNumber: c.rcvNxt, flags: flags, window: c.receiveWindow, maximumSegmentSize: mss)
        counters.segmentsSent += 1
        output?.sendTCP(header, payloadCount: payloadCount, to: c.peer)
    }

    func sendSynAck(_ c: TCPConnection) {
        send(c, sequence: c.iss, flags: [.syn, .ack], payloadCount: 0, mss: UInt16(maximumSegmentSize))
    }

    func sendAck(_ c: TCPConnection) {
        send(c, sequence: c.sequence(at: c.sndNxt) &+ (c.finSent && c.sndNxt == c.streamEnd && !c.finResend ? 1 : 0),
             flags: .ack, payloadCount: 0)
    }

    /// RFC 9293 §3.10.7.1: the RST answering a segment for no connection.
    func reset(answering h: TCPHeader, payloadCount: Int, to peer: UDPEndpoint) {
        guard let header = h.reset(payloadCount: payloadCount) else { return }
        counters.resetsSent += 1
        output?.sendTCP(header, payloadCount: 0, to: peer)
    }

    func sendReset(sequence: UInt32, to peer: UDPEndpoint, from localPort: UInt16? = nil) {
        let header = TCPHeader(sourcePort: localPort ?? port, destinationPort: peer.port, sequenceNumber: sequence,
                               acknowledgmentNumber: 0, flags: .rst, window: 0)
        counters.resetsSent += 1
        output?.sendTCP(header, payloadCount: 0, to: peer)
    }

    // MARK: Closing

    /// Both FINs acknowledged: the connection is done.
    func finishIfClosed(_ c: TCPConnection) {
        guard c.finAcknowledged, c.peerFinished, connections[c.peer] === c else { return }
        connections[c.peer] = nil
        c.response = nil
    }

    /// Ends a connection early, with an RST to the peer unless it sent one.
    func drop(_ c: TCPConnection, failure: String?, resetPeer: Bool) {
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
    func deadline(of c: TCPConnection) -> UInt64 {
        c.retransmitDeadline == 0 ? c.lastHeard &+ idleTimeout : c.retransmitDeadline
    }

    /// Makes sure the one timer fires no later than `c` needs it; it is
    /// rescheduled only when it must move earlier, not per segment.
    func arm(_ c: TCPConnection) {
        let d = deadline(of: c)
        guard timer == nil || d < timerDeadline else { return }
        if let timer { clock.cancel(timer) }
        timerDeadline = d
        timer = clock.schedule(at: d) { [weak self] in self?.timerFired() }
    }

    func timerFired() {
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
