/// One HTTP/1.x request head (RFC 9112 §3, §5) as the built-in file server
/// understands it: GET or HEAD of a path, the version, whether the
/// connection stays open, and at most one byte range (RFC 9110 §14.2).
/// Parsing is a pure function of the bytes so it can be fuzzed; every
/// number is checked before use and nothing a peer sends can trap.
public struct HTTPRequest: Equatable, Sendable {
    public enum Method: String, Sendable {
        case get = "GET"
        case head = "HEAD"
    }

    /// A byte range as asked (RFC 9110 §14.1.2), not yet checked against a file.
    public enum ByteRange: Equatable, Sendable {
        /// `first-` or `first-last`.
        case from(Int, through: Int?)
        /// `-count`: the last `count` bytes.
        case suffix(Int)

        /// The offsets the range selects in a file of `size` bytes; nil
        /// when none (RFC 9110 §14.1.1: unsatisfiable, answered 416).
        public func resolved(size: Int) -> Range<Int>? {
            switch self {
            case let .from(first, last):
                guard first < size else { return nil }
                let end = min(last ?? (size - 1), size - 1)
                guard end >= first else { return nil }
                return first..<(end + 1)
            case let .suffix(count):
                guard count > 0, size > 0 else { return nil }
                return max(0, size - count)..<size
            }
        }
    }

    /// Why a request head was refused, with the status it is answered with.
    public enum Refusal: Error, Equatable, Sendable {
        case badRequest
        case methodNotAllowed
        case versionNotSupported
        /// A request with a body (Content-Length > 0 or Transfer-Encoding):
        /// a file server for GET and HEAD reads none.
        case bodyNotAccepted

        public var status: Int {
            switch self {
            case .badRequest, .bodyNotAccepted: 400
            case .methodNotAllowed: 405
            case .versionNotSupported: 505
            }
        }
    }

    public var method: Method
    /// The path, percent-decoded, without query or fragment, starting with "/".
    public var path: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    /// Whether the connection stays open after the response (RFC 9112 §9.3).
    public var keepAlive: Bool
    /// A single range; nil for none or one the server ignores (several
    /// ranges, another unit: RFC 9110 §14.2 lets it send the whole file).
    public var range: ByteRange?

    /// The longest request head accepted; a longer one is answered 431.
    public static let maximumHeadSize = 8192

    /// The length of the head at the start of `bytes` (through the empty
    /// line ending it), or nil while it is incomplete. A bare LF ends a
    /// line too (RFC 9112 §2.2).
    public static func headLength(in bytes: UnsafeRawBufferPointer) -> Int? {
        var i = 0
        var lineStart = 0
        while i < bytes.count {
            if bytes[i] == 0x0A {
                let line = i - lineStart
                if line == 0 || (line == 1 && bytes[lineStart] == 0x0D) { return i + 1 }
                lineStart = i + 1
            }
            i += 1
        }
        return nil
    }

    /// Parses a complete head (as `headLength` delimited it).
    public init(parsing head: UnsafeRawBufferPointer) throws(Refusal) {
        // Lines are split on the bytes (a Character would join CR LF into
        // one); header values are ASCII by RFC 9110 §5.5, any other byte
        // is decoded as a replacement and then fails the checks below.
        var lines: [Substring] = []
        for line in head.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let bytes = line.last == 0x0D ? line.dropLast() : line
            lines.append(Substring(String(decoding: bytes, as: UTF8.self)))
        }
        // RFC 9112 §2.2: empty lines before the request line are ignored.
        while let first = lines.first, first.isEmpty { lines.removeFirst() }
        guard let requestLine = lines.first else { throw .badRequest }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .badRequest }
        switch parts[2] {
        case "HTTP/1.1": minorVersion = 1
        case "HTTP/1.0": minorVersion = 0
        default:
            guard parts[2].hasPrefix("HTTP/") else { throw .badRequest }
            throw .versionNotSupported
        }
        guard let method = Method(rawValue: String(parts[0])) else {
            guard !parts[0].isEmpty, parts[0].allSatisfy({ $0.isLetter && $0.isASCII }) else { throw .badRequest }
            throw .methodNotAllowed
        }
        self.method = method
        path = try Self.path(of: parts[1])

        var connection: [Substring] = []
        var rangeValue: Substring?
        var host = false
        for line in lines.dropFirst() where !line.isEmpty {
            // RFC 9112 §5.1: no whitespace between name and colon; obsolete
            // line folding (a line starting with whitespace) is refused.
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                  !line[line.startIndex].isWhitespace, !line[line.index(before: colon)].isWhitespace else { throw .badRequest }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingWhitespace()
            switch name {
            case "host": host = true
            case "connection": connection += value.split(separator: ",").map { $0.trimmingWhitespace() }
            case "range": rangeValue = value
            case "content-length":
                guard let n = Int(value), n >= 0 else { throw .badRequest }
                if n > 0 { throw .bodyNotAccepted }
            case "transfer-encoding": throw .bodyNotAccepted
            default: break
            }
        }
        // RFC 9112 §3.2: an HTTP/1.1 request without Host is a bad request.
        if minorVersion == 1 && !host { throw .badRequest }
        let tokens = connection.map { $0.lowercased() }
        keepAlive = minorVersion == 1 ? !tokens.contains("close") : tokens.contains("keep-alive")
        range = rangeValue.flatMap(Self.byteRange)
    }

    /// The path of an origin-form (`/a/b?q`) or absolute-form
    /// (`http://host/a/b`) target, percent-decoded.
    static func path(of target: Substring) throws(Refusal) -> String {
        var rest = target
        if rest.lowercased().hasPrefix("http://") {
            rest = rest.dropFirst(7)
            guard let slash = rest.firstIndex(of: "/") else { return "/" }
            rest = rest[slash...]
        }
        guard rest.first == "/" else { throw .badRequest }
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        var bytes: [UInt8] = []
        var utf8 = rest.utf8.makeIterator()
        while let b = utf8.next() {
            if b == UInt8(ascii: "%") {
                guard let h = utf8.next().flatMap(Self.hexValue), let l = utf8.next().flatMap(Self.hexValue) else { throw .badRequest }
                bytes.append(h << 4 | l)
            } else {
                bytes.append(b)
            }
        }
        // A NUL can't name a file; control characters make no sense in one.
        guard !bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { throw .badRequest }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `bytes=a-b`, `bytes=a-` or `bytes=-n`; nil for anything else,
    /// including several ranges. Numbers are at most 18 digits, so they fit.
    static func byteRange(_ value: Substring) -> ByteRange? {
        let lower = value.lowercased()
        guard lower.hasPrefix("bytes=") else { return nil }
        let spec = lower.dropFirst(6).trimmingWhitespace()
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash].trimmingWhitespace(), last = spec[spec.index(after: dash)...].trimmingWhitespace()
        func number(_ s: Substring) -> Int? {
            guard !s.isEmpty, s.count <= 18, s.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(s)
        }
        if first.isEmpty {
            guard let n = number(last) else { return nil }
            return .suffix(n)
        }
        guard let a = number(first) else { return nil }
        if last.isEmpty { return .from(a, through: nil) }
        guard let b = number(last), b >= a else { return nil }
        return .from(a, through: b)
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (RFC 9110 §5.6.3 OWS).
    func trimmingWhitespace() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}
