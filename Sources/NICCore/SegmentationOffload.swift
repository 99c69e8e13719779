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
        let sequence = frame.be32(at: t.start + 4)
        let flags = frame[t.start + 13]
        let ipv4 = t.isIPv4
        let identification = ipv4 ? frame.be16(at: ipStart + 4) : 0
        var offset = 0
        var count = 0
        while offset < payload {
            let length = min(mss, payload - offset)
            let last = offset + length == payload
            out.copyMemory(from: input, byteCount: headers)
            (out + headers).copyMemory(from: input + headers + offset, byteCount: length)
            let segment = UnsafeMutableRawBufferPointer(start: out, count: headers + length)
            if ipv4 {
                segment.setBE16(UInt16(ipHeaderLength + tcpHeaderLength + length), at: ipStart + 2)
                segment.setBE16(identification &+ UInt16(truncatingIfNeeded: count), at: ipStart + 4)
                segment.setBE16(0, at: ipStart + 10)
                segment.setBE16(InternetChecksum.compute(UnsafeRawBufferPointer(rebasing: segment[ipStart..<t.start])), at: ipStart + 10)
            } else {
                segment.setBE16(UInt16(t.start - ipStart - 40 + tcpHeaderLength + length), at: ipStart + 4)
            }
            segment.setBE32(sequence &+ UInt32(truncatingIfNeeded: offset), at: t.start + 4)
            var f = flags
            if !last { f &= ~(fin | psh) }
            if count > 0 { f &= ~cwr }
            segment[t.start + 13] = f
            // The whole checksum: pseudo header (with this segment's
            // length) plus the segment, the field first zeroed.
            segment.setBE16(0, at: t.start + 16)
            guard let s = ChecksumOffload.transport(UnsafeRawBufferPointer(segment)) else { return nil }
            var sum = InternetChecksum()
            sum.add(word: s.pseudoHeaderSum)
            sum.add(UnsafeRawBufferPointer(rebasing: segment[s.start..<s.end]))
            segment.setBE16(sum.value, at: t.start + 16)
            body(UnsafeRawBufferPointer(segment))
            offset += length
            count += 1
        }
        return count
    }

}
