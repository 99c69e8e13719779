import NICCore

/// The EtherType field (IEEE 802.3 type/length at offset 12).
public struct EtherType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let ipv4 = EtherType(rawValue: 0x0800)
    public static let arp = EtherType(rawValue: 0x0806)
    public static let vlan = EtherType(rawValue: 0x8100)
    public static let ipv6 = EtherType(rawValue: 0x86DD)
}

/// The 14-byte Ethernet II header: destination, source, EtherType.
public struct EthernetHeader: Hashable, Sendable {
    public static let size = 14

    public var destination: MACAddress
    public var source: MACAddress
    public var etherType: EtherType

    public init(destination: MACAddress, source: MACAddress, etherType: EtherType) {
        self.destination = destination
        self.source = source
        self.etherType = etherType
    }

    /// Reads the header at the start of `frame`.
    public init(parsing frame: UnsafeRawBufferPointer) throws(WireError) {
        guard frame.count >= Self.size, let base = frame.baseAddress else { throw .truncated }
        destination = MACAddress(loadingFrom: base)
        source = MACAddress(loadingFrom: base + 6)
        etherType = EtherType(rawValue: frame.be16(at: 12))
    }

    /// Writes the header at the start of `out`.
    public func write(to out: UnsafeMutableRawBufferPointer) throws(WireError) {
        guard out.count >= Self.size, let base = out.baseAddress else { throw .noRoom }
        destination.store(to: base)
        source.store(to: base + 6)
        out.setBE16(etherType.rawValue, at: 12)
    }
}
