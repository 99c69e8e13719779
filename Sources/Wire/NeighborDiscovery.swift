import NICCore

/// Neighbor Discovery option types (RFC 4861 §4.6).
public struct NDOptionType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let sourceLinkLayerAddress = NDOptionType(rawValue: 1)
    public static let targetLinkLayerAddress = NDOptionType(rawValue: 2)
    public static let prefixInformation = NDOptionType(rawValue: 3)
    public static let redirectedHeader = NDOptionType(rawValue: 4)
    public static let mtu = NDOptionType(rawValue: 5)
}

/// The options that follow a Neighbor Discovery message's fixed part
/// (RFC 4861 §4.6): type, length in units of 8 bytes (never 0), value.
public enum NDOptions {
    /// A link-layer address option for Ethernet: type, length 1, six bytes.
    public static let linkLayerAddressSize = 8

    /// Calls `body` with each option's type and bytes (type and length
    /// included), in order. A zero length is malformed (RFC 4861 §6.1:
    /// such a packet is discarded) and an option running past the end is
    /// truncated; each step advances at least 8 bytes, so the walk ends.
    public static func forEach(in options: UnsafeRawBufferPointer,
                               _ body: (NDOptionType, UnsafeRawBufferPointer) -> Void) throws(WireError) {
        var at = 0
        while at < options.count {
            guard at + 2 <= options.count else { throw .truncated }
            let length = Int(options.byte(at: at + 1)) * 8
            guard length > 0 else { throw .malformed }
            guard at + length <= options.count else { throw .truncated }
            body(NDOptionType(rawValue: options.byte(at: at)), options.clamped(at..<(at + length)))
            at += length
        }
    }

    /// The Source Link-Layer Address option's MAC among `options`, if one is there.
    public static func sourceLinkLayerAddress(in options: UnsafeRawBufferPointer) throws(WireError) -> MACAddress? {
        var mac: MACAddress?
        try forEach(in: options) { type, option in
            if type == .sourceLinkLayerAddress { mac = linkLayerAddress(option) }
        }
        return mac
    }

    /// The Ethernet address in a link-layer address option, or nil when the
    /// option is not the 8-byte Ethernet form.
    public static func linkLayerAddress(_ option: UnsafeRawBufferPointer) -> MACAddress? {
        guard option.count == linkLayerAddressSize, let base = option.baseAddress else { return nil }
        return MACAddress(loadingFrom: base + 2)
    }

    /// Writes a link-layer address option of `type` for `mac` at the start of `out`.
    static func writeLinkLayerAddress(_ type: NDOptionType, _ mac: MACAddress, to out: UnsafeMutableRawBufferPointer) throws(WireError) {
        guard out.count >= linkLayerAddressSize, let base = out.baseAddress else { throw .noRoom }
        out.setByte(type.rawValue, at: 0)
        out.setByte(1, at: 1)
        mac.store(to: base + 2)
    }
}

/// A Router Solicitation (RFC 4861 §4.1): type 133, code 0, checksum, four
/// reserved bytes, then options (a Source Link-Layer Address at most here).
public struct RouterSolicitation: Hashable, Sendable {
    /// Type, code, checksum, reserved.
    public static let fixedSize = 8

    /// The solicitor's link-layer address, when it sent one.
    public var sourceLinkLayerAddress: MACAddress?

    public init(sourceLinkLayerAddress: MACAddress? = nil) {
        self.sourceLinkLayerAddress = sourceLinkLayerAddress
    }

    /// Parses `message` (the whole ICMPv6 message) carried in `ip`, with
    /// the validity checks of RFC 4861 §6.1.1: IP hop limit 255, a correct
    /// ICMP checksum, type 133, code 0, at least 8 bytes, every option
    /// longer than zero, and no Source Link-Layer Address option when the
    /// source is the unspecified address.
    public init(parsing message: UnsafeRawBufferPointer, ip: IPv6Header) throws(WireError) {
        guard ip.hopLimit == 255 else { throw .malformed }
        let header = try ICMPv6Header(parsing: message, source: ip.source, destination: ip.destination)
        guard header.type == .routerSolicitation, header.code == 0 else { throw .malformed }
        guard message.count >= Self.fixedSize else { throw .truncated }
        let slla = try NDOptions.sourceLinkLayerAddress(in: message.clamped(Self.fixedSize..<message.count))
        if ip.source.isUnspecified, slla != nil { throw .malformed }
        sourceLinkLayerAddress = slla
    }

    /// The message's length: fixed part plus option.
    public var size: Int { Self.fixedSize + (sourceLinkLayerAddress == nil ? 0 : NDOptions.linkLayerAddressSize) }

    /// Writes the message with its checksum at the start of `out`; returns its length.
    @discardableResult
    public func write(to out: UnsafeMutableRawBufferPointer, source: IPv6Address, destination: IPv6Address) throws(WireError) -> Int {
        let n = size
        guard out.count >= n else { throw .noRoom }
        out.setByte(ICMPv6Type.routerSolicitation.rawValue, at: 0)
        out.setByte(0, at: 1)
        out.setBE16(0, at: 2)
        out.setBE32(0, at: 4)
        if let mac = sourceLinkLayerAddress {
            try NDOptions.writeLinkLayerAddress(.sourceLinkLayerAddress, mac, to: UnsafeMutableRawBufferPointer(rebasing: out[Self.fixedSize...]))
        }
        ICMPv6Header.fillChecksum(UnsafeMutableRawBufferPointer(rebasing: out[0..<n]), source: source, destination: destination)
        return n
    }
}

/// A Router Advertisement (RFC 4861 §4.2): type 134, code 0, checksum, Cur
/// Hop Limit, the M (managed address configuration) and O (other
/// configuration) flags, Router Lifetime in seconds (0: not a default
/// router), Reachable Time and Retrans Timer in milliseconds (0:
/// unspecified), then options (a Source Link-Layer Address at most here;
/// other options are skipped when parsing).
public struct RouterAdvertisement: Hashable, Sendable {
    /// Type, code, checksum, hop limit, flags, lifetime, reachable, retrans.
    public static let fixedSize = 16

    /// The hop limit hosts should use (0: unspecified).
    public var currentHopLimit: UInt8
    /// M: addresses are available from DHCPv6.
    public var managed: Bool
    /// O: other configuration is available from DHCPv6.
    public var otherConfiguration: Bool
    /// Seconds this router may serve as a default router; 0 says it is not one.
    public var routerLifetime: UInt16
    public var reachableTime: UInt32
    public var retransTimer: UInt32
    public var sourceLinkLayerAddress: MACAddress?

    public init(currentHopLimit: UInt8 = 64, managed: Bool = false, otherConfiguration: Bool = false,
                routerLifetime: UInt16 = 0, reachableTime: UInt32 = 0, retransTimer: UInt32 = 0,
                sourceLinkLayerAddress: MACAddress? = nil) {
        self.currentHopLimit = currentHopLimit
        self.managed = managed
        self.otherConfiguration = otherConfiguration
        self.routerLifetime = routerLifetime
        self.reachableTime = reachableTime
        self.retransTimer = retransTimer
        self.sourceLinkLayerAddress = sourceLinkLayerAddress
    }

    /// Parses `message` (the whole ICMPv6 message) carried in `ip`, with
    /// the validity checks of RFC 4861 §6.1.2: a link-local source, IP hop
    /// limit 255, a correct ICMP checksum, type 134, code 0, at least 16
    /// bytes and every option longer than zero.
    public init(parsing message: UnsafeRawBufferPointer, ip: IPv6Header) throws(WireError) {
        guard ip.hopLimit == 255, ip.source.isLinkLocal else { throw .malformed }
        let header = try ICMPv6Header(parsing: message, source: ip.source, destination: ip.destination)
        guard header.type == .routerAdvertisement, header.code == 0 else { throw .malformed }
        guard message.count >= Self.fixedSize else { throw .truncated }
        currentHopLimit = message.byte(at: 4)
        let flags = message.byte(at: 5)
        managed = flags & 0x80 != 0
        otherConfiguration = flags & 0x40 != 0
        routerLifetime = message.be16(at: 6)
        reachableTime = message.be32(at: 8)
        retransTimer = message.be32(at: 12)
        let slla = try NDOptions.sourceLinkLayerAddress(in: message.clamped(Self.fixedSize..<message.count))
        sourceLinkLayerAddress = slla
    }

    /// The message's length: fixed part plus option.
    public var size: Int { Self.fixedSize + (sourceLinkLayerAddress == nil ? 0 : NDOptions.linkLayerAddressSize) }

    /// Writes the message with its checksum at the start of `out`; returns its length.
    @discardableResult
    public func write(to out: UnsafeMutableRawBufferPointer, source: IPv6Address, destination: IPv6Address) throws(WireError) -> Int {
        let n = size
        guard out.count >= n else { throw .noRoom }
        out.setByte(ICMPv6Type.routerAdvertisement.rawValue, at: 0)
        out.setByte(0, at: 1)
        out.setBE16(0, at: 2)
        out.setByte(currentHopLimit, at: 4)
        out.setByte((managed ? 0x80 : 0) | (otherConfiguration ? 0x40 : 0), at: 5)
        out.setBE16(routerLifetime, at: 6)
        out.setBE32(reachableTime, at: 8)
        out.setBE32(retransTimer, at: 12)
        if let mac = sourceLinkLayerAddress {
            try NDOptions.writeLinkLayerAddress(.sourceLinkLayerAddress, mac, to: UnsafeMutableRawBufferPointer(rebasing: out[Self.fixedSize...]))
        }
        ICMPv6Header.fillChecksum(UnsafeMutableRawBufferPointer(rebasing: out[0..<n]), source: source, destination: destination)
        return n
    }
}
