import NICCore
import Wire

/// The embedded boot server: a small IPv4 host on a `FramePort` that
/// answers ARP, DHCP (or proxyDHCP) on port 67, PXE boot-server requests on
/// 4011 and TFTP on 69, and IPv6 Router Solicitations with a Router
/// Advertisement that ends a client's router discovery. Attach its port to
/// a switch or bridge like a NIC's.
///
/// Everything runs on the caller's thread, driven by frames offered to the
/// port and by the virtual clock (which a live host advances with real
/// time). Replies are built in one reused frame buffer.
public final class BootServer: FrameReceiver, UDPOutput, TCPOutput {
    public let configuration: BootServerConfiguration
    public let port: FramePort
    public let clock: VirtualClock
    @exclusivity(unchecked)
    public private(set) var dhcp: DHCPResponder
    /// The TFTP server; nil when the configuration has no TFTP root.
    public let tftp: TFTPServer?
    /// The HTTP file server over the same root; nil without `httpPort` or a root.
    public let http: HTTPServer?

    /// Every lease and transfer event, as it happens.
    @exclusivity(unchecked)
    public var onEvent: ((BootServerEvent) -> Void)?

    public struct Counters: Sendable, Equatable {
        public var framesReceived = 0
        public var framesIgnored = 0
        public var malformed = 0
        public var arpReplies = 0
        public var dhcpReplies = 0
        /// Router Advertisements sent in answer to Router Solicitations.
        public var routerAdvertisements = 0
    }

    @exclusivity(unchecked)
    public internal(set) var counters = Counters()

    /// One untagged Ethernet frame without FCS at most (1500-byte MTU).
    let transmitBuffer = FrameBuffer(capacity: 1514)
    @exclusivity(unchecked)
    private var identification: UInt16 = 0
    /// The server's IPv6 link-local address, from its MAC.
    public let linkLocalAddress: IPv6Address
    /// When the last Router Advertisement to all-nodes went out (virtual ns).
    @exclusivity(unchecked)
    var lastAllNodesAdvertisement: UInt64?

    /// Fails with a message when the TFTP root can't be used.
    public init(configuration: BootServerConfiguration, clock: VirtualClock, seed: UInt64 = 0x6E69_6373_696D) throws(BootServerError) {
        var root: TFTPRoot?
        if let path = configuration.tftpRoot {
            guard let usable = TFTPRoot(path) else { throw .tftpRootUnusable(path) }
            root = usable
        }
        self.configuration = configuration
        self.clock = clock
        linkLocalAddress = .linkLocal(modifiedEUI64: configuration.mac)
        port = FramePort(policy: .drop, maxFrameSize: 1518)
        dhcp = DHCPResponder(configuration: configuration)
        tftp = root.map { TFTPServer(root: $0, clock: clock, seed: seed) }
        http = root.flatMap { root in configuration.httpPort.map { HTTPServer(port: $0, root: root, clock: clock, seed: seed) } }
        port.receiver = self
        tftp?.output = self
        tftp?.log = { [weak self] in self?.onEvent?($0) }
        http?.output = self
        http?.log = { [weak self] in self?.onEvent?($0) }
    }

    private var endpoint: UDPEndpoint { UDPEndpoint(mac: configuration.mac, ip: configuration.ip, port: 0) }

    // MARK: Receive

    public func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
        guard let ethernet = try? EthernetHeader(parsing: frame) else {
            counters.malformed += 1
            return .filtered
        }
        guard ethernet.destination == configuration.mac || ethernet.destination.isBroadcast
            || listensTo(group: ethernet.destination) else { return .filtered }
        counters.framesReceived += 1
        switch ethernet.etherType {
        case .arp: receiveARP(frame)
        case .ipv4: receiveIPv4(frame)
        case .ipv6: receiveIPv6(frame)
        default: counters.framesIgnored += 1
        }
        return .accepted
    }

    public func linkStateDidChange(up: Bool) {}

    private func receiveARP(_ frame: UnsafeRawBufferPointer) {
        let body = UnsafeRawBufferPointer(rebasing: frame[EthernetHeader.size...])
        guard let arp = try? ARPPacket(parsing: body) else {
            counters.malformed += 1
            return
        }
        // RFC 826: answer requests for our address, to the asker directly.
        guard arp.operation == .request, arp.targetIP == configuration.ip else {
            counters.framesIgnored += 1
            return
        }
        let storage = transmitBuffer.storage
        do {
            try EthernetHeader(destination: arp.senderMAC, source: configuration.mac, etherType: .arp).write(to: storage)
            try arp.reply(from: configuration.mac).write(to: UnsafeMutableRawBufferPointer(rebasing: storage[EthernetHeader.size...]))
        } catch { return }
        transmitBuffer.setCount(EthernetHeader.size + ARPPacket.size)
        transmitBuffer.pad(to: 60)
        counters.arpReplies += 1
        port.transmit(transmitBuffer.bytes)
    }

    private func receiveIPv4(_ frame: UnsafeRawBufferPointer) {
        // The protocol byte of the IPv4 header picks the parser.
        if frame.count > EthernetHeader.size + 9, frame[EthernetHeader.size + 9] == IPProtocol.tcp.rawValue {
            receiveTCP(frame)
            return
        }
        guard let datagram = try? UDPDatagram(parsing: frame) else {
            counters.malformed += 1
            return
        }
        let to = datagram.ip.destination
        let broadcast = to.isBroadcast || to.rawValue == configuration.ip.rawValue | ~configuration.subnetMask.rawValue
        guard to == configuration.ip || broadcast else {
            counters.framesIgnored += 1
            return
        }
        let payload = UnsafeRawBufferPointer(rebasing: frame[datagram.payloadRange])
        let from = datagram.source
        switch datagram.udp.destinationPort {
        case DHCPMessage.serverPort, DHCPMessage.pxeServerPort:
            receiveDHCP(payload, from: from, localPort: datagram.udp.destinationPort)
        case TFTPServer.port where !broadcast && tftp != nil:
            tftp?.handleRequest(payload, from: from)
        case let p where !broadcast && tftp?.owns(p) == true:
            tftp?.handle(payload, from: from, localPort: p)
        default:
            counters.framesIgnored += 1
        }
    }

    private func receiveDHCP(_ payload: UnsafeRawBufferPointer, from client: UDPEndpoint, localPort: UInt16) {
        guard let message = try? DHCPMessage(parsing: payload) else {
            counters.malformed += 1
            return
        }
        let log: (BootServerEvent) -> Void = { [weak self] in self?.onEvent?($0) }
        guard let reply = dhcp.respond(to: message, from: client, localPort: localPort, now: clock.now, log: log) else { return }
        let bytes = reply.message.encoded()
        let source = UDPEndpoint(mac: configuration.mac, ip: configuration.ip, port: reply.sourcePort)
        do {
            try bytes.withUnsafeBytes { try UDPFrame.build(transmitBuffer, from: source, to: reply.destination, payload: $0, identification: nextID()) }
        } catch { return }
        counters.dhcpReplies += 1
        port.transmit(transmitBuffer.bytes)
    }

    private func receiveTCP(_ frame: UnsafeRawBufferPointer) {
        guard let segment = try? TCPSegment(parsing: frame) else {
            counters.malformed += 1
            return
        }
        // TCP is unicast only.
        guard segment.ip.destination == configuration.ip, segment.ethernet.destination == configuration.mac else {
            counters.framesIgnored += 1
            return
        }
        let payload = UnsafeRawBufferPointer(rebasing: frame[segment.payloadRange])
        guard let http else {
            // No port is open: an RST says so at once, as any host does,
            // instead of leaving the client to time out its connect.
            if let reset = segment.tcp.reset(payloadCount: payload.count) {
                sendTCP(reset, payloadCount: 0, to: UDPEndpoint(mac: segment.ethernet.source, ip: segment.ip.source, port: segment.tcp.sourcePort))
            }
            return
        }
        http.handle(segment, payload: payload)
    }

    // MARK: TCPOutput

    var tcpPayloadArea: UnsafeMutableRawBufferPointer { TCPFrame.payloadArea(of: transmitBuffer) }

    func sendTCP(_ header: TCPHeader, payloadCount: Int, to peer: UDPEndpoint) {
        do {
            try TCPFrame.finish(transmitBuffer, sourceMAC: configuration.mac, destinationMAC: peer.mac, source: configuration.ip,
                                destination: peer.ip, header: header, payloadCount: payloadCount, identification: nextID())
        } catch { return }
        port.transmit(transmitBuffer.bytes)
    }

    // MARK: UDPOutput

    var payloadArea: UnsafeMutableRawBufferPointer { UDPFrame.payloadArea(of: transmitBuffer) }

    var address: IPv4Address { configuration.ip }

    func sendUDP(payloadCount: Int, from localPort: UInt16, to destination: UDPEndpoint) {
        let source = UDPEndpoint(mac: configuration.mac, ip: configuration.ip, port: localPort)
        do {
            try UDPFrame.finish(transmitBuffer, from: source, to: destination, payloadCount: payloadCount, identification: nextID())
        } catch { return }
        transmitBuffer.pad(to: 60)
        port.transmit(transmitBuffer.bytes)
    }

    private func nextID() -> UInt16 {
        identification &+= 1
        return identification
    }
}

/// Why the server could not start.
public enum BootServerError: Error, Sendable, Equatable, CustomStringConvertible {
    case tftpRootUnusable(String)

    public var description: String {
        switch self {
        case .tftpRootUnusable(let path): "TFTP root '\(path)' is not a readable directory"
        }
    }
}
