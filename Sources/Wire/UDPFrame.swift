import NICCore

/// One end of a UDP conversation on Ethernet: hardware address, IPv4
/// address and port.
public struct UDPEndpoint: Hashable, Sendable {
    public var mac: MACAddress
    public var ip: IPv4Address
    public var port: UInt16

    public init(mac: MACAddress, ip: IPv4Address, port: UInt16) {
        self.mac = mac
        self.ip = ip
        self.port = port
    }
}

/// Ethernet + IPv4 + UDP in one frame, without allocating: the sender
/// writes its payload into `payloadArea(of:)` and then `finish` writes the
/// three headers in front of it and sets the frame's length. Parsing goes
/// the other way and yields offsets into the received bytes.
public enum UDPFrame {
    /// 14 + 20 + 8: where the UDP payload starts in a frame built here.
    public static let headerSize = EthernetHeader.size + IPv4Header.minimumSize + UDPHeader.size
    /// The largest payload in a standard 1500-byte-MTU frame.
    public static let maximumPayload = 1500 - IPv4Header.minimumSize - UDPHeader.size

    /// Where to write the payload of the next frame built in `buffer`.
    public static func payloadArea(of buffer: FrameBuffer) -> UnsafeMutableRawBufferPointer {
        let storage = buffer.storage
        return UnsafeMutableRawBufferPointer(rebasing: storage[min(headerSize, storage.count)...])
    }

    /// Writes the headers in front of `payloadCount` bytes already in the
    /// payload area and sets `buffer.count` to the frame's length.
    public static func finish(_ buffer: FrameBuffer, from source: UDPEndpoint, to destination: UDPEndpoint,
                              payloadCount: Int, identification: UInt16 = 0, timeToLive: UInt8 = 64,
                              udpChecksum: Bool = true) throws(WireError) {
        let udpLength = UDPHeader.size + payloadCount
        let ipLength = IPv4Header.minimumSize + udpLength
        guard payloadCount >= 0, ipLength <= 0xFFFF, headerSize + payloadCount <= buffer.capacity else { throw .noRoom }
        let storage = buffer.storage
        try EthernetHeader(destination: destination.mac, source: source.mac, etherType: .ipv4).write(to: storage)
        let ipArea = UnsafeMutableRawBufferPointer(rebasing: storage[EthernetHeader.size...])
        try IPv4Header(totalLength: ipLength, proto: .udp, source: source.ip, destination: destination.ip,
                       identification: identification, timeToLive: timeToLive).write(to: ipArea)
        let udpArea = UnsafeMutableRawBufferPointer(rebasing: ipArea[IPv4Header.minimumSize...])
        try UDPHeader(sourcePort: source.port, destinationPort: destination.port, length: udpLength)
            .write(to: udpArea, source: source.ip, destination: destination.ip, computeChecksum: udpChecksum)
        buffer.setCount(headerSize + payloadCount)
    }

    /// Builds a whole frame from a payload given as bytes.
    public static func build(_ buffer: FrameBuffer, from source: UDPEndpoint, to destination: UDPEndpoint,
                             payload: UnsafeRawBufferPointer, identification: UInt16 = 0) throws(WireError) {
        let area = payloadArea(of: buffer)
        guard payload.count <= area.count else { throw .noRoom }
        if let dst = area.baseAddress, let src = payload.baseAddress, payload.count > 0 {
            dst.copyMemory(from: src, byteCount: payload.count)
        }
        try finish(buffer, from: source, to: destination, payloadCount: payload.count, identification: identification)
    }
}

/// A received Ethernet/IPv4/UDP frame, validated, as headers plus the
/// payload's offsets in the frame (no copy).
public struct UDPDatagram: Sendable {
    public var ethernet: EthernetHeader
    public var ip: IPv4Header
    public var udp: UDPHeader
    /// The UDP payload's offsets in the frame that was parsed.
    public var payloadRange: Range<Int>

    /// Validates each layer; fragments and non-UDP packets are refused.
    public init(parsing frame: UnsafeRawBufferPointer) throws(WireError) {
        ethernet = try EthernetHeader(parsing: frame)
        guard ethernet.etherType == .ipv4 else { throw .malformed }
        let ipBytes = frame.clamped(EthernetHeader.size..<frame.count)
        ip = try IPv4Header(parsing: ipBytes)
        guard ip.proto == .udp, !ip.isFragment else { throw .malformed }
        let udpBytes = ipBytes.clamped(ip.payloadRange)
        udp = try UDPHeader(parsing: udpBytes, source: ip.source, destination: ip.destination)
        let start = EthernetHeader.size + ip.headerLength + UDPHeader.size
        payloadRange = start..<(EthernetHeader.size + ip.headerLength + udp.length)
    }

    public var source: UDPEndpoint { UDPEndpoint(mac: ethernet.source, ip: ip.source, port: udp.sourcePort) }
    public var destination: UDPEndpoint { UDPEndpoint(mac: ethernet.destination, ip: ip.destination, port: udp.destinationPort) }
}
