#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NICCore
import Wire

/// A read-only TFTP server (RFC 1350) with option negotiation (RFC 2347),
/// blksize (RFC 2348), timeout and tsize (RFC 2349) and windowsize
/// (RFC 7440). Each transfer gets its own server port (its TID); many run
/// at once. Retransmission runs on the virtual clock, which a live host
/// advances with real time.
public final class TFTPServer {
    public static let port: UInt16 = 69
    /// Server TIDs are drawn from the dynamic port range.
    public static let transferPorts: ClosedRange<UInt16> = 49152...65535

    public let root: TFTPRoot
    /// The largest block size granted: what fits a 1500-byte MTU.
    @exclusivity(unchecked)
    public var maximumBlockSize = 1468
    /// The largest window granted.
    @exclusivity(unchecked)
    public var maximumWindowSize = 64
    /// Retransmission interval when the client asks for none.
    @exclusivity(unchecked)
    public var defaultTimeout: UInt64 = VirtualClock.second
    /// Retransmissions of one window before the transfer is abandoned.
    @exclusivity(unchecked)
    public var maximumRetries = 6
    /// Concurrent transfers beyond this are refused.
    @exclusivity(unchecked)
    public var maximumSessions = 512

    public struct Counters: Sendable, Equatable {
        public var started = 0
        public var completed = 0
        public var failed = 0
        public var dataPacketsSent = 0
        public var retransmissions = 0
        public var bytesSent = 0

        public init() {}
    }

    @exclusivity(unchecked)
    public private(set) var counters = Counters()
    public var activeTransfers: Int { sessions.count }
    /// Memory the live transfers hold about their files, in bytes: a few
    /// words per block of a netascii window, never file contents. With
    /// `maximumSessions` and `maximumWindowSize` it bounds the total.
    public var heldBytes: Int { sessions.values.reduce(0) { $0 + $1.heldBytes } }

    /// When set, every finished transfer is recorded here in the order it
    /// ended: what the client got (the size and SHA-256 of the blocks it
    /// acknowledged, the last one included) or the error that ended it,
    /// with the client's MAC. A client that abandons a transfer before
    /// acknowledging any data (a tsize probe) is counted, not listed, as in
    /// `TFTPTransferLog`. Nil (the default) keeps nothing and hashes nothing.
    @exclusivity(unchecked)
    public var records: TFTPTransferRecords?

    private let clock: VirtualClock
    /// Where datagrams go; set by the owning BootServer.
    weak var output: UDPOutput?
    /// Where events go; set by the owning BootServer.
    @exclusivity(unchecked)
    var log: (BootServerEvent) -> Void = { _ in }
    @exclusivity(unchecked)
    private var sessions: [UInt16: TFTPSession] = [:]
    @exclusivity(unchecked)
    private var byClient: [UDPEndpoint: UInt16] = [:]
    @exclusivity(unchecked)
    private var random: SeededRandom
    @exclusivity(unchecked)
    private var timer: TimerID?
    @exclusivity(unchecked)
    private var timerDeadline: UInt64 = .max

    /// Where netascii blocks are read before conversion: one for all
    /// sessions (they are read one at a time), as large as a block can be.
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 65464, alignment: 8)

    init(root: TFTPRoot, clock: VirtualClock, seed: UInt64) {
        self.root = root
        self.clock = clock
        random = SeededRandom(seed: seed)
    }

    deinit {
        scratch.deallocate()
    }

    // MARK: Requests on port 69

    /// A datagram to port 69 from `client`.
    func handleRequest(_ payload: UnsafeRawBufferPointer, from client: UDPEndpoint) {
        let packet: TFTPPacket
        do { packet = try TFTPPacket(parsing: payload) } catch {
            sendError(.illegalOperation, "malformed request", from: Self.port, to: client)
            return
        }
        switch packet {
        case .readRequest(let request):
            if let existing = byClient[client], let session = sessions[existing] {
                // The client repeated its request: our first answer was lost.
                if session.acked == 0 { resend(session) }
                return
            }
            start(request, for: client)
        case .writeRequest:
            sendError(.accessViolation, "read-only server", from: Self.port, to: client)
        default:
            sendError(.illegalOperation, "expected a read request", from: Self.port, to: client)
        }
    }

    private func start(_ request: TFTPRequest, for client: UDPEndpoint) {
        guard sessions.count < maximumSessions, let localPort = allocatePort() else {
            sendError(.notDefined, "server busy", from: Self.port, to: client)
            record(request, for: client, .serverError(code: TFTPErrorCode.notDefined.rawValue, message: "server busy"))
            return
        }
        let opened: (fd: Int32, size: Int)
        do { opened = try root.open(request.filename) } catch {
            let (code, message): (TFTPErrorCode, String) = switch error {
            case .notFound: (.fileNotFound, "file not found")
            case .accessViolation(let why): (.accessViolation, why)
            }
            sendError(code, message, from: localPort, to: client)
            record(request, for: client, .serverError(code: code.rawValue, message: message))
            log(.transferFailed(client: client.ip, file: request.filename, reason: error.description))
            return
        }
        // RFC 1350 modes are case-insensitive; netascii converts as it reads.
        let netascii = request.mode.lowercased() == "netascii"
        let source: TFTPSession.Source = netascii ? .netascii(fd: opened.fd) : .file(fd: opened.fd)
        let size = opened.size

        var blockSize = 512, windowSize = 1
        var timeout = defaultTimeout
        var granted: [TFTPOption] = []
        for option in request.options {
            let name = option.name.lowercased()
            guard let value = Int(option.value) else { continue }
            switch name {
            case TFTPOption.blockSize where value >= 8:
                // Never more than one frame of ours can carry after the 4-byte header.
                let fits = (output?.payloadArea.count ?? 516) - 4
                blockSize = max(8, min(value, 65464, maximumBlockSize, fits))
                granted.append(TFTPOption(option.name, String(blockSize)))
            case TFTPOption.windowSize where value >= 1:
                windowSize = min(value, 65535, maximumWindowSize)
                granted.append(TFTPOption(option.name, String(windowSize)))
            case TFTPOption.timeout where (1...255).contains(value):
                timeout = UInt64(value) * VirtualClock.second
                granted.append(TFTPOption(option.name, String(value)))
            case TFTPOption.transferSize where value == 0 && !netascii:
                // netascii's size is known only by converting the whole
                // file first; RFC 2347 lets a server leave an option out.
                granted.append(TFTPOption(option.name, String(size)))
            default:
                continue
            }
        }
        let session = TFTPSession(client: client, localPort: localPort, filename: request.filename, mode: request.mode, source: source,
                                  size: size, blockSize: blockSize, windowSize: windowSize, timeout: timeout,
                                  acknowledgedOptions: granted)
        if records != nil { session.hash = SHA256() }
        sessions[localPort] = session
        byClient[client] = localPort
        counters.started += 1
        log(.transferStarted(client: client.ip, file: request.filename, size: size, blockSize: blockSize, windowSize: windowSize))
        resend(session)
    }

    private func allocatePort() -> UInt16? {
        let span = UInt64(Self.transferPorts.count)
        for _ in 0..<64 {
            let p = Self.transferPorts.lowerBound + UInt16(random.next() % span)
            if sessions[p] == nil { return p }
        }
        return Self.transferPorts.first { sessions[$0] == nil }
    }

    // MARK: Packets on a transfer's port

    /// True when `localPort` belongs to a live transfer (or to the
    /// transfer range, which is answered with an error).
    func owns(_ localPort: UInt16) -> Bool { Self.transferPorts.contains(localPort) }

    /// A datagram to one of our transfer ports.
    func handle(_ payload: UnsafeRawBufferPointer, from client: UDPEndpoint, localPort: UInt16) {
        guard let session = sessions[localPort], session.client.ip == client.ip, session.client.port == client.port else {
            // RFC 1350 section 4: a packet with an unknown TID gets ERROR 5
            // and doesn't disturb any transfer.
            if let packet = try? TFTPPacket(parsing: payload), case .error = packet { return }
            sendError(.unknownTransferID, "unknown transfer ID", from: localPort, to: client)
            return
        }
        guard let packet = try? TFTPPacket(parsing: payload) else { return }
        switch packet {
        case .acknowledgement(let block):
            acknowledge(session, block: block)
        case .error(let code, let message):
            // A client that refuses the OACK (code 8) or gives up ends the transfer.
            finish(session, failure: "client error \(code): \(message)",
                   ending: session.acked == 0 ? .probe : .failed(.clientError(code: code, message: TFTPTransferRecord.sanitized(message))))
        default:
            sendError(.illegalOperation, "expected an acknowledgement", from: localPort, to: client)
            finish(session, failure: "illegal operation from client",
                   ending: .failed(.serverError(code: TFTPErrorCode.illegalOperation.rawValue, message: "expected an acknowledgement")))
        }
    }

    private func acknowledge(_ session: TFTPSession, block: UInt16) {
        if session.awaitingOptionAck {
            // RFC 2347: ACK 0 accepts the OACK; the data starts at block 1.
            guard block == 0 else { return }
            session.awaitingOptionAck = false
            session.retries = 0
            sendWindow(session)
            return
        }
        // A duplicate or stale ACK is not answered (the sorcerer's
        // apprentice, RFC 1123 4.2.3.1); the timer resends if needed.
        guard let index = session.outstandingBlock(numbered: block) else { return }
        session.acked = index
        session.retries = 0
        if session.isComplete {
            finish(session, failure: nil, ending: .completed)
        } else {
            // RFC 7440: an ACK inside the window means the blocks after it
            // were lost; the next window starts right after it either way.
            sendWindow(session)
        }
    }

    // MARK: Sending

    /// Sends whatever opens the transfer or continues it from the last ACK.
    private func resend(_ session: TFTPSession) {
        guard let output else { return }
        if session.awaitingOptionAck {
            let area = output.payloadArea
            guard let n = try? TFTPPacket.writeOptionAcknowledgement(session.acknowledgedOptions, to: area) else {
                finish(session, failure: "options do not fit a packet",
                       ending: .failed(.serverError(code: TFTPErrorCode.notDefined.rawValue, message: "options do not fit a packet")))
                return
            }
            output.sendUDP(payloadCount: n, from: session.localPort, to: session.client)
            arm(session)
        } else {
            sendWindow(session)
        }
    }

    /// Sends blocks acked+1 ... acked+windowSize (up to the last block).
    private func sendWindow(_ session: TFTPSession) {
        guard let output else { return }
        let first = session.acked + 1
        let last = min(session.acked + session.windowSize, session.lastBlock)
        guard first <= last else { return }
        for index in first...last {
            let area = output.payloadArea
            guard let header = try? TFTPPacket.writeDataHeader(block: UInt16(truncatingIfNeeded: index), to: area),
                  let n = session.read(block: index, into: UnsafeMutableRawBufferPointer(rebasing: area[header...]), scratch: scratch) else {
                sendError(.notDefined, "read error", from: session.localPort, to: session.client)
                finish(session, failure: "read error", ending: .failed(.serverError(code: TFTPErrorCode.notDefined.rawValue, message: "read error")))
                return
            }
            if index > session.sent, session.hash != nil {
                session.hash?.update(UnsafeRawBufferPointer(rebasing: area[header..<(header + n)]))
            }
            output.sendUDP(payloadCount: header + n, from: session.localPort, to: session.client)
            counters.dataPacketsSent += 1
            counters.bytesSent += n
            if index <= session.sent {
                session.retransmissions += 1
                counters.retransmissions += 1
            }
            session.sent = max(session.sent, index)
            // netascii learns which block is the last by reading it.
            if index >= session.lastBlock { break }
        }
        arm(session)
    }

    private func sendError(_ code: TFTPErrorCode, _ message: String, from localPort: UInt16, to client: UDPEndpoint) {
        guard let output, let n = try? TFTPPacket.writeError(code, message: message, to: output.payloadArea) else { return }
        output.sendUDP(payloadCount: n, from: localPort, to: client)
    }

    /// How a session ended, for `records`.
    private enum Ending {
        case completed
        case failed(TFTPTransferRecord.Outcome)
        /// Abandoned before the client acknowledged any data.
        case probe
    }

    private func finish(_ session: TFTPSession, failure: String?, ending: Ending) {
        sessions[session.localPort] = nil
        if byClient[session.client] == session.localPort { byClient[session.client] = nil }
        if records != nil {
            let acknowledged = min(session.size, session.acked * session.blockSize)
            switch ending {
            case .completed:
                var hash = session.hash ?? SHA256()
                record(session, size: session.size, .completed(sha256: hash.finalize()))
            case .failed(let outcome):
                record(session, size: acknowledged, outcome)
            case .probe:
                records?.countProbe()
            }
        }
        if let failure {
            counters.failed += 1
            log(.transferFailed(client: session.client.ip, file: session.filename, reason: failure))
        } else {
            counters.completed += 1
            log(.transferCompleted(client: session.client.ip, file: session.filename, size: session.size,
                                   retransmissions: session.retransmissions))
        }
    }

    // MARK: Records

    private func record(_ session: TFTPSession, size: Int, _ outcome: TFTPTransferRecord.Outcome) {
        records?.append(TFTPTransferRecord(client: session.client.mac, clientIP: session.client.ip, clientPort: session.client.port,
                                           server: output?.address ?? .any, file: TFTPTransferRecord.sanitized(session.filename),
                                           mode: session.mode, size: size, outcome: outcome))
    }

    /// A request refused before a session began.
    private func record(_ request: TFTPRequest, for client: UDPEndpoint, _ outcome: TFTPTransferRecord.Outcome) {
        records?.append(TFTPTransferRecord(client: client.mac, clientIP: client.ip, clientPort: client.port, server: output?.address ?? .any,
                                           file: TFTPTransferRecord.sanitized(request.filename), mode: request.mode, size: 0,
                                           outcome: outcome))
    }

    // MARK: Retransmission

    /// Sets the session's deadline and makes sure the server's one timer
    /// fires no later than it. Scheduling happens only when the timer must
    /// move earlier or has fired, not per packet.
    private func arm(_ session: TFTPSession) {
        session.deadline = clock.now &+ session.timeout
        if timer == nil || session.deadline < timerDeadline { schedule(at: session.deadline) }
    }

    private func schedule(at deadline: UInt64) {
        if let timer { clock.cancel(timer) }
        timerDeadline = deadline
        timer = clock.schedule(at: deadline) { [weak self] in self?.timerFired() }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = .max
        let now = clock.now
        let expired = sessions.values.filter { $0.deadline <= now }.sorted { $0.localPort < $1.localPort }
        for session in expired {
            session.retries += 1
            if session.retries > maximumRetries {
                sendError(.notDefined, "timed out", from: session.localPort, to: session.client)
                // A client silent after the OACK was asking for the size only.
                finish(session, failure: "timed out after \(maximumRetries) retransmissions",
                       ending: session.awaitingOptionAck ? .probe
                           : .failed(.serverError(code: TFTPErrorCode.notDefined.rawValue, message: "timed out")))
            } else {
                resend(session)
            }
        }
        if let next = sessions.values.map(\.deadline).min() { schedule(at: next) }
    }
}
