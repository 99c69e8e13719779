import BootServer
import NICCore
import Wire

/// The embedded boot server fed whole Ethernet frames: ARP, DHCP and
/// proxyDHCP on 67 and 4011, TFTP on 69 and on each transfer's own port,
/// IPv6 router solicitations, and garbage. The first byte picks the
/// server's configuration (a full DHCP server, a proxy or DHCP only, PXE
/// clients only or anyone, router advertisements on or off,
/// per-architecture and iPXE boot files), serving the small `FuzzTFTPRoot`; a four-address pool
/// runs out quickly. The rest is an op-coded stream of frames and time.
///
/// Every frame the server sends must be well formed: at most 1514 bytes,
/// an IPv4 frame a valid UDP datagram (lengths and checksums right), a
/// DHCP answer offering only addresses of its pool, a TFTP DATA block no
/// larger than the largest block size it grants.
enum BootServerFuzz {
    static let serverMAC = MACAddress(0x52, 0x54, 0x00, 0x00, 0x00, 0x02)
    static let serverIP = IPv4Address(10, 0, 2, 2)
    /// Clients the stream speaks for.
    static let clients = (0..<4).map { MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56 &+ UInt8($0)) }
    static let maxOps = 2048
    static let maxVirtualTime = 600 * VirtualClock.second

    enum Op: UInt8, CaseIterable {
        /// flags u8 (bit 0: repair checksums), length u16, bytes.
        case frame
        /// client u8, destination port u8 (67, 4011, 69 or the port of the
        /// server's last answer), flags u8 (bit 0: broadcast), length u16, payload.
        case udp
        /// length u16, payload: a UDP answer to the server's last frame.
        case reply
        /// milliseconds u16.
        case advance
    }

    /// Where the server's frames go, checked on the way.
    final class Wire: FrameTransmitter {
        var last: [UInt8] = []
        var count = 0
        let pool: ClosedRange<IPv4Address>
        let maximumBlockSize: Int

        init(pool: ClosedRange<IPv4Address>, maximumBlockSize: Int) {
            self.pool = pool
            self.maximumBlockSize = maximumBlockSize
        }

        func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
            precondition(frame.count >= EthernetHeader.size && frame.count <= 1514, "the server sent a \(frame.count)-byte frame")
            last = Array(frame)
            count += 1
            guard let ethernet = try? EthernetHeader(parsing: frame), ethernet.etherType == .ipv4 else { return }
            // Without an HTTP server, TCP gets only RSTs.
            if let segment = try? TCPSegment(parsing: frame) {
                precondition(segment.tcp.flags.contains(.rst) && segment.payloadRange.isEmpty, "the server sent TCP other than an RST")
                return
            }
            guard let datagram = try? UDPDatagram(parsing: frame) else { preconditionFailure("the server sent a malformed UDP frame") }
            let payload = UnsafeRawBufferPointer(rebasing: frame[datagram.payloadRange])
            if datagram.udp.sourcePort == DHCPMessage.serverPort || datagram.udp.sourcePort == DHCPMessage.pxeServerPort {
                guard let reply = try? DHCPMessage(parsing: payload) else { preconditionFailure("the server sent a malformed DHCP message") }
                precondition(reply.yourIP.isAny || pool.contains(reply.yourIP), "the server offered \(reply.yourIP), outside its pool")
            } else if case .data(_, let range)? = try? TFTPPacket(parsing: payload) {
                precondition(range.count <= maximumBlockSize, "the server sent a \(range.count)-byte TFTP block")
            }
        }
    }

    static func configuration(_ flags: UInt8) -> BootServerConfiguration {
        var c = BootServerConfiguration(mac: serverMAC, ip: serverIP, router: flags & 0x40 != 0 ? IPv4Address(10, 0, 2, 1) : nil,
                                        pool: IPv4Address(10, 0, 2, 100)...IPv4Address(10, 0, 2, 103), tftpRoot: FuzzTFTPRoot.path)
        c.proxyDHCP = flags & 1 != 0
        c.pxeClientsOnly = flags & 2 == 0
        c.routerAdvertisements = flags & 4 == 0
        if flags & 8 != 0 {
            // A plain DHCP server beside someone else's boot service (`serve --dhcp-only`): no boot information, no TFTP.
            c.bootService = false
            c.tftpRoot = nil
        }
        if flags & 0x10 != 0 { c.efiBootFile = "sub/dir/file" }
        if flags & 0x20 != 0 { c.ipxeBootFile = "boot.ipxe" }
        c.leaseTime = flags & 0x80 != 0 ? 1 : 3600
        return c
    }

    static func run(_ input: inout FuzzInput) {
        let clock = VirtualClock()
        guard let server = try? BootServer(configuration: configuration(input.u8()), clock: clock) else {
            preconditionFailure("the boot server cannot serve \(FuzzTFTPRoot.path)")
        }
        let wire = Wire(pool: server.configuration.pool, maximumBlockSize: server.tftp?.maximumBlockSize ?? 1468)
        server.port.transmitter = wire
        var ops = 0
        while !input.isAtEnd, ops < maxOps {
            ops += 1
            guard let op = Op(rawValue: input.u8() % UInt8(Op.allCases.count)) else { continue }
            switch op {
            case .frame:
                let flags = input.u8()
                var frame = Array(input.take(Int(input.u16() % 1519)))
                if flags & 1 != 0 { FrameChecksums.fix(&frame) }
                frame.withUnsafeBytes { _ = server.port.offer($0) }
            case .udp:
                let client = clients[Int(input.u8()) % clients.count]
                let which = input.u8()
                let flags = input.u8()
                let payload = input.take(Int(input.u16() % 1473))
                var port: UInt16 = [67, 4011, 69, 67][Int(which & 3)]
                if which & 3 == 3, let sent = lastSource(wire.last) { port = sent }
                let broadcast = flags & 1 != 0
                let source = UDPEndpoint(mac: client, ip: broadcast ? .any : IPv4Address(10, 0, 2, 100 &+ (which >> 2) % 8), port: which & 0x80 != 0 ? 68 : 2070)
                let destination = UDPEndpoint(mac: broadcast ? .broadcast : serverMAC, ip: broadcast ? .broadcast : serverIP, port: port)
                FuzzFrames.udp(from: source, to: destination, payload: payload).withUnsafeBytes { _ = server.port.offer($0) }
            case .reply:
                let payload = input.take(Int(input.u16() % 1473))
                guard let frame = FuzzFrames.reply(to: wire.last, payload: payload, mac: clients[0], ip: .any) else { continue }
                frame.withUnsafeBytes { _ = server.port.offer($0) }
            case .advance:
                guard clock.now < maxVirtualTime else { continue }
                clock.advance(by: UInt64(input.u16()) * VirtualClock.millisecond)
            }
        }
    }

    /// The UDP source port of a frame the server sent (its transfer's port).
    private static func lastSource(_ frame: [UInt8]) -> UInt16? {
        frame.withUnsafeBytes { try? UDPDatagram(parsing: $0) }?.udp.sourcePort
    }
}
