import NICCore

/// The TCP header (RFC 9293 §3.1) without options beyond MSS, with the
/// checksum over the IPv4 pseudo-header (source, destination, zero,
/// protocol 6, segment length). Parsing verifies the checksum and the data
/// offset against the bytes present; of the options only MSS (kind 2) is
/// read, and a malformed option list ends the reading without failing.
public struct TCPHeader: Hashable, Sendable {
    /// A header without options.
    public static let minimumSize = 20

    /// The control bits (RFC 9293 §3.1), as a set.
    public struct Flags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let fin = Flags(rawValue: 0x01)
        public static let syn = Flags(rawValue: 0x02)
        public static let rst = Flags(rawValue: 0x04)
        public static let psh = Flags(rawValue: 0x08)
        public static let ack = Flags(rawValue: 0x10)
    }

    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequenceNumber: UInt32
    public var acknowledgmentNumber: UInt32
    /// Data offset times four: where the payload starts in the segment.
    public var headerLength = minimumSize
    public var flags: Flags
    public var window: UInt16
    /// The peer's maximum segment size option, when present (SYN only).
    public var maximumSegmentSize: UInt16?

    public init(sourcePort: UInt16, destinationPort: UInt16, sequenceNumber: UInt32, acknowledgmentNumber: UInt32,
                flags: Flags, window: UInt16, maximumSegmentSize: UInt16? = nil) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequenceNumber = sequenceNumber
        self.acknowledgmentNumber = acknowledgmentNumber
        self.flags = flags
        self.window = window
        self.maximumSegmentSize = maximumSegmentSize
        headerLength = maximumSegmentSize == nil ? Self.minimumSize : Self.minimumSize + 4
    }

    /// Reads the header at the start of `segment` (the whole IPv4 payload)
    /// and verifies the checksum under `source`/`destination`.
    public init(parsing segment: UnsafeRawBufferPointer, source: IPv4Address, destination: IPv4Address) throws(WireError) {
        guard segment.count >= Self.minimumSize else { throw .truncated }
        let offset = Int(segment.byte(at: 12) >> 4) * 4
        guard offset >= Self.minimumSize else { throw .malformed }
        guard offset <= segment.count, segment.count <= 0xFFFF else { throw .truncated }
        guard Self.checksum(segment, source: source, destination: destination) == 0 else { throw .badChecksum }
        sourcePort = segment.be16(at: 0)
        destinationPort = segment.be16(at: 2)
        sequenceNumber = segment.be32(at: 4)
        acknowledgmentNumber = segment.be32(at: 8)
        headerLength = offset
        flags = Flags(rawValue: segment.byte(at: 13) & 0x1F)
        window = segment.be16(at: 14)
        maximumSegmentSize = nil
        // Options: kind 0 ends the list, kind 1 is one byte of padding,
        // every other kind carries a length of at least 2 that must fit.
        var i = Self.minimumSize
        while i < offset {
            let kind = segment.byte(at: i)
            if kind == 0 { break }
            if kind == 1 { i += 1; continue }
            guard i + 1 < offset else { break }
            let length = Int(segment.byte(at: i + 1))
            guard length >= 2, i + length <= offset else { break }
            if kind == 2, length == 4 { maximumSegmentSize = segment.be16(at: i + 2) }
            i += length
        }
    }

    /// RFC 9293 §3.10.7.1: the RST that answers this segment when it
    /// belongs to no connection (an ACK-bearing segment gets SEQ = its ACK,
    /// any other RST+ACK acknowledging all it occupied); nil for an RST,
    /// which is never answered.
    public func reset(payloadCount: Int) -> TCPHeader? {
        guard !flags.contains(.rst) else { return nil }
        if flags.contains(.ack) {
            return TCPHeader(sourcePort: destinationPort, destinationPort: sourcePort, sequenceNumber: acknowledgmentNumber,
                             acknowledgmentNumber: 0, flags: .rst, window: 0)
        }
        let length = payloadCount + (flags.contains(.syn) ? 1 : 0) + (flags.contains(.fin) ? 1 : 0)
        return TCPHeader(sourcePort: destinationPort, destinationPort: sourcePort, sequenceNumber: 0,
                         acknowledgmentNumber: sequenceNumber &+ UInt32(truncatingIfNeeded: length), flags: [.rst, .ack], window: 0)
    }

    /// The payload's offsets within the segment that was parsed.
    public func payloadRange(in segmentLength: Int) -> Range<Int> { headerLength..<max(headerLength, segmentLength) }

    /// The ones'-complement checksum of `segment` under the pseudo-header;
    /// 0 over a segment whose checksum field is right.
    public static func checksum(_ segment: UnsafeRawBufferPointer, source: IPv4Address, destination: IPv4Address) -> UInt16 {
        var c = InternetChecksum()
        c.add(word: UInt16(truncatingIfNeeded: source.rawValue >> 16))
        c.add(word: UInt16(truncatingIfNeeded: source.rawValue))
        c.add(word: UInt16(truncatingIfNeeded: destination.rawValue >> 16))
        c.add(word: UInt16(truncatingIfNeeded: destination.rawValue))
        c.add(word: UInt16(IPProtocol.tcp.rawValue))
        c.add(word: UInt16(truncatingIfNeeded: segment.count))
        c.add(segment)
        return c.value
    }

    /// Writes the header (and the MSS option when set) over the first
    /// `headerLength` bytes of `segment`, whose payload already follows,
    /// and fills in the checksum over the whole of `segment`.
    public func write(to segment: UnsafeMutableRawBufferPointer, source: IPv4Address, destination: IPv4Address) throws(WireError) {
        let length = maximumSegmentSize == nil ? Self.minimumSize : Self.minimumSize + 4
        guard segment.count >= length, segment.count <= 0xFFFF else { throw .noRoom }
        segment.setBE16(sourcePort, at: 0)
        segment.setBE16(destinationPort, at: 2)
        segment.setBE32(sequenceNumber, at: 4)
        segment.setBE32(acknowledgmentNumber, at: 8)
        segment.setByte(UInt8(length / 4) << 4, at: 12)
        segment.setByte(flags.rawValue, at: 13)
        segment.setBE16(window, at: 14)
        segment.setBE16(0, at: 16)
        segment.setBE16(0, at: 18)
        if let mss = maximumSegmentSize {
            segment.setByte(2, at: 20)
            segment.setByte(4, at: 21)
            segment.setBE16(mss, at: 22)
        }
        segment.setBE16(Self.checksum(UnsafeRawBufferPointer(segment), source: source, destination: destination), at: 16)
    }
}

/// Ethernet + IPv4 + TCP in one frame, without allocating, as `UDPFrame`
/// does for UDP: the payload goes into `payloadArea(of:)`, then `finish`
/// writes the headers in front of it.
public enum TCPFrame {
    /// 14 + 20 + 20: where the payload of a segment without options starts.
    public static let headerSize = EthernetHeader.size + IPv4Header.minimumSize + TCPHeader.minimumSize

    /// Where to write the payload of the next segment built in `buffer`.
    public static func payloadArea(of buffer: FrameBuffer) -> UnsafeMutableRawBufferPointer {
        let storage = buffer.storage
        return UnsafeMutableRawBufferPointer(rebasing: storage[min(headerSize, storage.count)...])
    }

    /// Writes the headers in front of `payloadCount` bytes already in the
    /// payload area and sets the frame's length. A header with the MSS
    /// option carries no payload (only SYN segments have it here).
    public static func finish(_ buffer: FrameBuffer, sourceMAC: MACAddress, destinationMAC: MACAddress,
                              source: IPv4Address, destination: IPv4Address, header: TCPHeader,
                              payloadCount: Int, identification: UInt16 = 0) throws(WireError) {
        let tcpHeaderLength = header.maximumSegmentSize == nil ? TCPHeader.minimumSize : TCPHeader.minimumSize + 4
        guard payloadCount >= 0, header.maximumSegmentSize == nil || payloadCount == 0 else { throw .malformed }
        let segmentLength = tcpHeaderLength + payloadCount
        let ipLength = IPv4Header.minimumSize + segmentLength
        let frameLength = EthernetHeader.size + ipLength
        guard ipLength <= 0xFFFF, frameLength <= buffer.capacity else { throw .noRoom }
        let storage = buffer.storage
        try EthernetHeader(destination: destinationMAC, source: sourceMAC, etherType: .ipv4).write(to: storage)
        let ipArea = UnsafeMutableRawBufferPointer(rebasing: storage[EthernetHeader.size..<frameLength])
        try IPv4Header(totalLength: ipLength, proto: .tcp, source: source, destination: destination,
                       identification: identification, dontFragment: true).write(to: ipArea)
        try header.write(to: UnsafeMutableRawBufferPointer(rebasing: ipArea[IPv4Header.minimumSize...]), source: source, destination: destination)
        buffer.setCount(frameLength)
        buffer.pad(to: 60)
    }
}

/// A received Ethernet/IPv4/TCP frame, validated: headers plus the
/// payload's offsets in the frame (no copy).
public struct TCPSegment: Sendable {
    public var ethernet: EthernetHeader
    public var ip: IPv4Header
    public var tcp: TCPHeader
    /// The TCP payload's offsets in the frame that was parsed.
    public var payloadRange: Range<Int>

    /// Validates each layer; fragments and non-TCP packets are refused.
    public init(parsing frame: UnsafeRawBufferPointer) throws(WireError) {
        ethernet = try EthernetHeader(parsing: frame)
        guard ethernet.etherType == .ipv4 else { throw .malformed }
        let ipBytes = frame.clamped(EthernetHeader.size..<frame.count)
        ip = try IPv4Header(parsing: ipBytes)
        guard ip.proto == .tcp, !ip.isFragment else { throw .malformed }
        let segment = ipBytes.clamped(ip.payloadRange)
        tcp = try TCPHeader(parsing: segment, source: ip.source, destination: ip.destination)
        let base = EthernetHeader.size + ip.headerLength
        payloadRange = (base + tcp.headerLength)..<(base + segment.count)
    }

    /// Sequence space the segment occupies: its payload, plus one each for SYN and FIN.
    public var sequenceLength: Int {
        payloadRange.count + (tcp.flags.contains(.syn) ? 1 : 0) + (tcp.flags.contains(.fin) ? 1 : 0)
    }
}
