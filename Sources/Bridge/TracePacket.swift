/// One packet read from a trace file. `bytes` belongs to the reader and is
/// valid only until its next `next()` call (as with `pcap_next_ex`).
public struct TracePacket {
    /// Capture time in nanoseconds since the Unix epoch.
    public var timestamp: UInt64
    /// The bytes captured (at most the snapshot length).
    public var bytes: UnsafeRawBufferPointer
    /// The frame's length on the wire (can exceed `bytes.count`).
    public var originalLength: Int
    /// The interface it was captured on (pcapng); 0 for pcap.
    public var interface: Int
    /// Inbound or outbound, when the file says (pcapng `epb_flags`).
    public var direction: TraceDirection?
}

/// Something that yields the packets of a trace file in order.
public protocol TraceFileReader: AnyObject {
    /// The next packet, or nil at the clean end of the file.
    func next() throws(TraceFileError) -> TracePacket?
    /// The link-layer header type (LINKTYPE_*) of `interface`.
    func linkType(of interface: Int) -> UInt32?
}

/// Opens `path` as pcap or pcapng, whichever its first bytes say.
public func openTraceFile(_ path: String) throws(TraceFileError) -> any TraceFileReader {
    let input = try TraceInput(path: path)
    guard let magic = try input.peek(4) else {
        throw .truncated(offset: 0, reason: "the file header (the file is shorter than 4 bytes)")
    }
    if magic.load(as: UInt32.self) == PcapNGBlockType.sectionHeader {
        return try PcapNGReader(input: input)
    }
    return try PcapReader(input: input)
}
