/// Cutting a TCP "super-frame" into wire-sized segments, as the sending
/// NIC's TCP segmentation offload would have.
///
/// A Linux host sending TCP through a device that accepts segmentation
/// offload (veth, bridges, macvlan: TSO/GSO on by default) hands it frames
/// of up to 64 KiB, one IP header for many segments' worth of data; a
/// packet socket (libpcap) on such a device sees them whole. No NIC model
/// can take a 64 KiB frame, so they are cut here into segments that fit
/// the link's MTU: each with the headers copied, the IPv4 total length,
/// identification and header checksum (or the IPv6 payload length)
/// rewritten, the sequence number advanced, FIN and PSH kept for the last
/// segment and CWR for the first, and the TCP checksum computed whole
/// (the super-frame's own is only partial).
public enum SegmentationOffload {
    /// TCP flag bits in header byte 13.
    static let fin: UInt8 = 0x01
    static let psh: UInt8 = 0x08
    static let cwr: UInt8 = 0x80

    /// Cuts `frame` into segments whose IP datagrams are at most `mtu`
    /// bytes, building each in `scratch` (which must hold headers plus one
    /// segment) and lending it to `body`. Returns the number of segments,
    /// or nil when the frame is not a TCP frame that needs and allows
    /// cutting (not TCP, not larger than the MTU, an IPv4 fragment or
    /// options that don't fit, a scratch buffer too small).
    @discardableResult
    public static func segment(_ frame: UnsafeRawBufferPointer, mtu: Int, scratch: UnsafeMutableRawBufferPointer,
                               _ body: (UnsafeRawBufferPointer) -> Void) -> Int? {
        guard let t = ChecksumOffload.transport(frame), t.fieldOffset == 16 else { return nil }
        let ipStart = t.ipStart
        let ipHeaderLength = t.start - ipStart
        let tcpHeaderLength = Int(frame[t.start + 12] >> 4) * 4
        let headers = t.start + tcpHeaderLength
        guard tcpHeaderLength >= 20, headers <= t.end, t.end - ipStart > mtu else { return nil }
        let mss = mtu - ipHeaderLength - tcpHeaderLength
        guard mss >= 8, headers + mss <= scratch.count, let out = scratch.baseAddress, let input = frame.baseAddress else { return nil }
        let payload = t.end - headers
        let sequence = be32(frame, t.start + 4)
        let flags = frame[t.start + 13]
        let ipv4 = t.isIPv4
        let identification = ipv4 ? be16(frame, ipStart + 4) : 0
        var offset = 0
        var count = 0
        while offset < payload {
            let length = min(mss, payload - offset)
            let last = offset + length == payload
            out.copyMemory(from: input, byteCount: headers)
            (out + headers).copyMemory(from: input + headers + offset, byteCount: length)
            let segment = UnsafeMutableRawBufferPointer(start: out, count: headers + length)
            if ipv4 {
                put16(segment, ipStart + 2, UInt16(ipHeaderLength + tcpHeaderLength + length))
                put16(segment, ipStart + 4, identification &+ UInt16(truncatingIfNeeded: count))
                put16(segment, ipStart + 10, 0)
                put16(segment, ipStart + 10, InternetChecksum.compute(UnsafeRawBufferPointer(rebasing: segment[ipStart..<t.start])))
            } else {
                put16(segment, ipStart + 4, UInt16(t.start - ipStart - 40 + tcpHeaderLength + length))
            }
            put32(segment, t.start + 4, sequence &+ UInt32(truncatingIfNeeded: offset))
            var f = flags
            if !last { f &= ~(fin | psh) }
            if count > 0 { f &= ~cwr }
            segment[t.start + 13] = f
            // The whole checksum: pseudo header (with this segment's
            // length) plus the segment, the field first zeroed.
            put16(segment, t.start + 16, 0)
            guard let s = ChecksumOffload.transport(UnsafeRawBufferPointer(segment)) else { return nil }
            var sum = InternetChecksum()
            sum.add(word: s.pseudoHeaderSum)
            sum.add(UnsafeRawBufferPointer(rebasing: segment[s.start..<s.end]))
            put16(segment, t.start + 16, sum.value)
            body(UnsafeRawBufferPointer(segment))
            offset += length
            count += 1
        }
        return count
    }

    private static func be16(_ f: UnsafeRawBufferPointer, _ at: Int) -> UInt16 {
        UInt16(f[at]) << 8 | UInt16(f[at + 1])
    }

    private static func be32(_ f: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(be16(f, at)) << 16 | UInt32(be16(f, at + 2))
    }

    private static func put16(_ f: UnsafeMutableRawBufferPointer, _ at: Int, _ v: UInt16) {
        f[at] = UInt8(v >> 8)
        f[at + 1] = UInt8(truncatingIfNeeded: v)
    }

    private static func put32(_ f: UnsafeMutableRawBufferPointer, _ at: Int, _ v: UInt32) {
        put16(f, at, UInt16(v >> 16))
        put16(f, at + 2, UInt16(truncatingIfNeeded: v))
    }
}
