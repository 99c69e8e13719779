import NICCore

/// One TFTP read transfer (RFC 1350) as it ended: which client asked which
/// server for which file, and what the client got: the whole file (its
/// size and SHA-256) or a failure with the TFTP error that ended it.
///
/// Both sides of nicsim write these: `TFTPTransferLog` from the frames a
/// card exchanged, and the BootServer's `TFTPServer` from its sessions.
public struct TFTPTransferRecord: Sendable, Equatable {
    /// How the transfer ended.
    public enum Outcome: Sendable, Equatable {
        /// The final block (shorter than the block size) arrived: the file
        /// is `size` bytes with this digest (lower-case hex).
        case completed(sha256: String)
        /// The server answered ERROR (RFC 1350 section 5), e.g. 1 "File not found".
        case serverError(code: UInt16, message: String)
        /// The client sent ERROR after it had acknowledged data: it gave up.
        case clientError(code: UInt16, message: String)
        /// The client asked again from the same port before the last block.
        case restarted
        /// Still open when the log ended: no answer, or no final block yet.
        case unfinished
    }

    /// The client's hardware address (the request's Ethernet source).
    public var client: MACAddress
    public var clientIP: IPv4Address
    public var clientPort: UInt16
    public var server: IPv4Address
    /// The file name as requested, control characters escaped
    /// (`TFTPTransferRecord.sanitized`).
    public var file: String
    /// "octet" or "netascii"; with netascii, size and hash are of the bytes
    /// as sent (CR LF line ends).
    public var mode: String
    /// Bytes received in order: the whole file when completed.
    public var size: Int
    public var outcome: Outcome
    /// The bytes received carry the Linux boot protocol's header ("HdrS"
    /// at offset 202h): the file is a kernel a loader boots by that protocol.
    public var linuxKernel: Bool

    public init(client: MACAddress, clientIP: IPv4Address, clientPort: UInt16, server: IPv4Address, file: String,
                mode: String = "octet", size: Int, outcome: Outcome, linuxKernel: Bool = false) {
        self.client = client
        self.clientIP = clientIP
        self.clientPort = clientPort
        self.server = server
        self.file = file
        self.mode = mode
        self.size = size
        self.outcome = outcome
        self.linuxKernel = linuxKernel
    }

    public var isCompleted: Bool {
        if case .completed = outcome { return true }
        return false
    }

    /// The digest of a completed transfer.
    public var sha256: String? {
        if case .completed(let digest) = outcome { return digest }
        return nil
    }

    /// The TFTP error code that ended a failed transfer, if one did.
    public var errorCode: UInt16? {
        switch outcome {
        case .serverError(let code, _), .clientError(let code, _): code
        default: nil
        }
    }

    /// Why a transfer failed, in one line; nil when it completed. An ERROR
    /// reads "TFTP error 1 (File not found)", with the sender's own message
    /// after a colon when it says more than the code's RFC 1350 name.
    public var failure: String? {
        switch outcome {
        case .completed: nil
        case let .serverError(code, message): Self.describe(code, message)
        case let .clientError(code, message): "aborted by the client after \(size) bytes: \(Self.describe(code, message))"
        case .restarted: "requested again after \(size) bytes"
        case .unfinished: size == 0 ? "no data before the run ended" : "no final block after \(size) bytes before the run ended"
        }
    }

    /// RFC 1350 section 5 and RFC 2347: what each error code means.
    private static func name(_ code: UInt16) -> String? {
        switch TFTPErrorCode(rawValue: code) {
        case .fileNotFound: "File not found"
        case .accessViolation: "Access violation"
        case .diskFull: "Disk full or allocation exceeded"
        case .illegalOperation: "Illegal TFTP operation"
        case .unknownTransferID: "Unknown transfer ID"
        case .fileExists: "File already exists"
        case .noSuchUser: "No such user"
        case .optionNegotiation: "Option negotiation refused"
        case .notDefined, nil: nil
        }
    }

    private static func describe(_ code: UInt16, _ message: String) -> String {
        guard let name = name(code) else { return "TFTP error \(code): \(message)" }
        let said = message.hasSuffix(".") ? String(message.dropLast()) : message
        if said.isEmpty || said.lowercased() == name.lowercased() { return "TFTP error \(code) (\(name))" }
        return "TFTP error \(code) (\(name)): \(message)"
    }

    /// Text from the wire made safe to print: control and format characters
    /// (C0, DEL, C1, bidirectional overrides, line separators) become
    /// `\xNN` or `\u{NNNN}`, and it is cut at `limit` characters.
    public static func sanitized(_ text: String, limit: Int = 256) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            guard count < limit else {
                out += "..."
                break
            }
            count += 1
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned, .privateUse:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += scalar.value <= 0xFF ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex : "\\u{\(hex)}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// The records of finished transfers in the order they ended, at most
/// `capacity` of them; beyond that they are only counted. Transfers the
/// client abandoned before it acknowledged any data (a tsize probe: RRQ,
/// OACK, then ERROR or silence) carry nothing the client kept, so they are
/// counted as `probes` instead of listed.
public struct TFTPTransferRecords: Sendable, Equatable {
    public static let defaultCapacity = 4096

    public let capacity: Int
    public private(set) var entries: [TFTPTransferRecord] = []
    /// Records that did not fit.
    public private(set) var overflow = 0
    /// Abandoned probes, not listed.
    public private(set) var probes = 0

    public init(capacity: Int = defaultCapacity) {
        self.capacity = max(0, capacity)
    }

    public mutating func append(_ record: TFTPTransferRecord) {
        if entries.count < capacity {
            entries.append(record)
        } else {
            overflow += 1
        }
    }

    /// Counts a transfer left out as a probe.
    public mutating func countProbe() {
        probes += 1
    }

    /// The files that arrived whole, in order.
    public var completed: [TFTPTransferRecord] { entries.filter(\.isCompleted) }
    /// The transfers that failed, in order.
    public var failed: [TFTPTransferRecord] { entries.filter { !$0.isCompleted } }
}
