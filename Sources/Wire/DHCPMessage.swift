import NICCore

/// A BOOTP/DHCP message (RFC 951, RFC 2131): the fixed 236-byte header,
/// the magic cookie and the options in the order they came.
public struct DHCPMessage: Hashable, Sendable {
    /// op: 1 BOOTREQUEST, 2 BOOTREPLY.
    public enum Operation: UInt8, Sendable {
        case request = 1
        case reply = 2
    }

    public static let serverPort: UInt16 = 67
    public static let clientPort: UInt16 = 68
    /// The PXE boot-server discovery port (PXE 2.1).
    public static let pxeServerPort: UInt16 = 4011
    /// 99.130.83.99, after the fixed fields.
    public static let magicCookie: UInt32 = 0x6382_5363
    /// op through file.
    public static let fixedSize = 236
    /// BOOTP's minimum message length (RFC 951); replies are padded to it.
    public static let minimumSize = 300

    public var operation: Operation
    public var hardwareType: UInt8 = 1
    public var hardwareLength: UInt8 = 6
    public var hops: UInt8 = 0
    public var transactionID: UInt32
    public var seconds: UInt16 = 0
    /// Bit 15: the client wants replies broadcast.
    public var flags: UInt16 = 0
    public var clientIP: IPv4Address = .any
    public var yourIP: IPv4Address = .any
    /// siaddr: the next server (TFTP) in the boot process.
    public var serverIP: IPv4Address = .any
    public var relayIP: IPv4Address = .any
    /// chaddr, 16 bytes; the first `hardwareLength` are the address.
    public var clientHardwareAddress: [UInt8] = Array(repeating: 0, count: 16)
    /// sname, 64 bytes, NUL-padded.
    public var serverName: [UInt8] = Array(repeating: 0, count: 64)
    /// file, 128 bytes, NUL-padded.
    public var bootFile: [UInt8] = Array(repeating: 0, count: 128)
    /// False for a plain BOOTP message without the magic cookie.
    public var hasMagicCookie = true
    /// In the order they appeared (pads and end left out).
    public var options: [DHCPOption] = []

    public init(operation: Operation, transactionID: UInt32, clientMAC: MACAddress) {
        self.operation = operation
        self.transactionID = transactionID
        setClientMAC(clientMAC)
    }

    /// Parses a message (the UDP payload). Only the fixed fields, the cookie
    /// and the options field are read: an overload option (52) is kept as
    /// an option, and sname/file stay plain fields, so a hostile overload
    /// can't make the parser walk anywhere else.
    public init(parsing p: UnsafeRawBufferPointer) throws(WireError) {
        guard p.count >= Self.fixedSize else { throw .truncated }
        guard let op = Operation(rawValue: p.byte(at: 0)) else { throw .malformed }
        operation = op
        hardwareType = p.byte(at: 1)
        hardwareLength = p.byte(at: 2)
        hops = p.byte(at: 3)
        transactionID = p.be32(at: 4)
        seconds = p.be16(at: 8)
        flags = p.be16(at: 10)
        clientIP = p.ipv4(12)
        yourIP = p.ipv4(16)
        serverIP = p.ipv4(20)
        relayIP = p.ipv4(24)
        clientHardwareAddress = Array(p.clamped(28..<44))
        serverName = Array(p.clamped(44..<108))
        bootFile = Array(p.clamped(108..<236))
        guard p.count >= Self.fixedSize + 4, p.be32(at: Self.fixedSize) == Self.magicCookie else {
            hasMagicCookie = false
            return
        }
        var i = Self.fixedSize + 4
        // Each step consumes at least one byte, so this ends within p.count steps.
        while i < p.count {
            let code = p.byte(at: i)
            if code == DHCPOptionCode.pad.rawValue { i += 1; continue }
            if code == DHCPOptionCode.end.rawValue { break }
            guard i + 1 < p.count else { throw .truncated }
            let length = Int(p.byte(at: i + 1))
            guard i + 2 + length <= p.count else { throw .truncated }
            options.append(DHCPOption(DHCPOptionCode(code), Array(p.clamped((i + 2)..<(i + 2 + length)))))
            i += 2 + length
        }
    }

    /// The encoded message: fixed fields, cookie, options (each longer than
    /// 255 bytes split into consecutive instances, RFC 3396), end, padded to
    /// 300 bytes.
    public func encoded() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(576)
        out += [operation.rawValue, hardwareType, hardwareLength, hops]
        out += Self.be32(transactionID)
        out += [UInt8(seconds >> 8), UInt8(truncatingIfNeeded: seconds), UInt8(flags >> 8), UInt8(truncatingIfNeeded: flags)]
        for a in [clientIP, yourIP, serverIP, relayIP] { out += a.bytes }
        out += Self.fixed(clientHardwareAddress, 16)
        out += Self.fixed(serverName, 64)
        out += Self.fixed(bootFile, 128)
        if hasMagicCookie {
            out += Self.be32(Self.magicCookie)
            for option in options where option.code != .pad && option.code != .end {
                var rest = option.data[...]
                repeat {
                    let chunk = rest.prefix(255)
                    out.append(option.code.rawValue)
                    out.append(UInt8(chunk.count))
                    out += chunk
                    rest = rest.dropFirst(chunk.count)
                } while !rest.isEmpty
            }
            out.append(DHCPOptionCode.end.rawValue)
        }
        if out.count < Self.minimumSize { out += Array(repeating: 0, count: Self.minimumSize - out.count) }
        return out
    }

    private static func be32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
    }

    private static func fixed(_ bytes: [UInt8], _ size: Int) -> [UInt8] {
        Array(bytes.prefix(size)) + Array(repeating: 0, count: max(0, size - bytes.count))
    }
}

// MARK: Field and option accessors

extension DHCPMessage {
    /// The client's MAC, from chaddr (when htype is Ethernet and hlen 6).
    public var clientMAC: MACAddress? {
        guard hardwareType == 1, hardwareLength == 6, clientHardwareAddress.count >= 6 else { return nil }
        return MACAddress(bytes: clientHardwareAddress.prefix(6))
    }

    public mutating func setClientMAC(_ mac: MACAddress) {
        hardwareType = 1
        hardwareLength = 6
        clientHardwareAddress = mac.bytes + Array(repeating: 0, count: 10)
    }

    public var wantsBroadcast: Bool { flags & 0x8000 != 0 }

    /// The value of option `code`; several instances are concatenated into
    /// one, as RFC 3396 says.
    public func option(_ code: DHCPOptionCode) -> [UInt8]? {
        var found: [UInt8]?
        for o in options where o.code == code { found = (found ?? []) + o.data }
        return found
    }

    /// Replaces every instance of the option with one (appended at the end
    /// when it wasn't there).
    public mutating func setOption(_ option: DHCPOption) {
        guard let i = options.firstIndex(where: { $0.code == option.code }) else {
            options.append(option)
            return
        }
        options[i] = option
        var j = options.count - 1
        while j > i {
            if options[j].code == option.code { options.remove(at: j) }
            j -= 1
        }
    }

    public var messageType: DHCPMessageType? {
        guard let v = option(.messageType), v.count == 1 else { return nil }
        return DHCPMessageType(rawValue: v[0])
    }

    public func addressOption(_ code: DHCPOptionCode) -> IPv4Address? {
        option(code).flatMap { IPv4Address(bytes: $0) }
    }

    public func stringOption(_ code: DHCPOptionCode) -> String? {
        option(code).map { Self.string(from: $0) }
    }

    public func uint32Option(_ code: DHCPOptionCode) -> UInt32? {
        guard let v = option(code), v.count == 4 else { return nil }
        return v.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Option 60 says "PXEClient" (optionally followed by ":Arch:...").
    public var isPXEClient: Bool {
        guard let v = option(.vendorClassIdentifier) else { return false }
        return v.starts(with: Array("PXEClient".utf8))
    }

    /// The first architecture type in option 93 (RFC 4578 2.1).
    public var clientArchitecture: UInt16? {
        guard let v = option(.clientArchitecture), v.count >= 2 else { return nil }
        return UInt16(v[0]) << 8 | UInt16(v[1])
    }

    /// The user-class names in option 77. A value is either RFC 3004 style
    /// (length-prefixed names) or one bare string as iPXE and others send;
    /// both are understood.
    public var userClasses: [String] {
        guard let v = option(.userClass), !v.isEmpty else { return [] }
        var names: [String] = []
        var i = 0
        var wellFormed = true
        while i < v.count {
            let n = Int(v[i])
            guard n > 0, i + 1 + n <= v.count else { wellFormed = false; break }
            names.append(Self.string(from: Array(v[(i + 1)..<(i + 1 + n)])))
            i += 1 + n
        }
        return wellFormed ? names : [Self.string(from: v)]
    }

    /// The text of a NUL-padded field or option, up to the first NUL.
    public static func string(from bytes: [UInt8]) -> String {
        let text = bytes.prefix { $0 != 0 }
        return String(decoding: text, as: UTF8.self)
    }

    public var bootFileName: String { Self.string(from: bootFile) }
    public var serverHostName: String { Self.string(from: serverName) }

    /// Sets `file` from text (truncated to 127 bytes so a NUL ends it).
    public mutating func setBootFile(_ name: String) {
        let b = Array(name.utf8.prefix(127))
        bootFile = b + Array(repeating: 0, count: 128 - b.count)
    }

    public mutating func setServerName(_ name: String) {
        let b = Array(name.utf8.prefix(63))
        serverName = b + Array(repeating: 0, count: 64 - b.count)
    }
}
