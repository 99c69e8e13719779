/// Facts of the classic libpcap file format (pcap-savefile(5), and the
/// IETF draft "PCAP Capture File Format").
enum PcapFormat {
    /// Magic of a file with microsecond timestamps, in the writer's order.
    static let microsecondMagic: UInt32 = 0xA1B2_C3D4
    /// Magic of a file with nanosecond timestamps.
    static let nanosecondMagic: UInt32 = 0xA1B2_3C4D
    /// File header: magic, version major/minor, thiszone, sigfigs, snaplen, linktype.
    static let fileHeaderSize = 24
    /// Record header: ts_sec, ts_usec (or ts_nsec), incl_len, orig_len.
    static let recordHeaderSize = 16
    static let versionMajor: UInt16 = 2
    static let versionMinor: UInt16 = 4
    /// libpcap's largest snapshot length (MAXIMUM_SNAPLEN); a record claiming
    /// more captured bytes is corrupt.
    static let maxCapturedLength = 262_144
    /// LINKTYPE_ETHERNET.
    static let linkTypeEthernet: UInt32 = 1
}

/// Timestamp resolution of a pcap file.
public enum PcapTimestampPrecision: Sendable, Equatable {
    case microsecond
    case nanosecond
}
