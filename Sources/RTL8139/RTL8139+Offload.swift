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

    /// The IPv4 layout of `frame` (Ethernet header first), or nil when it
    /// is not a well-formed IPv4 frame. Fields are read through NICCore's
    /// byte view, so a layout check missed here reads zeros, never past
    /// the frame.
    static func parseIPv4(_ frame: UnsafeRawBufferPointer) -> IPv4Layout? {
        let count = frame.count
        guard count >= 34, frame.be16(at: 12) == 0x0800 else { return nil }
        let versionIHL = frame.byte(at: 14)
        guard versionIHL >> 4 == 4 else { return nil }
        let ihl = Int(versionIHL & 0xF) * 4
        guard ihl >= 20, 14 + ihl <= count else { return nil }
        let totalLength = Int(frame.be16(at: 16))
        guard totalLength >= ihl else { return nil }
        let end = 14 + min(totalLength, count - 14)
        return IPv4Layout(ipStart: 14, headerLength: ihl, ipEnd: end, proto: frame.byte(at: 23))
    }

    /// Length of a valid TCP header at the layout's layer 4, or nil.
    static func tcpHeaderLength(_ frame: UnsafeRawBufferPointer, _ ip: IPv4Layout) -> Int? {
        guard ip.proto == 6, ip.l4Length >= 20 else { return nil }
        let thl = Int(frame.byte(at: ip.l4Start + 12) >> 4) * 4
        guard thl >= 20, thl <= ip.l4Length else { return nil }
        return thl
    }

    static func headerChecksum(_ frame: UnsafeRawBufferPointer, _ ip: IPv4Layout) -> UInt16 {
        InternetChecksum.compute(frame.clamped(ip.ipStart..<(ip.ipStart + ip.headerLength)))
    }

    /// TCP or UDP checksum over the pseudo header and `length` bytes of layer 4.
    static func transportChecksum(_ frame: UnsafeRawBufferPointer, _ ip: IPv4Layout, length: Int) -> UInt16 {
        var c = InternetChecksum()
        c.add(frame.clamped((ip.ipStart + 12)..<(ip.ipStart + 20)))
        c.add(word: UInt16(ip.proto))
        c.add(word: UInt16(truncatingIfNeeded: length))
        c.add(frame.clamped(ip.l4Start..<(ip.l4Start + length)))
        return c.value
    }

    // MARK: Transmit

    /// Applies the offloads of the LS descriptor to the assembled frame and
    /// sends it (or its segments). False when the request can't be honoured.
    func transmitWithOffloads(command: UInt32, vlanTag: UInt16?) -> Bool {
        let frame = UnsafeMutableRawBufferPointer(start: txAssembly.baseAddress, count: txAssembly.count)
        let view = UnsafeRawBufferPointer(frame)
        if command & DescriptorBits.largeSend != 0 {
            return largeSend(command: command, vlanTag: vlanTag)
        }
        if command & (DescriptorBits.ipcs | DescriptorBits.tcpcs | DescriptorBits.udpcs) != 0,
           let ip = RTL8139.parseIPv4(view)
        {
            if command & DescriptorBits.ipcs != 0 {
                frame.setBE16(0, at: ip.ipStart + 10)
                frame.setBE16(RTL8139.headerChecksum(view, ip), at: ip.ipStart + 10)
            }
            if command & DescriptorBits.tcpcs != 0, RTL8139.tcpHeaderLength(view, ip) != nil {
                frame.setBE16(0, at: ip.l4Start + 16)
                frame.setBE16(RTL8139.transportChecksum(view, ip, length: ip.l4Length), at: ip.l4Start + 16)
            } else if command & DescriptorBits.udpcs != 0, ip.proto == 17, ip.l4Length >= 8 {
                frame.setBE16(0, at: ip.l4Start + 6)
                let sum = RTL8139.transportChecksum(view, ip, length: ip.l4Length)
                frame.setBE16(sum == 0 ? 0xFFFF : sum, at: ip.l4Start + 6)
            }
        }
        send(view, vlanTag: vlanTag)
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
        let frame = txAssembly.bytes
        let mss = Int((command >> DescriptorBits.mssShift) & DescriptorBits.mssMask)
        guard let ip = RTL8139.parseIPv4(frame), let thl = RTL8139.tcpHeaderLength(frame, ip) else {
            send(frame, vlanTag: vlanTag)
            return true
        }
        guard mss >= Self.minimumLargeSendMSS else { return false }
        let headerEnd = ip.l4Start + thl
        let payload = ip.ipEnd - headerEnd
        let firstID = frame.be16(at: ip.ipStart + 4)
        let firstSequence = frame.be32(at: ip.l4Start + 4)
        let flags = frame.byte(at: ip.l4Start + 13)
        let shift = vlanTag == nil ? 0 : 4
        var segment = 0
        var offset = 0
        repeat {
            let chunk = min(mss, payload - offset)
            let last = offset + chunk >= payload
            // Headers, then this segment's payload, into txOut.
            txOut.assign(frame.clamped(0..<12))
            if let tag = vlanTag {
                var header: (UInt8, UInt8, UInt8, UInt8) = (0x81, 0x00, UInt8(truncatingIfNeeded: tag >> 8), UInt8(truncatingIfNeeded: tag))
                withUnsafeBytes(of: &header) { _ = txOut.append($0) }
            }
            txOut.append(frame.clamped(12..<headerEnd))
            txOut.append(frame.clamped((headerEnd + offset)..<(headerEnd + offset + chunk)))
            let q = UnsafeMutableRawBufferPointer(start: txOut.baseAddress, count: txOut.count)
            var seg = ip
            seg.ipStart += shift
            seg.ipEnd = seg.l4Start + thl + chunk
            q.setBE16(UInt16(truncatingIfNeeded: ip.headerLength + thl + chunk), at: seg.ipStart + 2)
            q.setBE16(firstID &+ UInt16(truncatingIfNeeded: segment), at: seg.ipStart + 4)
            q.setBE16(0, at: seg.ipStart + 10)
            q.setBE16(RTL8139.headerChecksum(UnsafeRawBufferPointer(q), seg), at: seg.ipStart + 10)
            q.setBE32(firstSequence &+ UInt32(truncatingIfNeeded: offset), at: seg.l4Start + 4)
            let segmentFlags = last ? flags : flags & ~0x09   // FIN and PSH on the last segment only
            q.setByte(segmentFlags, at: seg.l4Start + 13)
            q.setBE16(0, at: seg.l4Start + 16)
            q.setBE16(RTL8139.transportChecksum(UnsafeRawBufferPointer(q), seg, length: thl + chunk), at: seg.l4Start + 16)
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
        let p = frameWithFCS.clamped(0..<max(0, frameWithFCS.count - 4))
        guard let ip = RTL8139.parseIPv4(p) else { return 0 }
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
            } else if p.be16(at: ip.l4Start + 6) != 0,
                      RTL8139.transportChecksum(p, ip, length: ip.l4Length) != 0 {
                word |= DescriptorBits.rxUDPChecksumFail
            }
        default:
            word |= 3 << DescriptorBits.rxProtocolShift
        }
        return word
    }
}
