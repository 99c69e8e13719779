import NICCore
import UNDI
import Wire

/// The UDP calls. IP4_t and UDP_PORT_t fields are in network byte order.
extension PXEAPI {
    /// UDP_OPEN: src_ip 2. A non-zero src_ip becomes our address.
    func udpOpen(_ b: GuestBlock) throws(PXEStatus) {
        try requireBaseCode()
        guard !baseCode.tftp.isOpen else { throw .tftpOpen }
        let source = IPv4Address(rawValue: try b.ip(2))
        if !source.isAny { baseCode.ip.address = source }
        baseCode.udpOpen = true
    }

    /// UDP_CLOSE
    func udpClose(_ b: GuestBlock) throws(PXEStatus) {
        try requireBaseCode()
        guard baseCode.udpOpen else { throw .udpClosed }
        baseCode.udpOpen = false
    }

    /// UDP_WRITE: ip 2, gw 6, src_port 10, dst_port 12, buffer_size 14,
    /// buffer 16. Off-link destinations go through gw, or the DHCP router
    /// when gw is 0; the next hop is resolved with ARP. src_port 0 means
    /// 2069.
    func udpWrite(_ b: GuestBlock) throws(PXEStatus) {
        try requireBaseCode()
        guard baseCode.udpOpen else { throw .udpClosed }
        let destination = IPv4Address(rawValue: try b.ip(2))
        let gateway = IPv4Address(rawValue: try b.ip(6))
        var sourcePort = UInt16(bigEndian: try b.u16(10))
        if sourcePort == 0 { sourcePort = PXEBaseCode.defaultUDPSourcePort }
        let destinationPort = UInt16(bigEndian: try b.u16(12))
        let size = Int(try b.u16(14))
        guard size <= UDPFrame.maximumPayload else { throw .outOfResources }
        let buffer = GuestBlock(memory, at: try b.address(16).linear)
        var readFailed = false
        try baseCode.ip.sendUDP(to: destination, port: destinationPort, from: sourcePort, gateway: gateway) { room in
            let dst = UnsafeMutableRawBufferPointer(rebasing: room[0..<min(size, room.count)])
            do throws(PXEStatus) { try buffer.read(0, into: dst) } catch { readFailed = true }
            return dst.count
        }
        if readFailed { throw .failure }
    }

    /// UDP_READ: src_ip 2, dest_ip 6, s_port 10, d_port 12, buffer_size 14,
    /// buffer 16. Does not wait. dest_ip and d_port filter when non-zero
    /// (datagrams that don't match are dropped); src_ip and s_port are
    /// outputs only (PXE 2.1 §3.4.4) — pxelinux leaves the previous
    /// datagram's values in them, so treating them as filters would drop
    /// the next server's answer. On success all four describe the
    /// datagram and buffer_size is the bytes copied.
    func udpRead(_ b: GuestBlock) throws(PXEStatus) {
        try requireBaseCode()
        guard baseCode.udpOpen else { throw .udpClosed }
        let wantDestination = IPv4Address(rawValue: try b.ip(6))
        let wantDestinationPort = UInt16(bigEndian: try b.u16(12))
        let room = Int(try b.u16(14))
        let buffer = GuestBlock(memory, at: try b.address(16).linear)
        var found: (UDPDatagram, Int)?
        var failure: PXEStatus?
        baseCode.ip.poll { datagram, payload in
            if !wantDestination.isAny, datagram.ip.destination != wantDestination { return false }
            if wantDestinationPort != 0, datagram.udp.destinationPort != wantDestinationPort { return false }
            let n = min(room, payload.count)
            do throws(PXEStatus) { try buffer.write(0, from: UnsafeRawBufferPointer(rebasing: payload[0..<n])) } catch { failure = error }
            found = (datagram, n)
            return true
        }
        if let failure { throw failure }
        guard let (datagram, n) = found else { throw .failure }
        try b.setIP(2, datagram.ip.source.rawValue)
        try b.setIP(6, datagram.ip.destination.rawValue)
        try b.set16(10, datagram.udp.sourcePort.bigEndian)
        try b.set16(12, datagram.udp.destinationPort.bigEndian)
        try b.set16(14, UInt16(n))
    }
}
