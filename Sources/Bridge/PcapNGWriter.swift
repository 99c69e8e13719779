/// Writes a pcapng file: one Section Header Block naming the application,
/// an Interface Description Block per interface (nanosecond timestamps,
/// `if_tsresol` 9), and an Enhanced Packet Block per packet with the
/// direction in `epb_flags`, so Wireshark shows in and out. This is the
/// format nicsim writes by default. Buffered; nothing allocates per packet.
public final class PcapNGWriter {
    /// An interface to describe in an IDB.
    public struct Interface: Sendable, Equatable {
        public var name: String
        /// LINKTYPE_* (1, Ethernet, by default).
        public var linkType: UInt16
        /// The most bytes kept per packet (0: no limit; we cut at 262144).
        public var snapLength: UInt32

        public init(name: String, linkType: UInt16 = 1, snapLength: UInt32 = 0) {
            self.name = name
            self.linkType = linkType
            self.snapLength = snapLength
        }
    }

    public private(set) var interfaces: [Interface] = []
    private let output: TraceOutput
    private static let maxCaptured = 262_144

    /// Creates `path` and writes the section header and the IDBs for `interfaces`.
    public init(path: String, application: String = "nicsim", interfaces: [Interface] = [Interface(name: "nicsim0")],
                byteOrder: ByteOrder = .host) throws(TraceFileError) {
        output = try TraceOutput(path: path, order: byteOrder)
        try writeSectionHeader(application: application)
        for i in interfaces { _ = try addInterface(i) }
    }

    /// Describes another interface (allowed at any point before its first
    /// packet). Returns its interface ID.
    @discardableResult
    public func addInterface(_ interface: Interface) throws(TraceFileError) -> Int {
        let name = Array(interface.name.utf8.prefix(256))
        // linktype, reserved, snaplen; if_name; if_tsresol; opt_endofopt.
        let optionsLength = (4 + name.count + PcapNGFormat.padding(name.count)) + (4 + 4) + 4
        let total = PcapNGFormat.blockOverhead + 8 + optionsLength
        let o = output.order
        try output.append(16) { p in
            o.store(PcapNGBlockType.interfaceDescription, p, 0)
            o.store(UInt32(total), p, 4)
            o.store(interface.linkType, p, 8)
            o.store(UInt16(0), p, 10)
            o.store(interface.snapLength, p, 12)
        }
        try writeOption(PcapNGFormat.ifName, name)
        try output.append(8) { p in
            o.store(PcapNGFormat.ifTimestampResolution, p, 0)
            o.store(UInt16(1), p, 2)
            p.storeBytes(of: UInt32(0), toByteOffset: 4, as: UInt32.self)
            p.storeBytes(of: UInt8(9), toByteOffset: 4, as: UInt8.self)  // 10^-9 s
        }
        try output.append(8) { p in
            o.store(UInt32(0), p, 0)  // opt_endofopt
            o.store(UInt32(total), p, 4)
        }
        interfaces.append(interface)
        return interfaces.count - 1
    }

    /// Appends an Enhanced Packet Block: `frame` seen on `interface` at
    /// `timestamp` (ns since the Unix epoch), with its direction if known,
    /// and `epb_flags` bit 24 (link-layer CRC error) when `crcError` is set.
    public func write(_ frame: UnsafeRawBufferPointer, interface: Int = 0, timestamp: UInt64,
                      direction: TraceDirection? = nil, crcError: Bool = false,
                      originalLength: Int? = nil) throws(TraceFileError) {
        guard interface >= 0, interface < interfaces.count else {
            throw .io(reason: "pcapng write names interface \(interface), but only \(interfaces.count) are described")
        }
        let snap = interfaces[interface].snapLength
        let captured = min(frame.count, snap > 0 ? Int(snap) : Self.maxCaptured)
        let original = UInt32(clamping: max(originalLength ?? frame.count, captured))
        let pad = PcapNGFormat.padding(captured)
        var flags: UInt32 = direction == .inbound ? 1 : direction == .outbound ? 2 : 0
        if crcError { flags |= 1 << 24 }
        let optionsLength = flags == 0 ? 0 : 8 + 4
        let total = PcapNGFormat.blockOverhead + 20 + captured + pad + optionsLength
        let o = output.order
        try output.append(28) { p in
            o.store(PcapNGBlockType.enhancedPacket, p, 0)
            o.store(UInt32(total), p, 4)
            o.store(UInt32(interface), p, 8)
            o.store(UInt32(truncatingIfNeeded: timestamp >> 32), p, 12)
            o.store(UInt32(truncatingIfNeeded: timestamp), p, 16)
            o.store(UInt32(captured), p, 20)
            o.store(original, p, 24)
        }
        try output.append(bytes: UnsafeRawBufferPointer(rebasing: frame[..<captured]))
        try output.appendZeros(pad)
        if flags != 0 {
            try output.append(12) { p in
                o.store(PcapNGFormat.epbFlags, p, 0)
                o.store(UInt16(4), p, 2)
                o.store(flags, p, 4)
                o.store(UInt32(0), p, 8)  // opt_endofopt
            }
        }
        try output.append(4) { p in o.store(UInt32(total), p, 0) }
    }

    /// Appends a Simple Packet Block (interface 0, no timestamp).
    public func writeSimple(_ frame: UnsafeRawBufferPointer) throws(TraceFileError) {
        guard let first = interfaces.first else {
            throw .io(reason: "pcapng simple packet block needs an interface")
        }
        let captured = min(frame.count, first.snapLength > 0 ? Int(first.snapLength) : Self.maxCaptured)
        let pad = PcapNGFormat.padding(captured)
        let total = PcapNGFormat.blockOverhead + 4 + captured + pad
        let o = output.order
        try output.append(12) { p in
            o.store(PcapNGBlockType.simplePacket, p, 0)
            o.store(UInt32(total), p, 4)
            o.store(UInt32(clamping: frame.count), p, 8)
        }
        try output.append(bytes: UnsafeRawBufferPointer(rebasing: frame[..<captured]))
        try output.appendZeros(pad)
        try output.append(4) { p in o.store(UInt32(total), p, 0) }
    }

    public func flush() throws(TraceFileError) { try output.flush() }

    /// Flushes and closes the file; later writes fail.
    public func close() throws(TraceFileError) { try output.close() }

    // MARK: Blocks and options

    private func writeSectionHeader(application: String) throws(TraceFileError) {
        let app = Array(application.utf8.prefix(256))
        let optionsLength = 4 + app.count + PcapNGFormat.padding(app.count) + 4
        let total = PcapNGFormat.blockOverhead + 16 + optionsLength
        let o = output.order
        try output.append(24) { p in
            o.store(PcapNGBlockType.sectionHeader, p, 0)
            o.store(UInt32(total), p, 4)
            o.store(PcapNGFormat.byteOrderMagic, p, 8)
            o.store(PcapNGFormat.versionMajor, p, 12)
            o.store(PcapNGFormat.versionMinor, p, 14)
            o.store(UInt64.max, p, 16)  // section length: not given
        }
        try writeOption(PcapNGFormat.shbUserApplication, app)
        try output.append(8) { p in
            o.store(UInt32(0), p, 0)
            o.store(UInt32(total), p, 4)
        }
    }

    private func writeOption(_ code: UInt16, _ value: [UInt8]) throws(TraceFileError) {
        let o = output.order
        try output.append(4) { p in
            o.store(code, p, 0)
            o.store(UInt16(value.count), p, 2)
        }
        try output.append(value.count) { p in
            for (i, b) in value.enumerated() { p.storeBytes(of: b, toByteOffset: i, as: UInt8.self) }
        }
        try output.appendZeros(PcapNGFormat.padding(value.count))
    }
}
