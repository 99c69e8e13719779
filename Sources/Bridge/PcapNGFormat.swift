/// Block types of pcapng (IETF draft "PCAP Now Generic (pcapng) Capture
/// File Format", section 4 and the block type registry).
enum PcapNGBlockType {
    /// Section Header Block; its value reads the same in either byte order.
    static let sectionHeader: UInt32 = 0x0A0D_0D0A
    static let interfaceDescription: UInt32 = 0x0000_0001
    /// Packet Block (obsolete, still read).
    static let packet: UInt32 = 0x0000_0002
    static let simplePacket: UInt32 = 0x0000_0003
    static let enhancedPacket: UInt32 = 0x0000_0006
}

/// Fixed facts of the pcapng layout.
enum PcapNGFormat {
    /// The SHB's byte-order magic, in the writer's order.
    static let byteOrderMagic: UInt32 = 0x1A2B_3C4D
    static let versionMajor: UInt16 = 1
    static let versionMinor: UInt16 = 0
    /// Block type + block total length + trailing block total length.
    static let blockOverhead = 12
    /// The largest block we hold in memory. libpcap's limit is larger, but
    /// a packet block never needs more than this: 262144 captured bytes
    /// plus options. Larger non-packet blocks are skipped unread.
    static let maxBlockSize = 1 << 20
    /// Most interfaces one section may describe.
    static let maxInterfaces = 4096

    // Option codes.
    static let optEndOfOptions: UInt16 = 0
    static let optComment: UInt16 = 1
    static let shbUserApplication: UInt16 = 4
    static let ifName: UInt16 = 2
    static let ifDescription: UInt16 = 3
    static let ifTimestampResolution: UInt16 = 9
    static let ifTimestampOffset: UInt16 = 14
    /// epb_flags (and the obsolete pack_flags): bits 0-1 are the direction.
    static let epbFlags: UInt16 = 2

    /// Bytes of padding after `n` bytes to reach a 32-bit boundary.
    @inline(__always)
    static func padding(_ n: Int) -> Int { (4 - n & 3) & 3 }
}
