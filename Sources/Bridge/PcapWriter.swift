/// Writes a classic pcap file: microsecond or nanosecond timestamps, in
/// either byte order (host order by default, as libpcap writes). Buffered;
/// nothing allocates per packet.
public final class PcapWriter {
    public let precision: PcapTimestampPrecision
    public let snapLength: UInt32
    private let output: TraceOutput

    /// - Parameters:
    ///   - linkType: LINKTYPE_* of every packet (1, Ethernet, by default).
    ///   - snapLength: the most bytes kept per packet (at most 262144).
    public init(path: String, linkType: UInt32 = 1, snapLength: UInt32 = 262_144,
                precision: PcapTimestampPrecision = .microsecond, byteOrder: ByteOrder = .host) throws(TraceFileError) {
        self.precision = precision
        self.snapLength = max(1, min(snapLength, UInt32(PcapFormat.maxCapturedLength)))
        output = try TraceOutput(path: path, order: byteOrder)
        let o = byteOrder
        let snap = self.snapLength
        try output.append(PcapFormat.fileHeaderSize) { p in
            o.store(precision == .nanosecond ? PcapFormat.nanosecondMagic : PcapFormat.microsecondMagic, p, 0)
            o.store(PcapFormat.versionMajor, p, 4)
            o.store(PcapFormat.versionMinor, p, 6)
            o.store(UInt32(0), p, 8)   // thiszone: timestamps are UTC
            o.store(UInt32(0), p, 12)  // sigfigs
            o.store(snap, p, 16)
            o.store(linkType, p, 20)
        }
    }

    /// Appends one packet captured at `timestamp` (ns since the Unix epoch).
    /// Bytes beyond the snapshot length are cut; `originalLength` defaults
    /// to the frame's length.
    public func write(_ frame: UnsafeRawBufferPointer, timestamp: UInt64, originalLength: Int? = nil) throws(TraceFileError) {
        let captured = min(frame.count, Int(snapLength))
        let original = UInt32(clamping: max(originalLength ?? frame.count, captured))
        let seconds = UInt32(truncatingIfNeeded: timestamp / 1_000_000_000)
        let nanos = timestamp % 1_000_000_000
        let fraction = UInt32(precision == .nanosecond ? nanos : nanos / 1_000)
        let o = output.order
        try output.append(PcapFormat.recordHeaderSize) { p in
            o.store(seconds, p, 0)
            o.store(fraction, p, 4)
            o.store(UInt32(captured), p, 8)
            o.store(original, p, 12)
        }
        try output.append(bytes: UnsafeRawBufferPointer(rebasing: frame[..<captured]))
    }

    public func flush() throws(TraceFileError) { try output.flush() }

    /// Flushes and closes the file; later writes fail.
    public func close() throws(TraceFileError) { try output.close() }
}
