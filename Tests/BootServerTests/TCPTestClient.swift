import Foundation
import NICCore
import Wire
@testable import BootServer

/// A TCP peer scripted segment by segment against the server's port, on
/// the `ScriptedClient`'s frames: it opens a connection, sends bytes and
/// ACKs what arrives in order, so a test can lose, repeat or reorder any
/// segment itself.
final class TCPTestClient {
    let client: ScriptedClient
    let port: UInt16
    let serverPort: UInt16
    var sequence: UInt32
    /// Next byte expected from the server.
    var acknowledged: UInt32 = 0
    var window: UInt16 = 65535
    /// Server bytes received in order.
    var received: [UInt8] = []
    var serverFinished = false
    var reset = false
    private let buffer = FrameBuffer(capacity: 2048)

    init(client: ScriptedClient, port: UInt16 = 40000, serverPort: UInt16 = 8080, initialSequence: UInt32 = 1000) {
        self.client = client
        self.port = port
        self.serverPort = serverPort
        sequence = initialSequence
    }

    /// Server segments since the last call (other frames are dropped).
    func segments() -> [(TCPHeader, [UInt8])] {
        client.drain().compactMap { f in
            guard let s = try? f.withUnsafeBytes({ try TCPSegment(parsing: $0) }) else { return nil }
            return (s.tcp, Array(f[s.payloadRange]))
        }
    }

    /// Sends one segment as it is, with this client's addresses.
    func send(sequence: UInt32, ack: UInt32, flags: TCPHeader.Flags, payload: [UInt8] = [], mss: UInt16? = nil,
              window: UInt16? = nil, toPort: UInt16? = nil) {
        let header = TCPHeader(sourcePort: port, destinationPort: toPort ?? serverPort, sequenceNumber: sequence, acknowledgmentNumber: ack,
                               flags: flags, window: window ?? self.window, maximumSegmentSize: mss)
        let area = TCPFrame.payloadArea(of: buffer)
        payload.withUnsafeBytes { area.copyMemory(from: $0) }
        try? TCPFrame.finish(buffer, sourceMAC: client.mac, destinationMAC: serverMAC, source: client.ip, destination: serverIP,
                             header: header, payloadCount: payload.count)
        client.server.port.offer(buffer.bytes)
    }

    /// The three-way handshake; the SYN-ACK's header.
    @discardableResult
    func connect(mss: UInt16 = 1460) -> TCPHeader? {
        send(sequence: sequence, ack: 0, flags: .syn, mss: mss)
        sequence &+= 1
        guard let (synAck, _) = segments().first, synAck.flags == [.syn, .ack] else { return nil }
        acknowledged = synAck.sequenceNumber &+ 1
        send(sequence: sequence, ack: acknowledged, flags: .ack)
        return synAck
    }

    func write(_ text: String) {
        let bytes = Array(text.utf8)
        send(sequence: sequence, ack: acknowledged, flags: [.ack, .psh], payload: bytes)
        sequence &+= UInt32(bytes.count)
    }

    func finish() {
        send(sequence: sequence, ack: acknowledged, flags: [.fin, .ack])
        sequence &+= 1
    }

    /// Takes the server's segments: in-order data is kept and ACKed (one
    /// ACK per batch), `drop` decides which data segments are lost.
    /// Returns how many segments arrived.
    @discardableResult
    func pump(drop: (TCPHeader, [UInt8]) -> Bool = { _, _ in false }) -> Int {
        let batch = segments()
        var progressed = false
        for (h, payload) in batch {
            if h.flags.contains(.rst) { reset = true; continue }
            if drop(h, payload) { continue }
            if h.sequenceNumber == acknowledged {
                received += payload
                acknowledged &+= UInt32(payload.count)
                if h.flags.contains(.fin) {
                    acknowledged &+= 1
                    serverFinished = true
                }
                progressed = true
            } else if !payload.isEmpty {
                // RFC 5681 §4.2: an out-of-order segment is ACKed at once (a duplicate ACK).
                send(sequence: sequence, ack: acknowledged, flags: .ack)
            }
        }
        if !batch.isEmpty && (progressed || !batch.allSatisfy({ $0.1.isEmpty })) {
            send(sequence: sequence, ack: acknowledged, flags: .ack)
        }
        return batch.count
    }

    /// Pumps until the received bytes hold `responses` complete responses
    /// (by Content-Length), the server closes, or nothing more comes.
    func receiveResponses(_ responses: Int = 1, clock: VirtualClock, drop: (TCPHeader, [UInt8]) -> Bool = { _, _ in false }) -> [HTTPTestResponse] {
        for _ in 0..<10_000 {
            let parsed = HTTPTestResponse.parseAll(received)
            if parsed.count >= responses || serverFinished || reset { return parsed }
            if pump(drop: drop) == 0 {
                guard let next = clock.nextDeadline else { return parsed }
                clock.advance(to: next)
            }
        }
        return HTTPTestResponse.parseAll(received)
    }
}

/// A response as the test client reads it back.
struct HTTPTestResponse: Equatable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    /// Every complete response in `bytes`; a HEAD's has no body, which a
    /// test marks with the header X-Test-Head only by context, so HEAD
    /// tests read `headers` and ignore `body`.
    static func parseAll(_ bytes: [UInt8], bodies: Bool = true) -> [HTTPTestResponse] {
        var out: [HTTPTestResponse] = []
        var rest = bytes[...]
        while let end = rest.firstRange(of: [13, 10, 13, 10]) {
            let head = String(decoding: rest[rest.startIndex..<end.lowerBound], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ")
            guard statusLine.count >= 2, let status = Int(statusLine[1]) else { break }
            var headers: [String: String] = [:]
            for l in lines {
                guard let colon = l.firstIndex(of: ":") else { continue }
                headers[l[..<colon].lowercased()] = l[l.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = bodies ? Int(headers["content-length"] ?? "0") ?? 0 : 0
            let bodyStart = end.upperBound
            guard rest.endIndex - bodyStart >= length else { break }
            out.append(HTTPTestResponse(status: status, headers: headers, body: Array(rest[bodyStart..<(bodyStart + length)])))
            rest = rest[(bodyStart + length)...]
        }
        return out
    }
}
