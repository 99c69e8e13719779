import NICCore
import Wire

/// `TFTPTransferLog` fed the frames a card exchanged: peer-controlled
/// bytes from both directions of one port. Input: a flags byte (bit 0:
/// follow only the first client's MAC as the station; bits 1-3:
/// `maximumTransfers` - 1, so 1...8; bits 4-7: the record capacity / 4 - 1,
/// so 4...64, small enough that the overflow count is reached), then ops
/// until the input ends, each an op byte whose low two bits choose:
///
/// - 0, a UDP frame between a client and a server of small sets (so
///   requests, answers and TIDs meet): a place byte (`Place`), a u16
///   length and that many bytes of UDP payload, the TFTP packet; op bit 2
///   sends it server to client;
/// - 1, a raw frame: a u16 length and the frame's bytes;
/// - 2, a run of DATA blocks from the server, as a transfer goes on for
///   many blocks (so block numbers can wrap): a place byte, the first
///   block (u16), the count - 1 (u16), the block size (u16, at most
///   65464), a fill byte and a mode byte (bit 0: the client ACKs each
///   block; bit 1: the last block carries half the size);
/// - 3, `finish()`, as at the end of a run; later frames start afresh.
///
/// Op bits 3-5 pick the client's port and bits 6-7 how many VLAN tags the
/// frame carries (802.1ad then 802.1Q; three are more than the log reads).
///
/// Beyond "never traps": open transfers stay within `maximumTransfers`,
/// records within capacity; each frame ends at most one transfer and
/// opens at most one, counts at most one retransmission and one eviction;
/// `finish()` ends every open transfer, as a record or a probe; with a
/// station, only its transfers are recorded; a record marked as a kernel
/// holds the "HdrS" at 202h; a completed one has a SHA-256 digest; text
/// from the wire in a record carries no control characters. The same
/// input run again in a fresh log gives the same records and counts.
enum TFTPLogFuzz {
    /// Request port, two client ports, two server TIDs.
    static let ports: [UInt16] = [TFTPTransferLog.requestPort, 2070, 2071, 50001, 50002]
    /// Two clients and a third station, which shares the first one's IP
    /// address when a place pairs them (a copy flooded to the wrong card).
    static let clientMACs = [MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56), MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x57),
                             MACAddress(0x02, 0x00, 0x00, 0x00, 0x00, 0x01)]
    static let clientIPs = [IPv4Address(10, 0, 2, 15), IPv4Address(10, 0, 2, 16), IPv4Address.any]
    static let servers = [(mac: MACAddress(0x52, 0x55, 0x0A, 0x00, 0x02, 0x02), ip: IPv4Address(10, 0, 2, 2)),
                          (mac: MACAddress(0x52, 0x55, 0x0A, 0x00, 0x02, 0x03), ip: IPv4Address(10, 0, 2, 3))]
    /// Frames one pass feeds at most: enough for a transfer of blksize 8
    /// to wrap its block number with an ACK for every block.
    static let frameBudget = 1 << 18
    /// DATA payload bytes one pass builds at most.
    static let byteBudget = 8 << 20
    /// RFC 2348's largest block size.
    static let largestBlock = 65464

    /// Which endpoints a frame joins: bits 0-1 the client's MAC, bits 2-3
    /// its IP address (each index modulo 3), bit 4 the server, bits 5-7
    /// the server's port (modulo 5).
    struct Place {
        var client: UDPEndpoint
        var server: UDPEndpoint

        init(_ byte: UInt8, clientPort: Int) {
            let s = TFTPLogFuzz.servers[Int(byte >> 4 & 1)]
            client = UDPEndpoint(mac: TFTPLogFuzz.clientMACs[Int(byte & 3) % 3], ip: TFTPLogFuzz.clientIPs[Int(byte >> 2 & 3) % 3],
                                 port: TFTPLogFuzz.ports[clientPort % 5])
            server = UDPEndpoint(mac: s.mac, ip: s.ip, port: TFTPLogFuzz.ports[Int(byte >> 5) % 5])
        }

        /// The byte for these indices (for seeds).
        static func byte(clientMAC: Int = 0, clientIP: Int = 0, server: Int = 0, serverPort: Int) -> UInt8 {
            UInt8(clientMAC & 3 | (clientIP & 3) << 2 | (server & 1) << 4 | (serverPort & 7) << 5)
        }
    }

    /// The op byte for these choices (for seeds).
    static func op(_ kind: UInt8, toClient: Bool = false, clientPort: Int = 1, tags: Int = 0) -> UInt8 {
        kind & 3 | (toClient ? 4 : 0) | UInt8(clientPort & 7) << 3 | UInt8(tags & 3) << 6
    }

    /// Runs the input twice; returns what the run left.
    @discardableResult
    static func run(_ input: inout FuzzInput) -> Summary {
        let flags = input.u8()
        let station = flags & 1 != 0 ? clientMACs[0] : nil
        let maximumTransfers = 1 + Int(flags >> 1 & 7)
        let capacity = 4 * (1 + Int(flags >> 4))
        let frames = Frames()
        var again = input
        let first = pass(&input, frames, station: station, maximumTransfers: maximumTransfers, capacity: capacity)
        let second = pass(&again, frames, station: station, maximumTransfers: maximumTransfers, capacity: capacity)
        precondition(first == second, "the same frames gave different records in a fresh log")
        return first
    }

    /// What a run leaves, compared between the two passes.
    struct Summary: Equatable {
        var records: TFTPTransferRecords
        var evicted: Int
        var clientRetransmissions: Int
    }

    /// Counts read around each frame, to check what one frame may change.
    private struct Counts {
        var listed: Int
        var finished: Int
        var open: Int
        var retransmissions: Int
        var evicted: Int

        init(_ log: TFTPTransferLog) {
            listed = log.records.entries.count
            finished = listed + log.records.overflow + log.records.probes
            open = log.openTransfers
            retransmissions = log.clientRetransmissions
            evicted = log.evicted
        }
    }

    private static func pass(_ input: inout FuzzInput, _ frames: Frames, station: MACAddress?, maximumTransfers: Int,
                             capacity: Int) -> Summary {
        let log = TFTPTransferLog(station: station, maximumTransfers: maximumTransfers, capacity: capacity)
        var fed = 0
        var bytes = 0
        func feed(_ frame: UnsafeRawBufferPointer) {
            let before = Counts(log)
            log.observe(frame)
            fed += 1
            check(log, before: before, station: station)
        }

        while !input.isAtEnd, fed < frameBudget {
            let op = input.u8()
            let tags = Int(op >> 6)
            switch op & 3 {
            case 0:
                let place = Place(input.u8(), clientPort: Int(op >> 3 & 7))
                let payload = input.take(Int(input.u16()))
                let toClient = op & 4 != 0
                if let frame = frames.udp(from: toClient ? place.server : place.client, to: toClient ? place.client : place.server,
                                          tags: tags, { area in frames.copy(payload, to: area) }) {
                    feed(frame)
                }
            case 1:
                feed(input.take(Int(input.u16())))
            case 2:
                let place = Place(input.u8(), clientPort: Int(op >> 3 & 7))
                let start = input.u16()
                let count = Int(input.u16()) + 1
                let size = min(Int(input.u16()), largestBlock)
                let fill = input.u8()
                let mode = input.u8()
                for n in 0..<count where fed < frameBudget && bytes < byteBudget {
                    let block = start &+ UInt16(truncatingIfNeeded: n)
                    let length = n == count - 1 && mode & 2 != 0 ? size / 2 : size
                    bytes += length
                    if let frame = frames.udp(from: place.server, to: place.client, tags: tags, { area in
                        guard (try? TFTPPacket.writeDataHeader(block: block, to: area)) != nil, area.count >= 4 + length else { return nil }
                        UnsafeMutableRawBufferPointer(rebasing: area[4..<(4 + length)]).initializeMemory(as: UInt8.self, repeating: fill)
                        return 4 + length
                    }) {
                        feed(frame)
                    }
                    if mode & 1 != 0, let frame = frames.udp(from: place.client, to: place.server, tags: tags, { area in
                        try? TFTPPacket.writeAcknowledgement(block: block, to: area)
                    }) {
                        feed(frame)
                    }
                }
            default:
                finish(log, station: station)
            }
        }
        finish(log, station: station)
        return Summary(records: log.records, evicted: log.evicted, clientRetransmissions: log.clientRetransmissions)
    }

    private static func finish(_ log: TFTPTransferLog, station: MACAddress?) {
        let before = Counts(log)
        log.finish()
        let after = Counts(log)
        precondition(after.open == 0, "\(after.open) transfers still open after finish()")
        precondition(after.finished - before.finished == before.open,
                     "finish() closed \(before.open) transfers but ended \(after.finished - before.finished)")
        checkRecords(log, from: before.listed, station: station)
    }

    /// What one frame may change.
    private static func check(_ log: TFTPTransferLog, before: Counts, station: MACAddress?) {
        let after = Counts(log)
        precondition((0...log.maximumTransfers).contains(after.open), "\(after.open) transfers open, at most \(log.maximumTransfers) allowed")
        precondition(after.listed <= log.records.capacity, "\(after.listed) records listed beyond a capacity of \(log.records.capacity)")
        precondition(after.finished >= before.finished, "finished transfers went from \(before.finished) to \(after.finished)")
        // A frame is one packet: it can end the transfer it belongs to (or
        // one a new request displaces) and open one.
        let started = after.finished + after.open - before.finished - before.open
        precondition((0...1).contains(started), "one frame changed open plus finished transfers by \(started)")
        let retransmitted = after.retransmissions - before.retransmissions
        precondition((0...1).contains(retransmitted), "one frame counted \(retransmitted) retransmissions")
        precondition((0...1).contains(after.evicted - before.evicted), "one frame evicted \(after.evicted - before.evicted) transfers")
        checkRecords(log, from: before.listed, station: station)
    }

    /// The records listed since `start`.
    private static func checkRecords(_ log: TFTPTransferLog, from start: Int, station: MACAddress?) {
        let entries = log.records.entries
        guard start < entries.count else { return }
        for record in entries[start...] {
            if let station { precondition(record.client == station, "a record of \(record.client) with station \(station)") }
            precondition(record.size >= 0)
            if record.linuxKernel {
                precondition(record.size >= 0x206, "a \(record.size)-byte file marked as a kernel, whose HdrS is at 202h")
            }
            if let digest = record.sha256 {
                precondition(digest.utf8.count == 64 && digest.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) },
                             "a completed record's digest is \(digest)")
            }
            precondition((record.failure == nil) == record.isCompleted)
            precondition(printable(record.file), "the file name \(record.file.debugDescription) keeps a control character")
            switch record.outcome {
            case let .serverError(_, message), let .clientError(_, message):
                precondition(printable(message), "the error message \(message.debugDescription) keeps a control character")
            default:
                break
            }
        }
    }

    /// No character that moves a terminal's cursor or reorders text.
    private static func printable(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator: false
            default: true
            }
        }
    }

    /// Where frames are built: one buffer for the frame and one for the
    /// frame with tags spliced in, reused by both passes.
    final class Frames {
        let buffer = FrameBuffer(capacity: UDPFrame.headerSize + 0xFFFF)
        let tagged = FrameBuffer(capacity: UDPFrame.headerSize + 0xFFFF + 12)

        func copy(_ payload: UnsafeRawBufferPointer, to area: UnsafeMutableRawBufferPointer) -> Int? {
            guard payload.count <= area.count else { return nil }
            if payload.count > 0, let src = payload.baseAddress, let dst = area.baseAddress { dst.copyMemory(from: src, byteCount: payload.count) }
            return payload.count
        }

        /// An Ethernet/IPv4/UDP frame whose payload `write` puts in place
        /// and measures (nil: none). UDP checksums are left out: the log
        /// does not read them.
        func udp(from: UDPEndpoint, to: UDPEndpoint, tags: Int,
                 _ write: (UnsafeMutableRawBufferPointer) -> Int?) -> UnsafeRawBufferPointer? {
            guard let n = write(UDPFrame.payloadArea(of: buffer)),
                  (try? UDPFrame.finish(buffer, from: from, to: to, payloadCount: n, udpChecksum: false)) != nil else { return nil }
            guard tags > 0 else { return buffer.bytes }
            let frame = buffer.bytes
            tagged.setCount(0)
            tagged.append(UnsafeRawBufferPointer(rebasing: frame[0..<12]))
            for t in 0..<tags {
                // The outer tag of two is a service tag (802.1ad); VLAN ids 5 and 6.
                let tpid: UInt16 = t == 0 && tags > 1 ? 0x88A8 : 0x8100
                var tag = (UInt32(tpid) << 16 | UInt32(5 + t)).bigEndian
                withUnsafeBytes(of: &tag) { _ = tagged.append($0) }
            }
            tagged.append(UnsafeRawBufferPointer(rebasing: frame[12...]))
            return tagged.bytes
        }
    }
}
