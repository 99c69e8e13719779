/// Reads a classic pcap file record by record, in either byte order, with
/// microsecond or nanosecond timestamps. Streaming: one buffer, reused.
///
/// A record whose captured length is larger than libpcap's 262144-byte
/// limit, a bad magic or version, and a file that ends inside a header or
/// record are errors naming the byte offset.
public final class PcapReader: TraceFileReader {
    public let byteOrder: ByteOrder
    public let precision: PcapTimestampPrecision
    public let versionMajor: UInt16
    public let versionMinor: UInt16
    /// The file's snapshot length (the most bytes kept of any packet).
    public let snapLength: UInt32
    /// LINKTYPE_* (the low 16 bits of the header's link-type field).
    public let linkType: UInt32
    /// When the file says its frames end with an FCS, its length in bytes.
    public let fcsLength: Int?
    private let input: TraceInput

    public convenience init(path: String) throws(TraceFileError) {
        try self.init(input: TraceInput(path: path))
    }

    /// Reads from an open descriptor (a pipe, stdin); the caller closes it.
    public convenience init(fileDescriptor: Int32) throws(TraceFileError) {
        try self.init(input: TraceInput(fileDescriptor: fileDescriptor))
    }

    init(input: TraceInput) throws(TraceFileError) {
        self.input = input
        let h = try input.require(PcapFormat.fileHeaderSize, what: "the pcap file header")
        let p = h
        let raw = p.loadUnaligned(as: UInt32.self)
        let order: ByteOrder
        switch raw {
        case PcapFormat.microsecondMagic, PcapFormat.nanosecondMagic:
            order = .host
        case PcapFormat.microsecondMagic.byteSwapped, PcapFormat.nanosecondMagic.byteSwapped:
            order = ByteOrder.host == .littleEndian ? .bigEndian : .littleEndian
        default:
            let hint = raw == PcapNGBlockType.sectionHeader ? " (this is a pcapng file)" : ""
            throw .malformed(offset: 0, reason: "not a pcap file: magic 0x\(String(UInt32(bigEndian: raw), radix: 16))\(hint)")
        }
        byteOrder = order
        precision = order.u32(p, 0) == PcapFormat.nanosecondMagic ? .nanosecond : .microsecond
        versionMajor = order.u16(p, 4)
        versionMinor = order.u16(p, 6)
        guard versionMajor == PcapFormat.versionMajor else {
            throw .malformed(offset: 4, reason: "unsupported pcap version \(versionMajor).\(versionMinor) (expected 2.x)")
        }
        snapLength = order.u32(p, 16)
        let link = order.u32(p, 20)
        linkType = link & 0xFFFF
        // Bits 26..28 say the frames carry an FCS, bits 28..31 its length in 16-bit words.
        fcsLength = link & 0x0400_0000 != 0 ? Int((link >> 28) & 0xF) * 2 : nil
    }

    public func linkType(of interface: Int) -> UInt32? { interface == 0 ? linkType : nil }

    public func next() throws(TraceFileError) -> TracePacket? {
        let at = input.offset
        guard let h = try input.take(PcapFormat.recordHeaderSize, what: "a record header") else { return nil }
        let p = h
        let seconds = UInt64(byteOrder.u32(p, 0))
        let fraction = UInt64(byteOrder.u32(p, 4))
        let captured = byteOrder.u32(p, 8)
        let original = byteOrder.u32(p, 12)
        guard captured <= PcapFormat.maxCapturedLength else {
            throw .malformed(offset: at + 8, reason: "record captured length \(captured) exceeds the \(PcapFormat.maxCapturedLength)-byte limit")
        }
        let data = try input.require(Int(captured), what: "a record of \(captured) bytes starting at byte \(at)")
        let scale: UInt64 = precision == .nanosecond ? 1 : 1_000
        return TracePacket(
            timestamp: seconds &* 1_000_000_000 &+ fraction &* scale,
            bytes: data,
            originalLength: Int(original),
            interface: 0,
            direction: nil
        )
    }
}
