import NICCore

/// C+ transmit offloads (IP, TCP and UDP checksums, large send, VLAN
/// insertion) and the receive checksum check.
///
/// Nothing here trusts the frame: the IP header length, IP total length and
/// TCP data offset are checked against the bytes actually gathered, the IP
/// payload is the smaller of what the header claims and what is there, and
/// only gathered bytes are ever sent (the CVE-2015-5165 class). A large
/// send with MSS 0 is refused rather than divided by.
extension RTL8139 {
    /// The smallest MSS a large send accepts (docs/deviations.md
    /// RTL8139-TSO-MIN-MSS). The LS descriptor's MSS is an 11-bit field
    /// and segmentation makes frame / MSS segments; below 48 (the
    /// smallest MSS Linux sends, its tcp_min_snd_mss default) the request
    /// is refused like MSS 0, so one descriptor makes at most 64 KiB / 48
    /// = 1366 segments and one TPPoll write (64 descriptors) 87,424.
    public static let minimumLargeSendMSS = 48

    /// Where the IPv4 and layer-4 headers of an Ethernet frame lie, all
    /// within its bytes.
    struct IPv4Layout {
        var ipStart: Int
        var headerLength: Int
        /// End of the IP datagram: header total length clamped to the frame.
        var ipEnd: Int
        var proto: UInt8
        var l4Start: Int { ipStart + headerLength }
        var l4Length: Int { ipEnd - l4Start }
    }

    static func be16(_ p: UnsafeRawPointer, _ o: Int) -> UInt16 {
        UInt16(p.load(fromByteOffset: o, as: UInt8.self)) << 8 | UInt16(p.load(fromByteOffset: o + 1, as: UInt8.self))
    }

    static func putBE16(_ p: UnsafeMutableRawPointer, _ o: Int, _ v: UInt16) {
        p.storeBytes(of: UInt8(truncatingIfNeeded: v >> 8), toByteOffset: o, as: UInt8.self)
        p.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: o + 1, as: UInt8.self)
    }

    static func be32(_ p: UnsafeRawPointer, _ o: Int) -> UInt32 {
        UInt32(be16(p, o)) << 16 | UInt32(be16(p, o + 2))
    }

    static func putBE32(_ p: UnsafeMutableRawPointer, _ o: Int, _ v: UInt32) {
        putBE16(p, o, UInt16(truncatingIfNeeded: v >> 16))
        putBE16(p, o + 2, UInt16(truncatingIfNeeded: v))
    }

    /// The IPv4 layout of `count` bytes at `p` (Ethernet header first), or
    /// nil when it is not a well-formed IPv4 frame.
    static func parseIPv4(_ p: UnsafeRawPointer, count: Int) -> IPv4Layout? {
        guard count >= 34, be16(p, 12) == 0x0800 else { return nil }
        let versionIHL = p.load(fromByteOffset: 14, as: UInt8.self)
        guard versionIHL >> 4 == 4 else { return nil }
        let ihl = Int(versionIHL & 0xF) * 4
        guard ihl >= 20, 14 + ihl <= count else { return nil }
        let totalLength = Int(be16(p, 16))
        guard totalLength >= ihl else { return nil }
        let end = 14 + min(totalLength, count - 14)
        return IPv4Layout(ipStart: 14, headerLength: ihl, ipEnd: end, proto: p.load(fromByteOffset: 23, as: UInt8.self))
    }

    /// Length of a valid TCP header at the layout's layer 4, or nil.
    static func tcpHeaderLength(_ p: UnsafeRawPointer, _ ip: IPv4Layout) -> Int? {
        guard ip.proto == 6, ip.l4Length >= 20 else { return nil }
        let thl = Int(p.load(fromByteOffset: ip.l4Start + 12, as: UInt8.self) >> 4) * 4
        guard thl >= 20, thl <= ip.l4Length else { return nil }
        return thl
    }

    static func headerChecksum(_ p: UnsafeRawPointer, _ ip: IPv4Layout) -> UInt16 {
        InternetChecksum.compute(UnsafeRawBufferPointer(start: p + ip.ipStart, count: ip.headerLength))
    }

    /// TCP or UDP checksum over the pseudo header and `length` bytes of layer 4.
    static func transportChecksum(_ p: UnsafeRawPointer, _ ip: IPv4Layout, length: Int) -> UInt16 {
        var c = InternetChecksum()
        c.add(UnsafeRawBufferPointer(start: p + ip.ipStart + 12, count: 8))
        c.add(word: UInt16(ip.proto))
        c.add(word: UInt16(truncatingIfNeeded: length))
        c.add(UnsafeRawBufferPointer(start: p + ip.l4Start, count: length))
        return c.value
    }

    // MARK: Transmit

    /// Applies the offloads of the LS descriptor to the assembled frame and
    /// sends it (or its segments). False when the request can't be honoured.
    func transmitWithOffloads(command: UInt32, vlanTag: UInt16?) -> Bool {
        let p = txAssembly.baseAddress
        let n = txAssembly.count
        if command & DescriptorBits.largeSend != 0 {
            return largeSend(command: command, vlanTag: vlanTag)
        }
        if command & (DescriptorBits.ipcs | DescriptorBits.tcpcs | DescriptorBits.udpcs) != 0,
           let ip = RTL8139.parseIPv4(p, count: n)
        {
            if command & DescriptorBits.ipcs != 0 {
                RTL8139.putBE16(p, ip.ipStart + 10, 0)
                RTL8139.putBE16(p, ip.ipStart + 10, RTL8139.headerChecksum(p, ip))
            }
            if command & DescriptorBits.tcpcs != 0, RTL8139.tcpHeaderLength(p, ip) != nil {
                RTL8139.putBE16(p, ip.l4Start + 16, 0)
                RTL8139.putBE16(p, ip.l4Start + 16, RTL8139.transportChecksum(p, ip, length: ip.l4Length))
            } else if command & DescriptorBits.udpcs != 0, ip.proto == 17, ip.l4Length >= 8 {
                RTL8139.putBE16(p, ip.l4Start + 6, 0)
                let sum = RTL8139.transportChecksum(p, ip, length: ip.l4Length)
                RTL8139.putBE16(p, ip.l4Start + 6, sum == 0 ? 0xFFFF : sum)
            }
        }
        send(UnsafeRawBufferPointer(start: p, count: n), vlanTag: vlanTag)
        return true
    }

    /// Sends `frame`, inserting an 802.1Q tag after the addresses if asked.
    func send(_ frame: UnsafeRawBufferPointer, vlanTag: UInt16?) {
        guard let tag = vlanTag else {
            emit(frame)
            return
        }
        txOut.assign(UnsafeRawBufferPointer(rebasing: frame[0..<12]))
        var header: (UInt8, UInt8, UInt8, UInt8) = (0x81, 0x00, UInt8(truncatingIfNeeded: tag >> 8), UInt8(truncatingIfNeeded: tag))
        withUnsafeBytes(of: &header) { _ = txOut.append($0) }
        txOut.append(UnsafeRawBufferPointer(rebasing: frame[12...]))
        emit(txOut.bytes)
    }

    /// Large send (TSO): cuts the TCP payload into MSS-sized segments, each
    /// with its own IP total length, IP ID, TCP sequence number and both
    /// checksums; FIN and PSH stay on the last segment only.
    private func largeSend(command: UInt32, vlanTag: UInt16?) -> Bool {
        let p = txAssembly.baseAddress
        let n = txAssembly.count
        let mss = Int((command >> DescriptorBits.mssShift) & DescriptorBits.mssMask)
        guard let ip = RTL8139.parseIPv4(p, count: n), let thl = RTL8139.tcpHeaderLength(p, ip) else {
            send(UnsafeRawBufferPointer(start: p, count: n), vlanTag: vlanTag)
            return true
        }
        guard mss >= Self.minimumLargeSendMSS else { return false }
        let headerEnd = ip.l4Start + thl
        let payload = ip.ipEnd - headerEnd
        let firstID = RTL8139.be16(p, ip.ipStart + 4)
        let firstSequence = RTL8139.be32(p, ip.l4Start + 4)
        let flags = p.load(fromByteOffset: ip.l4Start + 13, as: UInt8.self)
        let shift = vlanTag == nil ? 0 : 4
        var segment = 0
        var offset = 0
        repeat {
            let chunk = min(mss, payload - offset)
            let last = offset + chunk >= payload
            // Headers, then this segment's payload, into txOut.
            txOut.assign(UnsafeRawBufferPointer(start: p, count: 12))
            if let tag = vlanTag {
                var header: (UInt8, UInt8, UInt8, UInt8) = (0x81, 0x00, UInt8(truncatingIfNeeded: tag >> 8), UInt8(truncatingIfNeeded: tag))
                withUnsafeBytes(of: &header) { _ = txOut.append($0) }
            }
            txOut.append(UnsafeRawBufferPointer(start: p + 12, count: headerEnd - 12))
            txOut.append(UnsafeRawBufferPointer(start: p + headerEnd + offset, count: chunk))
            let q = txOut.baseAddress
            var seg = ip
            seg.ipStart += shift
            seg.ipEnd = seg.l4Start + thl + chunk
            RTL8139.putBE16(q, seg.ipStart + 2, UInt16(truncatingIfNeeded: ip.headerLength + thl + chunk))
            RTL8139.putBE16(q, seg.ipStart + 4, firstID &+ UInt16(truncatingIfNeeded: segment))
            RTL8139.putBE16(q, seg.ipStart + 10, 0)
            RTL8139.putBE16(q, seg.ipStart + 10, RTL8139.headerChecksum(q, seg))
            RTL8139.putBE32(q, seg.l4Start + 4, firstSequence &+ UInt32(truncatingIfNeeded: offset))
            let segmentFlags = last ? flags : flags & ~0x09   // FIN and PSH on the last segment only
            q.storeBytes(of: segmentFlags, toByteOffset: seg.l4Start + 13, as: UInt8.self)
            RTL8139.putBE16(q, seg.l4Start + 16, 0)
            RTL8139.putBE16(q, seg.l4Start + 16, RTL8139.transportChecksum(q, seg, length: thl + chunk))
            emit(txOut.bytes)
            segment += 1
            offset += chunk
        } while offset < payload
        return true
    }

    // MARK: Receive

    /// With CPCR.RxChkSum: the protocol ID (bits 17-16) and the IP, TCP
    /// and UDP checksum-failure bits for a received frame (FCS last).
    func receiveChecksumStatus(_ frameWithFCS: UnsafeRawBufferPointer) -> UInt32 {
        guard let p = frameWithFCS.baseAddress,
              let ip = RTL8139.parseIPv4(p, count: frameWithFCS.count - 4) else { return 0 }
        var word: UInt32 = 0
        if RTL8139.headerChecksum(p, ip) != 0 { word |= DescriptorBits.rxIPChecksumFail }
        switch ip.proto {
        case 6:
            word |= 1 << DescriptorBits.rxProtocolShift
            if ip.l4Length < 20 || RTL8139.transportChecksum(p, ip, length: ip.l4Length) != 0 {
                word |= DescriptorBits.rxTCPChecksumFail
            }
        case 17:
            word |= 2 << DescriptorBits.rxProtocolShift
            if ip.l4Length < 8 {
                word |= DescriptorBits.rxUDPChecksumFail
            } else if RTL8139.be16(p, ip.l4Start + 6) != 0,
                      RTL8139.transportChecksum(p, ip, length: ip.l4Length) != 0 {
                word |= DescriptorBits.rxUDPChecksumFail
            }
        default:
            word |= 3 << DescriptorBits.rxProtocolShift
        }
        return word
    }
}
