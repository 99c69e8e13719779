import NICCore

/// Ethernet + IPv6 + ICMPv6 in one frame, without allocating: the sender
/// writes its message into `messageArea(of:)` and `finish` writes the two
/// headers in front of it and the ICMPv6 checksum into it. Parsing goes
/// the other way and yields offsets into the received bytes.
public enum ICMPv6Frame {
    /// 14 + 40: where the ICMPv6 message starts in a frame built here.
    public static let headerSize = EthernetHeader.size + IPv6Header.size

    /// Where to write the message of the next frame built in `buffer`.
    public static func messageArea(of buffer: FrameBuffer) -> UnsafeMutableRawBufferPointer {
        let storage = buffer.storage
        return UnsafeMutableRawBufferPointer(rebasing: storage[min(headerSize, storage.count)...])
    }

    /// Writes the headers in front of `messageCount` bytes already in the
    /// message area, fills in the ICMPv6 checksum and sets `buffer.count`.
    public static func finish(_ buffer: FrameBuffer, from sourceMAC: MACAddress, _ source: IPv6Address,
                              to destinationMAC: MACAddress, _ destination: IPv6Address,
                              hopLimit: UInt8, messageCount: Int) throws(WireError) {
        guard messageCount >= ICMPv6Header.size, messageCount <= 0xFFFF, headerSize + messageCount <= buffer.capacity else { throw .noRoom }
        let storage = buffer.storage
        try EthernetHeader(destination: destinationMAC, source: sourceMAC, etherType: .ipv6).write(to: storage)
        let ipArea = UnsafeMutableRawBufferPointer(rebasing: storage[EthernetHeader.size...])
        try IPv6Header(payloadLength: messageCount, nextHeader: .icmpv6, hopLimit: hopLimit, source: source, destination: destination)
            .write(to: ipArea)
        let message = UnsafeMutableRawBufferPointer(rebasing: storage[headerSize..<(headerSize + messageCount)])
        ICMPv6Header.fillChecksum(message, source: source, destination: destination)
        buffer.setCount(headerSize + messageCount)
    }
}

/// A received Ethernet/IPv6/ICMPv6 frame whose ICMPv6 message follows the
/// IPv6 header directly (no extension headers), as headers plus the
/// message's offsets in the frame (no copy). The checksum is checked by
/// the message parsers (`ICMPv6Header`, `RouterSolicitation` ...).
public struct ICMPv6Packet: Sendable {
    public var ethernet: EthernetHeader
    public var ip: IPv6Header
    public var type: ICMPv6Type
    /// The ICMPv6 message's offsets in the frame that was parsed.
    public var messageRange: Range<Int>

    public init(parsing frame: UnsafeRawBufferPointer) throws(WireError) {
        ethernet = try EthernetHeader(parsing: frame)
        guard ethernet.etherType == .ipv6 else { throw .malformed }
        let ipBytes = frame.clamped(EthernetHeader.size..<frame.count)
        ip = try IPv6Header(parsing: ipBytes)
        guard ip.nextHeader == .icmpv6 else { throw .malformed }
        guard ip.payloadLength >= ICMPv6Header.size else { throw .truncated }
        messageRange = (EthernetHeader.size + IPv6Header.size)..<(EthernetHeader.size + IPv6Header.size + ip.payloadLength)
        type = ICMPv6Type(rawValue: frame.byte(at: messageRange.lowerBound))
    }
}
