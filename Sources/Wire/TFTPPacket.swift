import NICCore
/// TFTP opcodes (RFC 1350; OACK from RFC 2347).
public enum TFTPOpcode: UInt16, Sendable {
    case readRequest = 1
    case writeRequest = 2
    case data = 3
    case acknowledgement = 4
    case error = 5
    case optionAcknowledgement = 6
}

/// TFTP error codes (RFC 1350; 8 from RFC 2347).
public enum TFTPErrorCode: UInt16, Sendable {
    case notDefined = 0
    case fileNotFound = 1
    case accessViolation = 2
    case diskFull = 3
    case illegalOperation = 4
    case unknownTransferID = 5
    case fileExists = 6
    case noSuchUser = 7
    /// The client refused the options the server acknowledged.
    case optionNegotiation = 8
}

/// One option of a request or OACK (RFC 2347): name and value, both text.
/// Names compare case-insensitively; `name` is kept as it was sent.
public struct TFTPOption: Hashable, Sendable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) { self.name = name; self.value = value }

    public static let blockSize = "blksize"     // RFC 2348
    public static let timeout = "timeout"       // RFC 2349
    public static let transferSize = "tsize"    // RFC 2349
    public static let windowSize = "windowsize" // RFC 7440
}

/// A read or write request: file name, transfer mode, options in order.
public struct TFTPRequest: Hashable, Sendable {
    public var filename: String
    /// "octet" or "netascii" (lower-cased); "mail" is obsolete and refused.
    public var mode: String
    public var options: [TFTPOption]

    public init(filename: String, mode: String = "octet", options: [TFTPOption] = []) {
        self.filename = filename
        self.mode = mode
        self.options = options
    }

    /// The value of option `name` (case-insensitive), if requested.
    public func option(_ name: String) -> String? {
        options.first { $0.name.lowercased() == name }?.value
    }
}

/// A TFTP packet, parsed. DATA and ACK are parsed without allocating: a
/// DATA packet's payload is an offset range into the bytes given.
public enum TFTPPacket: Hashable, Sendable {
    case readRequest(TFTPRequest)
    case writeRequest(TFTPRequest)
    case data(block: UInt16, payload: Range<Int>)
    case acknowledgement(block: UInt16)
    case error(code: UInt16, message: String)
    case optionAcknowledgement([TFTPOption])

    /// At most this many options are read from a request or OACK.
    public static let maximumOptions = 16

    public init(parsing p: UnsafeRawBufferPointer) throws(WireError) {
        guard p.count >= 2 else { throw .truncated }
        guard let opcode = TFTPOpcode(rawValue: p.be16(at: 0)) else { throw .malformed }
        switch opcode {
        case .data:
            guard p.count >= 4 else { throw .truncated }
            self = .data(block: p.be16(at: 2), payload: 4..<p.count)
        case .acknowledgement:
            guard p.count >= 4 else { throw .truncated }
            self = .acknowledgement(block: p.be16(at: 2))
        case .error:
            guard p.count >= 4 else { throw .truncated }
            var i = 4
            let message = Self.string(p, &i) ?? String(decoding: p.clamped(4..<p.count), as: UTF8.self)
            self = .error(code: p.be16(at: 2), message: message)
        case .readRequest, .writeRequest:
            var i = 2
            guard let filename = Self.string(p, &i), let rawMode = Self.string(p, &i) else { throw .truncated }
            let mode = rawMode.lowercased()
            guard !filename.isEmpty, mode == "octet" || mode == "netascii" else { throw .malformed }
            let request = TFTPRequest(filename: filename, mode: mode, options: try Self.options(p, from: i))
            self = opcode == .readRequest ? .readRequest(request) : .writeRequest(request)
        case .optionAcknowledgement:
            self = .optionAcknowledgement(try Self.options(p, from: 2))
        }
    }

    /// NUL-terminated text starting at `i`; advances past the NUL. Nil when
    /// no NUL ends it inside the buffer.
    private static func string(_ p: UnsafeRawBufferPointer, _ i: inout Int) -> String? {
        var j = i
        while j < p.count, p[j] != 0 { j += 1 }
        guard j < p.count else { return nil }
        let s = String(decoding: p.clamped(i..<j), as: UTF8.self)
        i = j + 1
        return s
    }

    private static func options(_ p: UnsafeRawBufferPointer, from start: Int) throws(WireError) -> [TFTPOption] {
        var i = start
        var result: [TFTPOption] = []
        while i < p.count, result.count < maximumOptions {
            // Some clients pad requests with NULs after the last field.
            if p[i] == 0 { i += 1; continue }
            guard let name = string(p, &i), let value = string(p, &i) else { throw .truncated }
            result.append(TFTPOption(name, value))
        }
        return result
    }

    // MARK: Writing

    /// Writes a DATA header (opcode, block); the payload goes at offset 4.
    /// Returns 4.
    @discardableResult
    public static func writeDataHeader(block: UInt16, to out: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        guard out.count >= 4 else { throw .noRoom }
        out.setBE16(TFTPOpcode.data.rawValue, at: 0)
        out.setBE16(block, at: 2)
        return 4
    }

    /// Writes an ACK. Returns 4.
    @discardableResult
    public static func writeAcknowledgement(block: UInt16, to out: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        guard out.count >= 4 else { throw .noRoom }
        out.setBE16(TFTPOpcode.acknowledgement.rawValue, at: 0)
        out.setBE16(block, at: 2)
        return 4
    }

    /// Writes an ERROR with its message (NUL-terminated). Returns the length.
    @discardableResult
    public static func writeError(_ code: TFTPErrorCode, message: String, to out: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        guard out.count >= 5 else { throw .noRoom }
        out.setBE16(TFTPOpcode.error.rawValue, at: 0)
        out.setBE16(code.rawValue, at: 2)
        var i = 4
        for b in message.utf8 where i < out.count - 1 {
            out[i] = b
            i += 1
        }
        out[i] = 0
        return i + 1
    }

    /// Writes an OACK with `options`. Returns the length.
    @discardableResult
    public static func writeOptionAcknowledgement(_ options: [TFTPOption], to out: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        var i = 2
        guard out.count >= 2 else { throw .noRoom }
        out.setBE16(TFTPOpcode.optionAcknowledgement.rawValue, at: 0)
        for o in options {
            try put(o.name, at: &i, in: out)
            try put(o.value, at: &i, in: out)
        }
        return i
    }

    /// Writes a read or write request. Returns the length.
    @discardableResult
    public static func writeRequest(_ opcode: TFTPOpcode, _ request: TFTPRequest, to out: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        guard opcode == .readRequest || opcode == .writeRequest else { throw .malformed }
        guard out.count >= 2 else { throw .noRoom }
        out.setBE16(opcode.rawValue, at: 0)
        var i = 2
        try put(request.filename, at: &i, in: out)
        try put(request.mode, at: &i, in: out)
        for o in request.options {
            try put(o.name, at: &i, in: out)
            try put(o.value, at: &i, in: out)
        }
        return i
    }

    private static func put(_ s: String, at i: inout Int, in out: UnsafeMutableRawBufferPointer) throws(WireError) {
        let n = s.utf8.count
        guard i + n + 1 <= out.count else { throw .noRoom }
        for b in s.utf8 {
            out[i] = b
            i += 1
        }
        out[i] = 0
        i += 1
    }
}
