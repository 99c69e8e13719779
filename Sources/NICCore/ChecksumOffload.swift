/// Finishing TCP and UDP checksums that a sender left for "the hardware".
///
/// A Linux host that sends through a device with checksum offload (veth,
/// bridges, macvlan, tap, most real NICs) hands the frame down with only the
/// pseudo-header sum in the TCP or UDP checksum field (CHECKSUM_PARTIAL); the
/// NIC is expected to add the segment and store the result. A packet socket
/// (libpcap) on such a device sees the frame before that step, so a model
/// that received it as it is would carry a bad checksum to the guest's
/// stack, which rightly drops it. What a sending NIC does is done here:
///
/// - `complete(_:start:offset:)`: the virtio-net / tap form
///   (VIRTIO_NET_HDR_F_NEEDS_CSUM, virtio 1.x 5.1.6.2): the ones'-complement
///   sum from `start` to the end of the frame goes at `start + offset`.
/// - `completePartial(_:)`: the same for a frame that comes with no such
///   header (libpcap), found by its shape: an IPv4 or IPv6 TCP/UDP frame
///   whose checksum field holds exactly the pseudo-header sum and whose full
///   checksum does not verify. A frame from a real wire never has that
///   shape (its checksum was finished by the sender's NIC); a frame damaged
///   on the way has a wrong checksum that is not the pseudo-header sum, and
///   stays wrong.
public enum ChecksumOffload {
    /// IP protocol numbers of the transports finished here.
    static let tcp: UInt8 = 6
    static let udp: UInt8 = 17

    /// VIRTIO_NET_HDR_F_NEEDS_CSUM: the ones'-complement sum from `start` to
    /// the end (the field already holds the pseudo-header sum) goes at
    /// `start + offset`. False, with the frame untouched, when the offsets
    /// lie outside it.
    @discardableResult
    public static func complete(_ frame: UnsafeMutableRawBufferPointer, start: Int, offset: Int) -> Bool {
        guard start >= 0, offset >= 0, start < frame.count, offset <= frame.count - start - 2 else { return false }
        let field = start + offset
        var sum = InternetChecksum()
        sum.add(UnsafeRawBufferPointer(rebasing: frame[start...]))
        var value = sum.value
        // 0 and 0xFFFF are the same ones'-complement zero; UDP reserves 0
        // for "no checksum", so a sending NIC always writes 0xFFFF.
        if value == 0 { value = 0xFFFF }
        frame[field] = UInt8(value >> 8)
        frame[field + 1] = UInt8(truncatingIfNeeded: value)
        return true
    }

    /// Where a frame's transport checksum lies, and the pseudo-header sum
    /// that a partial checksum leaves in it.
    struct Transport {
        /// First byte of the IP header.
        var ipStart: Int
        /// First byte of the TCP or UDP header.
        var start: Int
        /// Offset of the checksum field within that header.
        var fieldOffset: Int
        /// One past the last byte of the segment (IP length, not padding).
        var end: Int
        /// The folded pseudo-header sum, not complemented.
        var pseudoHeaderSum: UInt16
        var isIPv4: Bool
    }

    /// Completes the frame's TCP or UDP checksum in place when it is
    /// partial (see the type's description). Returns true if it did.
    @discardableResult
    public static func completePartial(_ frame: UnsafeMutableRawBufferPointer) -> Bool {
        guard let t = transport(UnsafeRawBufferPointer(frame)) else { return false }
        let field = t.start + t.fieldOffset
        let stored = UInt16(frame[field]) << 8 | UInt16(frame[field + 1])
        // Linux stores the folded pseudo-header sum as it is (the sum of
        // real addresses and lengths is never zero, so there is one form).
        guard stored == t.pseudoHeaderSum else { return false }
        let segment = UnsafeMutableRawBufferPointer(rebasing: frame[t.start..<t.end])
        // A checksum that already verifies (the segment sums to zero with
        // the pseudo-header) is complete; leave it.
        var check = InternetChecksum()
        check.add(word: t.pseudoHeaderSum)
        check.add(UnsafeRawBufferPointer(segment))
        if check.foldedSum == 0xFFFF { return false }
        return complete(segment, start: 0, offset: t.fieldOffset)
    }

    /// True when the frame carries a TCP or UDP checksum that verifies
    /// (UDP over IPv4 without a checksum counts as verified). For tests and
    /// diagnostics.
    public static func transportChecksumIsValid(_ frame: UnsafeRawBufferPointer) -> Bool? {
        guard let t = transport(frame) else { return nil }
        let field = t.start + t.fieldOffset
        if t.isIPv4, t.fieldOffset == 6, frame[field] == 0, frame[field + 1] == 0 {
            // UDP over IPv4: zero means "no checksum".
            return true
        }
        var check = InternetChecksum()
        check.add(word: t.pseudoHeaderSum)
        check.add(UnsafeRawBufferPointer(rebasing: frame[t.start..<t.end]))
        return check.foldedSum == 0xFFFF
    }

    /// Stores the pseudo-header sum in the frame's TCP or UDP checksum
    /// field, as a Linux sender leaves it for an offloading device: the
    /// frames `completePartial` finishes, for tests and fuzzing. False
    /// when the frame has no such transport.
    @discardableResult
    public static func leavePartial(_ frame: UnsafeMutableRawBufferPointer) -> Bool {
        guard let t = transport(UnsafeRawBufferPointer(frame)) else { return false }
        let field = t.start + t.fieldOffset
        frame[field] = UInt8(t.pseudoHeaderSum >> 8)
        frame[field + 1] = UInt8(truncatingIfNeeded: t.pseudoHeaderSum)
        return true
    }

    /// Where the TCP or UDP payload of the frame lies (after the TCP
    /// header's data offset or the 8-byte UDP header), or nil.
    public static func transportPayload(_ frame: UnsafeRawBufferPointer) -> Range<Int>? {
        guard let t = transport(frame) else { return nil }
        let header = t.fieldOffset == 16 ? Int(frame[t.start + 12] >> 4) * 4 : 8
        guard t.start + header <= t.end else { return nil }
        return (t.start + header)..<t.end
    }

    /// The transport of an Ethernet frame (optionally 802.1Q tagged),
    /// IPv4 (not a fragment) or IPv6 (TCP or UDP as the first header, or
    /// after hop-by-hop, routing and destination options), or nil.
    static func transport(_ f: UnsafeRawBufferPointer) -> Transport? {
        guard f.count >= 14 else { return nil }
        var l3 = 12
        var type = f.be16(at: l3)
        if type == 0x8100 || type == 0x88A8 {
            guard f.count >= 18 else { return nil }
            l3 += 4
            type = f.be16(at: l3)
        }
        l3 += 2
        switch type {
        case 0x0800: return ipv4Transport(f, at: l3)
        case 0x86DD: return ipv6Transport(f, at: l3)
        default: return nil
        }
    }

    private static func ipv4Transport(_ f: UnsafeRawBufferPointer, at ip: Int) -> Transport? {
        guard f.count >= ip + 20, f[ip] >> 4 == 4 else { return nil }
        let headerLength = Int(f[ip] & 0x0F) * 4
        let totalLength = Int(f.be16(at: ip + 2))
        guard headerLength >= 20, totalLength >= headerLength, ip + totalLength <= f.count else { return nil }
        // Fragments: the checksum covers the whole datagram, not this piece.
        guard f.be16(at: ip + 6) & 0x3FFF == 0 else { return nil }
        let proto = f[ip + 9]
        let start = ip + headerLength
        let length = totalLength - headerLength
        guard let fieldOffset = checksumOffset(f, proto: proto, start: start, length: length) else { return nil }
        var sum = InternetChecksum()
        sum.add(UnsafeRawBufferPointer(rebasing: f[(ip + 12)..<(ip + 20)]))
        sum.add(word: UInt16(proto))
        sum.add(word: UInt16(truncatingIfNeeded: length))
        return Transport(ipStart: ip, start: start, fieldOffset: fieldOffset, end: start + length, pseudoHeaderSum: sum.foldedSum, isIPv4: true)
    }

    private static func ipv6Transport(_ f: UnsafeRawBufferPointer, at ip: Int) -> Transport? {
        guard f.count >= ip + 40, f[ip] >> 4 == 6 else { return nil }
        let payloadLength = Int(f.be16(at: ip + 4))
        let end = ip + 40 + payloadLength
        guard payloadLength > 0, end <= f.count else { return nil }
        var next = f[ip + 6]
        var start = ip + 40
        // Hop-by-hop (0), routing (43), destination options (60): length in
        // 8-octet units after the first 8. A routing header changes the
        // pseudo-header's destination; such frames are left alone.
        for _ in 0..<4 where next == 0 || next == 60 {
            guard start + 8 <= end else { return nil }
            let extLength = (Int(f[start + 1]) + 1) * 8
            next = f[start]
            start += extLength
        }
        guard start <= end else { return nil }
        let length = end - start
        guard let fieldOffset = checksumOffset(f, proto: next, start: start, length: length) else { return nil }
        var sum = InternetChecksum()
        sum.add(UnsafeRawBufferPointer(rebasing: f[(ip + 8)..<(ip + 40)]))
        sum.add(word: UInt16(truncatingIfNeeded: length >> 16))
        sum.add(word: UInt16(truncatingIfNeeded: length))
        sum.add(word: UInt16(next))
        return Transport(ipStart: ip, start: start, fieldOffset: fieldOffset, end: end, pseudoHeaderSum: sum.foldedSum, isIPv4: false)
    }

    /// The checksum field's offset in a TCP (16) or UDP (6) header that fits
    /// in `length` bytes at `start`, or nil.
    private static func checksumOffset(_ f: UnsafeRawBufferPointer, proto: UInt8, start: Int, length: Int) -> Int? {
        switch proto {
        case tcp:
            guard length >= 20, Int(f[start + 12] >> 4) * 4 >= 20 else { return nil }
            return 16
        case udp:
            guard length >= 8, Int(f.be16(at: start + 4)) == length else { return nil }
            return 6
        default:
            return nil
        }
    }

}
