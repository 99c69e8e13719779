import NICCore

/// A passive observer of TFTP read transfers (RFC 1350, options RFC 2347,
/// blksize RFC 2348, tsize RFC 2349, windowsize RFC 7440): fed every
/// Ethernet frame a card sent and received, it reassembles each file the
/// card's client fetched, from any server, and records it with its size and
/// SHA-256, or the error that ended it.
///
/// - An RRQ to UDP port 69 opens a transfer keyed by (client IP, client
///   port, server IP); the server's first answer (OACK, DATA 1 or ERROR)
///   binds its port (its TID), and packets from any other port are ignored.
/// - DATA blocks are taken strictly in order: block n+1 after n, the 16-bit
///   number wrapping from 65535 to 0 (or to 1 when the client asked for
///   `rollover=1` and the server acknowledged it). Duplicates, retransmits
///   and blocks after a gap are ignored, as the client ignores them; a block
///   shorter than the block size (512, or the OACK's blksize) completes it.
/// - An ERROR from the server fails it with the code and message; an ERROR
///   from the client, or a new RRQ from the same port, fails it when the
///   client had acknowledged data, and otherwise counts it as a probe (see
///   `TFTPTransferRecords`), as does a transfer the client left after the
///   OACK. `finish()` closes what is still open at the end of a run.
///
/// Feed it from both directions of one port: what a client actually got is
/// what was delivered to its card (give `station`, the card's MAC, to
/// leave out other stations' transfers a switch floods to that port).
/// Headers are read in place (802.1Q and 802.1ad tags skipped, IPv4
/// options allowed, fragments ignored); IP and UDP checksums are not
/// checked, so offloaded frames whose checksums a host left partial still
/// count. DATA and ACK cost no allocation: file contents are never kept,
/// only hashed as they arrive. At most `maximumTransfers` are tracked at
/// once (the least recently active is closed as unfinished to make room).
public final class TFTPTransferLog {
    public static let defaultMaximumTransfers = 64
    /// RFC 1350 section 4: requests go to UDP port 69.
    public static let requestPort: UInt16 = 69

    /// Finished transfers, in the order they ended.
    @exclusivity(unchecked)
    public private(set) var records: TFTPTransferRecords
    public let maximumTransfers: Int
    /// Transfers open now.
    @exclusivity(unchecked)
    public private(set) var openTransfers = 0
    /// Open transfers closed early to make room for new ones.
    @exclusivity(unchecked)
    public private(set) var evicted = 0
    /// Requests and acknowledgements the clients sent again: a read request
    /// for a file whose earlier request is still unanswered (from any of
    /// the client's ports), and an ACK repeating the transfer's last one.
    /// What a client retransmits when an answer never reached it.
    @exclusivity(unchecked)
    public private(set) var clientRetransmissions = 0

    /// What identifies a transfer on the wire. Every frame is matched
    /// against these, so they are kept apart from the rest of a transfer:
    /// plain values, cheap to scan even in a debug build.
    private struct Key {
        var isOpen = false
        var clientMAC = MACAddress(0, 0, 0, 0, 0, 0)
        var clientIP = IPv4Address.any
        var clientPort: UInt16 = 0
        var server = IPv4Address.any
        /// The server's TID, once it answered.
        var serverPort: UInt16?
    }

    /// The rest of a transfer being followed; slots are reused.
    private struct Transfer {
        var client = MACAddress(0, 0, 0, 0, 0, 0)
        var file = ""
        var mode = "octet"
        var blockSize = 512
        /// Block number that follows 65535 (RFC 1350 leaves it open; 0 is usual).
        var wrapsTo: UInt16 = 0
        var askedRolloverToOne = false
        /// The number of the last block taken (0: none yet).
        var lastBlock: UInt16 = 0
        var size = 0
        var hash = SHA256()
        /// The client sent ACK for a DATA block (not just ACK 0 for the OACK).
        var acknowledgedData = false
        /// The client sent ACK 0: it accepted the OACK and wants the data.
        var acceptedOptions = false
        var lastActive: UInt64 = 0
        /// Which bytes of the Linux boot protocol's "HdrS" at 202h matched (bit k: byte 202h + k).
        var kernelMagic: UInt8 = 0
        /// The block the client last acknowledged (-1: none yet).
        var lastAcknowledged = -1
    }

    /// "HdrS", the Linux boot protocol's header signature (its bytes as a
    /// little-endian word), at 202h of a bzImage.
    private static let kernelMagic: (offset: Int, bytes: UInt32) = (0x202, 0x5372_6448)

    @exclusivity(unchecked)
    private var keys: [Key]
    @exclusivity(unchecked)
    private var slots: [Transfer]
    @exclusivity(unchecked)
    private var tick: UInt64 = 0

    /// Only this station's requests are followed, when set: a switch
    /// floods other stations' frames to every port, and a card's port sees
    /// them whether or not the card takes them.
    public let station: MACAddress?

    public init(station: MACAddress? = nil, maximumTransfers: Int = defaultMaximumTransfers,
                capacity: Int = TFTPTransferRecords.defaultCapacity) {
        self.station = station
        self.maximumTransfers = max(1, maximumTransfers)
        records = TFTPTransferRecords(capacity: capacity)
        keys = Array(repeating: Key(), count: self.maximumTransfers)
        slots = Array(repeating: Transfer(), count: self.maximumTransfers)
    }

    // MARK: Frames

    /// One Ethernet frame (destination address first, no FCS), in either
    /// direction. Anything that is not TFTP of a followed transfer, or is
    /// malformed, is ignored.
    public func observe(_ frame: UnsafeRawBufferPointer) {
        guard frame.count >= EthernetHeader.size, let base = frame.baseAddress else { return }
        var offset = 12
        var type = frame.be16(at: offset)
        // IEEE 802.1Q (0x8100) and 802.1ad (0x88A8) tags: four bytes each, at most two.
        var tags = 0
        while type == 0x8100 || type == 0x88A8, tags < 2 {
            offset += 4
            type = frame.be16(at: offset)
            tags += 1
        }
        guard type == EtherType.ipv4.rawValue else { return }
        let ip = offset + 2
        guard frame.count >= ip + IPv4Header.minimumSize, frame[ip] >> 4 == 4 else { return }
        let headerLength = Int(frame[ip] & 0x0F) * 4
        let total = Int(frame.be16(at: ip + 2))
        // RFC 791: no fragments (MF clear, offset 0), protocol 17, a UDP header inside.
        guard headerLength >= IPv4Header.minimumSize, total >= headerLength + UDPHeader.size, ip + total <= frame.count,
              frame.be16(at: ip + 6) & 0x3FFF == 0, frame[ip + 9] == IPProtocol.udp.rawValue else { return }
        let udp = ip + headerLength
        let udpLength = Int(frame.be16(at: udp + 4))
        guard udpLength >= UDPHeader.size + 2, udpLength <= total - headerLength else { return }
        let payload = UnsafeRawBufferPointer(rebasing: frame[(udp + UDPHeader.size)..<(udp + udpLength)])
        let source = frame.ipv4(ip + 12), destination = frame.ipv4(ip + 16)
        let sourcePort = frame.be16(at: udp), destinationPort = frame.be16(at: udp + 2)
        let opcode = payload.be16(at: 0)

        if destinationPort == Self.requestPort, opcode == TFTPOpcode.readRequest.rawValue {
            let sender = MACAddress(loadingFrom: base + 6)
            if station == nil || sender == station {
                request(payload, from: sender, source, sourcePort, to: destination)
            }
            return
        }
        guard openTransfers > 0 else { return }
        let receiver = MACAddress(loadingFrom: base)
        for i in keys.indices where keys[i].isOpen {
            // Answers go to the client's hardware address: a copy flooded
            // towards another station with the same IP and port is not the client's.
            if keys[i].clientIP == destination, keys[i].clientPort == destinationPort, keys[i].server == source,
               keys[i].clientMAC == receiver {
                if let tid = keys[i].serverPort, tid != sourcePort { continue }
                fromServer(payload, opcode: opcode, slot: i, port: sourcePort)
                return
            }
            if keys[i].clientIP == source, keys[i].clientPort == sourcePort, keys[i].server == destination,
               let tid = keys[i].serverPort, tid == destinationPort {
                fromClient(payload, opcode: opcode, slot: i)
                return
            }
        }
    }

    /// Closes every open transfer (the run is over): those with data or an
    /// accepted OACK are recorded as unfinished, probes are counted.
    public func finish() {
        for i in keys.indices where keys[i].isOpen {
            close(slot: i, abandoned: .unfinished)
        }
    }

    /// The finished transfers, after `finish()` when the run is over.
    public var entries: [TFTPTransferRecord] { records.entries }

    // MARK: Requests

    private func request(_ payload: UnsafeRawBufferPointer, from mac: MACAddress, _ clientIP: IPv4Address, _ clientPort: UInt16,
                         to server: IPv4Address) {
        guard case .readRequest(let request)? = try? TFTPPacket(parsing: payload) else { return }
        tick &+= 1
        let file = TFTPTransferRecord.sanitized(request.filename)
        if let i = keys.firstIndex(where: { $0.isOpen && $0.clientIP == clientIP && $0.clientPort == clientPort && $0.server == server }) {
            if keys[i].serverPort == nil {
                // Unanswered: the client repeated its request (or changed
                // its mind before any answer); follow the latest.
                if slots[i].file == file { clientRetransmissions += 1 }
                release(slot: i)
            } else {
                close(slot: i, abandoned: .restarted)
            }
        } else if let i = keys.indices.first(where: { keys[$0].isOpen && keys[$0].serverPort == nil && keys[$0].clientIP == clientIP
                                                        && keys[$0].server == server && slots[$0].file == file }) {
            // The same request again from a new port: no answer reached it.
            clientRetransmissions += 1
            release(slot: i)
        }
        let slot: Int
        if let free = keys.firstIndex(where: { !$0.isOpen }) {
            slot = free
        } else {
            // Full: make room by closing the transfer idle the longest.
            let oldest = slots.indices.min { slots[$0].lastActive < slots[$1].lastActive } ?? 0
            close(slot: oldest, abandoned: .unfinished)
            evicted += 1
            slot = oldest
        }
        keys[slot] = Key(isOpen: true, clientMAC: mac, clientIP: clientIP, clientPort: clientPort, server: server, serverPort: nil)
        var t = Transfer()
        t.client = mac
        t.file = file
        t.mode = request.mode
        t.askedRolloverToOne = request.option("rollover") == "1"
        t.lastActive = tick
        slots[slot] = t
        openTransfers += 1
    }

    // MARK: Server to client

    private func fromServer(_ payload: UnsafeRawBufferPointer, opcode: UInt16, slot i: Int, port: UInt16) {
        switch TFTPOpcode(rawValue: opcode) {
        case .data:
            guard payload.count >= 4 else { return }
            bind(slot: i, port: port)
            let block = payload.be16(at: 2)
            let expected = slots[i].lastBlock == 0xFFFF ? slots[i].wrapsTo : slots[i].lastBlock &+ 1
            // A duplicate, a retransmit or a block after a gap: the client drops it too.
            guard block == expected else { return }
            let data = UnsafeRawBufferPointer(rebasing: payload[4...])
            if slots[i].size <= Self.kernelMagic.offset + 3 { matchKernelMagic(data, at: slots[i].size, slot: i) }
            slots[i].lastBlock = block
            slots[i].size += data.count
            slots[i].hash.update(data)
            tick &+= 1
            slots[i].lastActive = tick
            if data.count < slots[i].blockSize {
                let digest = slots[i].hash.finalize()
                record(slot: i, outcome: .completed(sha256: digest))
            }
        case .optionAcknowledgement:
            // Options are fixed before the first DATA; a late OACK changes nothing.
            guard slots[i].size == 0, slots[i].lastBlock == 0,
                  case .optionAcknowledgement(let options)? = try? TFTPPacket(parsing: payload) else { return }
            bind(slot: i, port: port)
            for option in options {
                switch option.name.lowercased() {
                case TFTPOption.blockSize:
                    // RFC 2348: 8 to 65464 octets.
                    if let n = Int(option.value), (8...65464).contains(n) { slots[i].blockSize = n }
                case "rollover":
                    if option.value == "1", slots[i].askedRolloverToOne { slots[i].wrapsTo = 1 }
                default:
                    break
                }
            }
        case .error:
            bind(slot: i, port: port)
            let (code, message) = Self.error(payload)
            record(slot: i, outcome: .serverError(code: code, message: message))
        default:
            break
        }
    }

    /// Notes which bytes of "HdrS" at 202h a block starting at file offset
    /// `start` holds (a block boundary may split them).
    private func matchKernelMagic(_ data: UnsafeRawBufferPointer, at start: Int, slot i: Int) {
        let m = Self.kernelMagic
        for k in 0..<4 {
            let offset = m.offset + k - start
            if offset >= 0, offset < data.count, data[offset] == UInt8(truncatingIfNeeded: m.bytes >> (8 * k)) {
                slots[i].kernelMagic |= 1 << k
            }
        }
    }

    private func bind(slot i: Int, port: UInt16) {
        if keys[i].serverPort == nil { keys[i].serverPort = port }
    }

    // MARK: Client to server

    private func fromClient(_ payload: UnsafeRawBufferPointer, opcode: UInt16, slot i: Int) {
        switch TFTPOpcode(rawValue: opcode) {
        case .acknowledgement:
            guard payload.count >= 4 else { return }
            let acknowledged = Int(payload.be16(at: 2))
            if acknowledged == slots[i].lastAcknowledged { clientRetransmissions += 1 }
            slots[i].lastAcknowledged = acknowledged
            if slots[i].lastBlock == 0, slots[i].size == 0 {
                // RFC 2347: ACK 0 accepts the OACK; the data starts at block 1.
                if payload.be16(at: 2) == 0 { slots[i].acceptedOptions = true }
            } else {
                slots[i].acknowledgedData = true
            }
        case .error:
            let (code, message) = Self.error(payload)
            if slots[i].acknowledgedData {
                record(slot: i, outcome: .clientError(code: code, message: message))
            } else {
                countProbe(slot: i)
            }
        default:
            break
        }
    }

    // MARK: Closing

    /// Closes a transfer its client left (a new request, the end of the
    /// run, eviction): recorded when the client had taken data or asked
    /// for it, counted as a probe otherwise.
    private func close(slot i: Int, abandoned outcome: TFTPTransferRecord.Outcome) {
        let t = slots[i]
        if t.acknowledgedData || t.size > 0 || t.acceptedOptions || keys[i].serverPort == nil {
            record(slot: i, outcome: outcome)
        } else {
            countProbe(slot: i)
        }
    }

    private func record(slot i: Int, outcome: TFTPTransferRecord.Outcome) {
        let t = slots[i], key = keys[i]
        records.append(TFTPTransferRecord(client: t.client, clientIP: key.clientIP, clientPort: key.clientPort, server: key.server,
                                          file: t.file, mode: t.mode, size: t.size, outcome: outcome,
                                          linuxKernel: t.kernelMagic == 0xF))
        release(slot: i)
    }

    private func countProbe(slot i: Int) {
        records.countProbe()
        release(slot: i)
    }

    private func release(slot i: Int) {
        keys[i] = Key()
        slots[i] = Transfer()
        openTransfers -= 1
    }

    /// An ERROR packet's code and sanitized message.
    private static func error(_ payload: UnsafeRawBufferPointer) -> (UInt16, String) {
        guard case let .error(code, message)? = try? TFTPPacket(parsing: payload) else { return (payload.be16(at: 2), "") }
        return (code, TFTPTransferRecord.sanitized(message))
    }
}
