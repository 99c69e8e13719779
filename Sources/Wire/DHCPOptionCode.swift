/// DHCP option codes (RFC 2132, RFC 4578 for PXE, RFC 3004 user class;
/// 175 is the tag iPXE uses for its own encapsulated options).
public struct DHCPOptionCode: RawRepresentable, Hashable, Sendable, Comparable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ raw: UInt8) { rawValue = raw }

    public static let pad = DHCPOptionCode(0)
    public static let subnetMask = DHCPOptionCode(1)
    public static let router = DHCPOptionCode(3)
    public static let domainNameServer = DHCPOptionCode(6)
    public static let hostName = DHCPOptionCode(12)
    public static let domainName = DHCPOptionCode(15)
    public static let broadcastAddress = DHCPOptionCode(28)
    /// Vendor-specific information; for a PXEClient, the PXE sub-options.
    public static let vendorSpecific = DHCPOptionCode(43)
    public static let requestedIPAddress = DHCPOptionCode(50)
    public static let leaseTime = DHCPOptionCode(51)
    /// Option overload: sname/file carry options. nicsim never writes it
    /// and reads sname/file as plain fields regardless.
    public static let overload = DHCPOptionCode(52)
    public static let messageType = DHCPOptionCode(53)
    public static let serverIdentifier = DHCPOptionCode(54)
    public static let parameterRequestList = DHCPOptionCode(55)
    public static let message = DHCPOptionCode(56)
    public static let maximumMessageSize = DHCPOptionCode(57)
    public static let renewalTime = DHCPOptionCode(58)
    public static let rebindingTime = DHCPOptionCode(59)
    /// Vendor class identifier: "PXEClient:Arch:xxxxx:UNDI:yyyzzz".
    public static let vendorClassIdentifier = DHCPOptionCode(60)
    public static let clientIdentifier = DHCPOptionCode(61)
    public static let tftpServerName = DHCPOptionCode(66)
    public static let bootfileName = DHCPOptionCode(67)
    public static let userClass = DHCPOptionCode(77)
    /// Client system architecture (RFC 4578): 0 BIOS, 6/7/9 EFI.
    public static let clientArchitecture = DHCPOptionCode(93)
    /// Client network interface identifier (RFC 4578): type, major, minor.
    public static let clientNetworkInterface = DHCPOptionCode(94)
    /// Client machine identifier (RFC 4578): type 0 then a 16-byte UUID.
    public static let clientMachineIdentifier = DHCPOptionCode(97)
    /// iPXE's encapsulated options; its presence marks an iPXE client.
    public static let ipxeEncapsulated = DHCPOptionCode(175)
    public static let end = DHCPOptionCode(255)

    public static func < (a: DHCPOptionCode, b: DHCPOptionCode) -> Bool { a.rawValue < b.rawValue }
}

/// DHCP message types (option 53, RFC 2132 9.6).
public enum DHCPMessageType: UInt8, Sendable, CaseIterable {
    case discover = 1
    case offer = 2
    case request = 3
    case decline = 4
    case ack = 5
    case nak = 6
    case release = 7
    case inform = 8
}

/// One option as it appeared in the message: code and value bytes.
public struct DHCPOption: Hashable, Sendable {
    public var code: DHCPOptionCode
    public var data: [UInt8]

    public init(_ code: DHCPOptionCode, _ data: [UInt8]) {
        self.code = code
        self.data = data
    }

    public init(_ code: DHCPOptionCode, string: String) {
        self.init(code, Array(string.utf8))
    }

    public init(_ code: DHCPOptionCode, address: IPv4Address) {
        self.init(code, address.bytes)
    }

    public init(_ code: DHCPOptionCode, uint32 v: UInt32) {
        self.init(code, [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)])
    }
}
