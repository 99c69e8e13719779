import NICCore
import UNDI
import Wire

/// What the TFTP client asks the server for (RFC 2347 option negotiation).
public struct TFTPTransferOptions: Sendable, Equatable {
    /// blksize (RFC 2348), 8...65464; 512 sends no blksize option.
    public var blockSize: Int = 1432
    /// windowsize (RFC 7440): blocks per ACK; 1 sends no windowsize option.
    public var windowSize: Int = 1
    /// Ask for tsize 0 so the server says the file's size (RFC 2349).
    public var requestTransferSize = true
    /// timeout (RFC 2349) in seconds, 1...255; nil sends none.
    public var timeoutSeconds: UInt8?
    /// Strip a ".zpxe" suffix from the file name before asking for it, as
    /// Etherboot did with ZPXE_SUFFIX_STRIP.
    public var stripZPXESuffix = false
    /// Transmissions of a request or ACK before giving up.
    public var attempts = 6

    public init(blockSize: Int = 1432, windowSize: Int = 1, requestTransferSize: Bool = true,
                timeoutSeconds: UInt8? = nil, stripZPXESuffix: Bool = false) {
        self.blockSize = blockSize
        self.windowSize = windowSize
        self.requestTransferSize = requestTransferSize
        self.timeoutSeconds = timeoutSeconds
        self.stripZPXESuffix = stripZPXESuffix
    }
}

/// Why a TFTP transfer failed.
public enum TFTPClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No answer to the read request.
    case openTimeout
    /// The server stopped sending in the middle of the file.
    case readTimeout
    /// The server sent an ERROR packet.
    case server(code: UInt16, message: String)
    /// The server's OACK carried a value we did not allow.
    case badOptionAcknowledgement(String)
    /// The next hop did not answer ARP.
    case cannotResolve
    /// The file is larger than the caller's buffer.
    case tooLarge
    /// The server answered without a tsize.
    case noFileSize
    /// No transfer is open.
    case closed
    /// A DATA block larger than the negotiated blksize (RFC 2348): the
    /// transfer was aborted with ERROR 4 and none of the block delivered.
    case oversizedBlock(size: Int, blockSize: Int)

    /// The PXE status for this failure.
    public var status: PXEStatus {
        switch self {
        case .openTimeout: .tftpOpenTimeout
        case .readTimeout: .tftpReadTimeout
        case .server(let code, _):
            switch code {
            case TFTPErrorCode.fileNotFound.rawValue: .tftpFileNotFound
            case TFTPErrorCode.accessViolation.rawValue: .tftpAccessViolation
            default: .tftpErrorOpcode
            }
        case .badOptionAcknowledgement: .tftpCannotOpenConnection
        case .cannotResolve: .tftpCannotARPAddress
        case .tooLarge: .outOfResources
        case .noFileSize: .tftpNoFileSize
        case .closed: .tftpClosed
        case .oversizedBlock: .tftpCannotReadFromConnection
        }
    }

    public var description: String {
        switch self {
        case .openTimeout: "TFTP: no answer from the server"
        case .readTimeout: "TFTP: the server stopped sending"
        // The server's words, escaped: they reach logs and the console.
        case .server(let code, let message): "TFTP error \(code): \(TerminalSafe.escaping(message))"
        case .badOptionAcknowledgement(let s): "TFTP: bad option acknowledgement (\(TerminalSafe.escaping(s)))"
        case .cannotResolve: "TFTP: cannot resolve the server's address"
        case .tooLarge: "TFTP: the file does not fit the buffer"
        case .noFileSize: "TFTP: the server did not report the file size"
        case .closed: "TFTP: no transfer open"
        case .oversizedBlock(let size, let blockSize): "TFTP: the server sent a \(size)-byte block, blksize is \(blockSize)"
        }
    }
}

/// A read-only TFTP client (RFC 1350) with option negotiation (RFC 2347:
/// blksize, tsize, timeout, windowsize). It reads one block per `read`
/// call, as PXENV_TFTP_READ hands them out, ACKs every `windowSize` blocks
/// and at the end, retransmits its last packet on silence (doubling the
/// wait up to 8 s), ignores duplicates, ACKs the last good block when a
/// block is missing from a window (RFC 7440), and answers strangers with
/// ERROR 5 (unknown transfer ID).
public final class TFTPClient {
    /// What the server agreed to.
    public struct Transfer: Sendable, Equatable {
        public var server: IPv4Address
        public var fileName: String
        public var blockSize: Int
        public var windowSize: Int
        public var transferSize: UInt32?
    }

    public let ip: IPStack
    @exclusivity(unchecked)
    public private(set) var transfer: Transfer?
    /// Every block delivered so far, for statistics.
    @exclusivity(unchecked)
    public private(set) var blocksReceived = 0
    @exclusivity(unchecked)
    public private(set) var retransmissions = 0
    /// Progress, as it happens.
    @exclusivity(unchecked)
    public var onEvent: ((PXEEvent) -> Void)?
    /// Bytes delivered in the current (or last) transfer.
    @exclusivity(unchecked)
    public private(set) var bytesReceived = 0

    @exclusivity(unchecked)
    private var localPort: UInt16
    @exclusivity(unchecked)
    private var nextLocalPort: UInt16
    @exclusivity(unchecked)
    private var serverPort: UInt16 = 0
    @exclusivity(unchecked)
    private var gateway: IPv4Address = .any
    @exclusivity(unchecked)
    private var options = TFTPTransferOptions()
    @exclusivity(unchecked)
    private var expected: UInt16 = 1
    @exclusivity(unchecked)
    private var inWindow = 0
    @exclusivity(unchecked)
    private var finished = false
    @exclusivity(unchecked)
    private var lastAck: UInt16 = 0
    @exclusivity(unchecked)
    private var gapAckedFor: UInt16?
    /// A DATA 1 that answered the request directly (the server took no
    /// options); the first `read` returns it.
    private let pending = FrameBuffer(capacity: 65536)
    @exclusivity(unchecked)
    private var pendingValid = false
    private let scratch = FrameBuffer(capacity: 600)

    public init(ip: IPStack, firstLocalPort: UInt16 = 2070) {
        self.ip = ip
        localPort = firstLocalPort
        nextLocalPort = firstLocalPort
    }

    public var isOpen: Bool { transfer != nil }

    // MARK: Open

    /// Sends the read request and waits for the OACK or the first block.
    public func open(server: IPv4Address, file: String, port: UInt16 = 69, gateway: IPv4Address = .any,
                     options: TFTPTransferOptions = TFTPTransferOptions()) throws(TFTPClientError) -> Transfer {
        close()
        self.options = options
        self.gateway = gateway
        var name = file
        if options.stripZPXESuffix, name.hasSuffix(".zpxe") { name.removeLast(5) }
        // A fresh port per transfer, so a late packet of the last one is a stranger.
        localPort = nextLocalPort
        nextLocalPort = nextLocalPort >= 0xFF00 ? 2070 : nextLocalPort + 1
        serverPort = 0
        expected = 1
        inWindow = 0
        finished = false
        lastAck = 0
        gapAckedFor = nil
        pendingValid = false
        blocksReceived = 0
        bytesReceived = 0
        var requestOptions: [TFTPOption] = []
        let blockSize = max(8, min(options.blockSize, 65464))
        if blockSize != 512 { requestOptions.append(TFTPOption(TFTPOption.blockSize, String(blockSize))) }
        if options.requestTransferSize { requestOptions.append(TFTPOption(TFTPOption.transferSize, "0")) }
        if let t = options.timeoutSeconds, t > 0 { requestOptions.append(TFTPOption(TFTPOption.timeout, String(t))) }
        let window = max(1, min(options.windowSize, 65535))
        if window > 1 { requestOptions.append(TFTPOption(TFTPOption.windowSize, String(window))) }

        var withOptions = !requestOptions.isEmpty
        for _ in 0..<2 {
            let request = TFTPRequest(filename: name, mode: "octet", options: withOptions ? requestOptions : [])
            let answer = try requestAndWait(request, server: server, port: port)
            switch answer {
            case .options(let acked):
                var t = Transfer(server: server, fileName: name, blockSize: 512, windowSize: 1, transferSize: nil)
                for o in acked {
                    let value = o.value
                    switch o.name.lowercased() {
                    case TFTPOption.blockSize:
                        guard let v = Int(value), v >= 8, v <= blockSize else { return try refuse("blksize \(value)", server) }
                        t.blockSize = v
                    case TFTPOption.windowSize:
                        guard let v = Int(value), v >= 1, v <= window else { return try refuse("windowsize \(value)", server) }
                        t.windowSize = v
                    case TFTPOption.transferSize:
                        t.transferSize = UInt32(value)
                    case TFTPOption.timeout:
                        break
                    default:
                        return try refuse("unrequested option \(o.name)", server)
                    }
                }
                transfer = t
                onEvent?(.tftpOpened(file: name, server: server, size: t.transferSize))
                try sendAck(0)
                return t
            case .firstBlock:
                let t = Transfer(server: server, fileName: name, blockSize: 512, windowSize: 1, transferSize: nil)
                transfer = t
                onEvent?(.tftpOpened(file: name, server: server, size: nil))
                return t
            case .refusedOptions:
                // Error 8: the server won't negotiate; ask again plainly.
                withOptions = false
                serverPort = 0
                continue
            }
        }
        throw .openTimeout
    }

    private enum OpenAnswer {
        case options([TFTPOption])
        case firstBlock
        case refusedOptions
    }

    private func refuse(_ what: String, _ server: IPv4Address) throws(TFTPClientError) -> Transfer {
        sendError(.optionNegotiation, "option refused", to: server, port: serverPort)
        serverPort = 0
        throw .badOptionAcknowledgement(what)
    }

    private func requestAndWait(_ request: TFTPRequest, server: IPv4Address, port: UInt16) throws(TFTPClientError) -> OpenAnswer {
        var wait = retransmitBase
        for _ in 0..<max(1, options.attempts) {
            do throws(PXEStatus) {
                try ip.sendUDP(to: server, port: port, from: localPort, gateway: gateway) { room in
                    var r = request
                    if r.filename.utf8.count > 250 { r.filename = String(decoding: r.filename.utf8.prefix(250), as: UTF8.self) }
                    return (try? TFTPPacket.writeRequest(.readRequest, r, to: room)) ?? 0
                }
            } catch {
                throw error == .arpTimeout ? .cannotResolve : .openTimeout
            }
            var answer: OpenAnswer?
            var failure: TFTPClientError?
            _ = ip.waitUDP(timeout: wait) { datagram, payload in
                guard let from = self.fromServer(datagram, server: server, acceptAnyPort: true) else { return false }
                guard let packet = try? TFTPPacket(parsing: payload) else { return false }
                switch packet {
                case .optionAcknowledgement(let options):
                    self.serverPort = from
                    answer = .options(options)
                case .data(let block, let range) where block == 1:
                    self.serverPort = from
                    let body = UnsafeRawBufferPointer(rebasing: payload[range.clamped(to: 0..<payload.count)])
                    self.pending.assign(body)
                    self.pendingValid = true
                    answer = .firstBlock
                case .error(let code, let message):
                    if code == TFTPErrorCode.optionNegotiation.rawValue, !request.options.isEmpty {
                        answer = .refusedOptions
                    } else {
                        failure = .server(code: code, message: message)
                    }
                default:
                    return false
                }
                return true
            }
            if let failure { throw failure }
            if let answer { return answer }
            retransmissions += 1
            wait = min(wait * 2, 8 * VirtualClock.second)
        }
        throw .openTimeout
    }

    private var retransmitBase: UInt64 {
        UInt64(options.timeoutSeconds.map { max($0, 1) } ?? 1) * VirtualClock.second
    }

    /// The server's port if `datagram` is from the server to us; a packet
    /// from the server's address but another port gets ERROR 5.
    private func fromServer(_ datagram: UDPDatagram, server: IPv4Address, acceptAnyPort: Bool = false) -> UInt16? {
        guard datagram.udp.destinationPort == localPort, datagram.ip.source == server || server.isBroadcast else { return nil }
        let port = datagram.udp.sourcePort
        if serverPort == 0 && acceptAnyPort { return port }
        if port == serverPort { return port }
        sendError(.unknownTransferID, "unknown transfer ID", to: datagram.ip.source, port: port)
        return nil
    }

    // MARK: Read

    /// Waits for the next block and hands its bytes to `sink` (valid during
    /// the call). Returns the block number and whether it was the last.
    /// After the last block, throws `.closed`.
    public func read(_ sink: (UnsafeRawBufferPointer) throws(PXEStatus) -> Void) throws(TFTPClientError) -> (block: UInt16, count: Int, last: Bool) {
        guard let t = transfer, !finished else { throw .closed }
        if pendingValid {
            pendingValid = false
            return try deliver(block: 1, pending.bytes, t, sink)
        }
        var wait = retransmitBase
        var attempts = 0
        while true {
            var result: (UInt16, Int, Bool)?
            var failure: TFTPClientError?
            _ = ip.waitUDP(timeout: wait) { datagram, payload in
                guard self.fromServer(datagram, server: t.server) != nil,
                      let packet = try? TFTPPacket(parsing: payload) else { return false }
                switch packet {
                case .data(let block, let range):
                    let body = UnsafeRawBufferPointer(rebasing: payload[range.clamped(to: 0..<payload.count)])
                    guard block == self.expected else {
                        self.outOfOrder(block)
                        return false
                    }
                    do throws(TFTPClientError) { result = try self.deliver(block: block, body, t, sink) } catch { failure = error }
                    return true
                case .error(let code, let message):
                    failure = .server(code: code, message: message)
                    return true
                case .optionAcknowledgement where self.expected == 1:
                    // Our ACK 0 was lost and the OACK came again.
                    try? self.sendAck(0)
                    return false
                default:
                    return false
                }
            }
            if let failure {
                close()
                throw failure
            }
            if let (block, count, last) = result { return (block, count, last) }
            attempts += 1
            guard attempts < max(1, options.attempts) else {
                close()
                throw .readTimeout
            }
            // Silence: say again what we have.
            retransmissions += 1
            try? sendAck(lastAck)
            wait = min(wait * 2, 8 * VirtualClock.second)
        }
    }

    private func deliver(block: UInt16, _ body: UnsafeRawBufferPointer, _ t: Transfer,
                         _ sink: (UnsafeRawBufferPointer) throws(PXEStatus) -> Void) throws(TFTPClientError) -> (block: UInt16, count: Int, last: Bool) {
        // RFC 2348: no block exceeds blksize. Callers size their buffers by
        // it (TFTP_READ's is PacketSize bytes), so a larger one is refused
        // whole, never cut or copied.
        guard body.count <= t.blockSize else {
            sendError(.illegalOperation, "block larger than blksize", to: t.server, port: serverPort)
            close(sendingError: false)
            throw .oversizedBlock(size: body.count, blockSize: t.blockSize)
        }
        do throws(PXEStatus) { try sink(body) } catch {
            sendError(.diskFull, "buffer full", to: t.server, port: serverPort)
            close()
            throw .tooLarge
        }
        blocksReceived += 1
        bytesReceived += body.count
        expected = block &+ 1
        gapAckedFor = nil
        inWindow += 1
        let last = body.count < t.blockSize
        if last || inWindow >= t.windowSize {
            try? sendAck(block)
            inWindow = 0
        }
        if last {
            finished = true
            onEvent?(.tftpCompleted(file: t.fileName, bytes: bytesReceived))
        }
        return (block, body.count, last)
    }

    /// A block other than the next: a duplicate of one we have (our ACK
    /// was lost, so ACK again once), or one past a gap (ACK the last good
    /// block so the server resends from there, RFC 7440).
    private func outOfOrder(_ block: UInt16) {
        guard gapAckedFor != expected else { return }
        gapAckedFor = expected
        try? sendAck(expected &- 1)
    }

    private func sendAck(_ block: UInt16) throws(TFTPClientError) {
        guard let server = transfer?.server else { return }
        lastAck = block
        do throws(PXEStatus) {
            try ip.sendUDP(to: server, port: serverPort, from: localPort, gateway: gateway) { room in
                (try? TFTPPacket.writeAcknowledgement(block: block, to: room)) ?? 0
            }
        } catch {
            throw .cannotResolve
        }
    }

    private func sendError(_ code: TFTPErrorCode, _ message: String, to server: IPv4Address, port: UInt16) {
        guard port != 0 else { return }
        try? ip.sendUDP(to: server, port: port, from: localPort, gateway: gateway) { room in
            (try? TFTPPacket.writeError(code, message: message, to: room)) ?? 0
        }
    }

    /// Ends the transfer. An unfinished one is aborted with an ERROR so the
    /// server stops sending.
    public func close() {
        close(sendingError: true)
    }

    private func close(sendingError: Bool) {
        if sendingError, let t = transfer, !finished {
            sendError(.notDefined, "transfer aborted", to: t.server, port: serverPort)
        }
        transfer = nil
        pendingValid = false
        finished = false
    }

    // MARK: Whole files

    /// Reads a whole file, handing each block to `sink` with its offset.
    /// Returns the file's size.
    @discardableResult
    public func readFile(server: IPv4Address, file: String, port: UInt16 = 69, gateway: IPv4Address = .any,
                         options: TFTPTransferOptions = TFTPTransferOptions(),
                         _ sink: (Int, UnsafeRawBufferPointer) throws(PXEStatus) -> Void) throws(TFTPClientError) -> Int {
        _ = try open(server: server, file: file, port: port, gateway: gateway, options: options)
        var offset = 0
        // A file of 65535 blocks of the largest size is under 4 GiB; the
        // block counter may wrap (RFC 1350 leaves that to implementations),
        // so this bounds the loop by size instead.
        while offset <= Int(UInt32.max) {
            let (_, count, last) = try read { (bytes) throws(PXEStatus) in try sink(offset, bytes) }
            offset += count
            if last { break }
        }
        close()
        return offset
    }

    /// The file's size by tsize (RFC 2349): the server's OACK answers it
    /// and the transfer is aborted with an ERROR, as PXE ROMs do.
    public func fileSize(server: IPv4Address, file: String, port: UInt16 = 69, gateway: IPv4Address = .any,
                         options: TFTPTransferOptions = TFTPTransferOptions()) throws(TFTPClientError) -> UInt32 {
        var o = options
        o.requestTransferSize = true
        let t = try open(server: server, file: file, port: port, gateway: gateway, options: o)
        close()
        guard let size = t.transferSize else { throw .noFileSize }
        return size
    }
}
