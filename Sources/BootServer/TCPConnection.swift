#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NICCore
import Wire

/// The state of one TCP connection the HTTP server accepted (RFC 9293):
/// passive open only, in-order receive into a fixed buffer, and a send
/// stream that is never copied: it is the current response's head (a few
/// hundred bytes) followed by a range of an open file, read again from the
/// file for each (re)transmission.
///
/// Sequence numbers on the wire are 32-bit and wrap; inside, the send side
/// counts bytes from the start of the stream as `Int` (offset 0 is ISS+1),
/// so comparisons never wrap. Every number taken from a peer's segment is
/// turned into such an offset with wrapping subtraction and checked
/// against what was actually sent before it is used.
final class TCPConnection {
    enum State: Equatable {
        /// Our SYN-ACK is out; waiting for the ACK of the handshake.
        case synReceived
        /// Data may flow both ways (including after the peer's FIN: the
        /// response is still sent, RFC 9293 CLOSE-WAIT).
        case established
    }

    let peer: UDPEndpoint
    let localPort: UInt16
    var state = State.synReceived
    /// Our initial sequence number.
    let iss: UInt32
    /// The next sequence number expected from the peer.
    var rcvNxt: UInt32
    /// Stream offsets: oldest unacknowledged, next to send, highest sent.
    var sndUna = 0
    var sndNxt = 0
    var sndMax = 0
    /// The end of the data queued so far (the current response's end).
    var streamEnd = 0
    /// The peer's receive window (unscaled: we offer no window scaling,
    /// so neither side scales, RFC 7323 §2.2).
    var peerWindow = 0
    /// Our segment size: the peer's MSS option (536 without one, RFC 9293
    /// §3.7.1), at most what our frame buffer carries.
    var mss = 536
    /// Congestion window and slow-start threshold in bytes (RFC 5681):
    /// slow start from ten segments (RFC 6928), congestion avoidance past
    /// the threshold, NewReno fast recovery (RFC 6582) on three duplicate
    /// ACKs, one segment after a timeout.
    var congestionWindow = 0
    var slowStartThreshold = 65535
    var duplicateAcks = 0
    /// In fast recovery until SND.UNA reaches this offset (RFC 6582 "recover").
    var recover: Int?
    /// Close after the queued data: our FIN sits at offset `streamEnd`.
    var finQueued = false
    var finSent = false
    var finAcknowledged = false
    /// The FIN was sent and is due again (after going back to SND.UNA).
    var finResend = false
    /// The peer's FIN arrived: it sends no more.
    var peerFinished = false

    /// Request bytes received and not yet consumed.
    let receiveBuffer: UnsafeMutableRawBufferPointer
    var received = 0

    /// The response being sent; nil between responses.
    var response: HTTPResponse?

    /// When the oldest unacknowledged segment is resent (0: nothing outstanding).
    var retransmitDeadline: UInt64 = 0
    var retransmissionTimeout: UInt64
    var retries = 0
    /// Virtual time of the last segment from the peer, for the idle timeout.
    var lastHeard: UInt64
    /// Retransmitted segments, for the counters.
    var retransmissions = 0

    init(peer: UDPEndpoint, localPort: UInt16, iss: UInt32, peerSequence: UInt32, receiveCapacity: Int,
         initialTimeout: UInt64, now: UInt64) {
        self.peer = peer
        self.localPort = localPort
        self.iss = iss
        rcvNxt = peerSequence &+ 1
        receiveBuffer = .allocate(byteCount: receiveCapacity, alignment: 8)
        retransmissionTimeout = initialTimeout
        lastHeard = now
    }

    deinit {
        receiveBuffer.deallocate()
        response?.close()
    }

    /// The sequence number of stream offset `offset`.
    func sequence(at offset: Int) -> UInt32 { iss &+ 1 &+ UInt32(truncatingIfNeeded: offset) }

    /// What we advertise: the free part of the receive buffer.
    var receiveWindow: UInt16 { UInt16(clamping: receiveBuffer.count - received) }

    /// The sequence space sent and not yet acknowledged, FIN included.
    var outstanding: Int { sndMax - sndUna + (finSent && !finAcknowledged ? 1 : 0) }

    /// Bytes from `received` the peer controls enter only through here: at
    /// most the free space, the rest is dropped (the peer overran the
    /// window it was given) and not acknowledged.
    func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        let n = min(bytes.count, receiveBuffer.count - received)
        guard n > 0, let src = bytes.baseAddress, let dst = receiveBuffer.baseAddress else { return 0 }
        (dst + received).copyMemory(from: src, byteCount: n)
        received += n
        return n
    }

    /// Drops the first `count` received bytes (a request that was parsed).
    func consume(_ count: Int) {
        let n = max(0, min(count, received))
        guard n > 0, let base = receiveBuffer.baseAddress else { return }
        if n < received { base.copyMemory(from: base + n, byteCount: received - n) }
        received -= n
    }

    /// Writes the stream's bytes at `offset` (up to `area.count`) into
    /// `area`; the count written, or nil when the file can't be read.
    func read(at offset: Int, into area: UnsafeMutableRawBufferPointer) -> Int? {
        guard let response else { return 0 }
        return response.read(at: offset, into: area)
    }
}

/// A response on the send stream: its head, then (for GET) `body` of the
/// open file. It starts at `start` in the connection's stream.
final class HTTPResponse {
    let start: Int
    let head: [UInt8]
    /// The file and the byte range sent from it; fd is -1 when there is no body.
    private(set) var fd: Int32
    let body: Range<Int>
    let status: Int
    let method: String
    let path: String

    init(start: Int, head: [UInt8], fd: Int32, body: Range<Int>, status: Int, method: String, path: String) {
        self.start = start
        self.head = head
        self.fd = fd
        self.body = body
        self.status = status
        self.method = method
        self.path = path
    }

    deinit { close() }

    var length: Int { head.count + body.count }
    var end: Int { start + length }

    func close() {
        if fd >= 0 { closeDescriptor(fd) }
        fd = -1
    }

    /// Copies stream bytes from `offset` into `area`: head bytes first,
    /// then the file read with pread(2) at the matching position.
    func read(at offset: Int, into area: UnsafeMutableRawBufferPointer) -> Int? {
        var position = offset - start
        guard position >= 0, position <= length, let base = area.baseAddress else { return position >= 0 ? 0 : nil }
        var written = 0
        let wanted = min(area.count, length - position)
        if position < head.count {
            let n = min(wanted, head.count - position)
            head.withUnsafeBytes { h in
                // SAFETY: position < head.count and n <= head.count - position.
                if let src = h.baseAddress { base.copyMemory(from: src + position, byteCount: n) }
            }
            written = n
            position += n
        }
        while written < wanted {
            guard fd >= 0 else { return nil }
            let fileOffset = body.lowerBound + (position - head.count)
            let n = pread(fd, base + written, wanted - written, off_t(fileOffset))
            // A file that shrank under us can't give what Content-Length promised.
            guard n > 0 else { return nil }
            written += n
            position += n
        }
        return written
    }
}

/// close(2), reachable from types that have a `close()` of their own.
func closeDescriptor(_ fd: Int32) { _ = close(fd) }
