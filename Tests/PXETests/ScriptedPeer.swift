import NICCore
import Wire

/// A scripted DHCP, proxyDHCP, boot-server and TFTP peer on a `FramePort`,
/// for testing the PXE client without the real boot server. It answers
/// from a script (what to offer, which files exist, which packets to lose,
/// duplicate or reorder) and records what the client sent. Replies reach
/// the client after `latency` of virtual time, scheduled on the clock.
final class ScriptedPeer: FrameTransmitter {
    struct Host {
        var mac: MACAddress
        var ip: IPv4Address
    }

    enum DHCPMode {
        /// The DHCP server gives the address and the boot file (option 60
        /// PXEClient in its replies).
        case pxeAware
        /// The DHCP server gives only an address; a proxyDHCP sends the
        /// PXE information.
        case withProxy
        /// A plain DHCP server (no option 60) that still names a boot file,
        /// and no proxyDHCP.
        case plain
    }

    let clock: VirtualClock
    let port: FramePort
    var latency: UInt64 = 50 * VirtualClock.microsecond

    // Network.
    var dhcpServer = Host(mac: MACAddress(0x02, 0, 0, 0, 0, 0x01), ip: IPv4Address(10, 0, 0, 1))
    var proxyServer = Host(mac: MACAddress(0x02, 0, 0, 0, 0, 0x02), ip: IPv4Address(10, 0, 0, 2))
    var router = Host(mac: MACAddress(0x02, 0, 0, 0, 0, 0xFE), ip: IPv4Address(10, 0, 0, 254))
    var clientAddress = IPv4Address(10, 0, 0, 100)
    var subnetMask = IPv4Address(255, 255, 255, 0)

    // DHCP script.
    var mode = DHCPMode.pxeAware
    var bootFile = "pxelinux.0"
    /// Option 43 in the proxyDHCP offer (or the PXE-aware ACK); nil sends none.
    var vendorOptions: PXEVendorOptions?
    /// The boot file the boot server names in its 4011 ACK, per type.
    var bootServerFiles: [UInt16: String] = [:]
    var ignoreDiscovers = 0
    var ignoreRequests = 0
    var nakFirstRequest = false
    var dhcpSilent = false
    var bootServerSilent = false
    /// Extra DHCP options in the ACK.
    var extraAckOptions: [DHCPOption] = []

    // TFTP script.
    var files: [String: [UInt8]] = [:]
    var tftpSupportsOptions = true
    var maxBlockSize = 1468
    var maxWindowSize = 64
    /// Block numbers whose first transmission is lost.
    var dropBlocksOnce: Set<UInt16> = []
    /// Block numbers sent twice.
    var duplicateBlocks: Set<UInt16> = []
    /// Block numbers held back and sent after the rest of their window.
    var delayBlocksInWindow: Set<UInt16> = []
    /// Read requests ignored before one is answered.
    var ignoreReadRequests = 0
    /// Files answered with this error instead.
    var tftpErrors: [String: (UInt16, String)] = [:]
    /// Stop sending after this block (the server "dies").
    var stopAfterBlock: UInt16?
    /// Acknowledge this blksize whatever was asked.
    var oackBlockSizeOverride: Int?
    /// A rogue server: DATA blocks carry this many bytes more than the
    /// negotiated blksize (filler 0xEE after the file's bytes).
    var oversizeDataBy = 0
    /// Sends a stray DATA from a wrong port at the start of a transfer.
    var sendStrayFromWrongPort = false

    // What the client sent.
    private(set) var dhcpFromClient: [DHCPMessage] = []
    private(set) var discoveryRequests: [(to: IPv4Address, port: UInt16, message: DHCPMessage)] = []
    private(set) var readRequests: [TFTPRequest] = []
    private(set) var acks: [UInt16] = []
    private(set) var errorsFromClient: [(UInt16, String)] = []
    private(set) var arpRequests = 0
    private(set) var udpToOthers: [(UDPDatagram, [UInt8])] = []
    private(set) var dhcpSendTimes: [UInt64] = []
    /// Every frame the client put on the wire.
    private(set) var framesSeen: [[UInt8]] = []

    private struct Transfer {
        var data: [UInt8]
        var blockSize: Int
        var window: Int
        var client: UDPEndpoint
        var serverPort: UInt16
        var sentOnce: Set<Int> = []
        var dead = false
        /// Highest block sent, counted without wrapping.
        var lastSent = 0
    }

    private var transfers: [UInt16: Transfer] = [:]
    private var nextServerPort: UInt16 = 40000
    private let buffer = FrameBuffer(capacity: 70000)

    init(clock: VirtualClock, port: FramePort) {
        self.clock = clock
        self.port = port
        port.transmitter = self
    }

    // MARK: Sending

    private func deliver(_ frame: [UInt8]) {
        clock.schedule(after: latency) { [port] in
            frame.withUnsafeBytes { _ = port.offer($0) }
        }
    }

    func sendUDP(from: Host, sourcePort: UInt16, to: UDPEndpoint, payload: [UInt8]) {
        let source = UDPEndpoint(mac: from.mac, ip: from.ip, port: sourcePort)
        let built: Bool = payload.withUnsafeBytes { p in
            do throws(WireError) {
                try UDPFrame.build(buffer, from: source, to: to, payload: p)
                return true
            } catch {
                return false
            }
        }
        if built { deliver(Array(buffer.bytes)) }
    }

    // MARK: FrameTransmitter

    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        framesSeen.append(Array(frame))
        guard let ethernet = try? EthernetHeader(parsing: frame) else { return }
        if ethernet.etherType == .arp {
            handleARP(frame, ethernet)
            return
        }
        guard let datagram = try? UDPDatagram(parsing: frame) else { return }
        let payload = Array(frame[datagram.payloadRange])
        let host = [dhcpServer, proxyServer, router].first { $0.mac == ethernet.destination }
        switch datagram.udp.destinationPort {
        case 67, 4011:
            handleDHCP(datagram, payload)
        case 69:
            handleReadRequest(datagram, payload, host: host ?? dhcpServer)
        default:
            if let t = transfers[datagram.udp.destinationPort] {
                handleTFTP(datagram, payload, t)
            } else {
                udpToOthers.append((datagram, payload))
            }
        }
    }

    private func handleARP(_ frame: UnsafeRawBufferPointer, _ ethernet: EthernetHeader) {
        guard let arp = try? ARPPacket(parsing: UnsafeRawBufferPointer(rebasing: frame[14...])), arp.operation == .request else { return }
        arpRequests += 1
        guard let host = [dhcpServer, proxyServer, router].first(where: { $0.ip == arp.targetIP }) else { return }
        var out = [UInt8](repeating: 0, count: 42)
        out.withUnsafeMutableBytes { p in
            try? EthernetHeader(destination: arp.senderMAC, source: host.mac, etherType: .arp).write(to: p)
            try? arp.reply(from: host.mac).write(to: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
        }
        deliver(out)
    }

    // MARK: DHCP

    private func handleDHCP(_ datagram: UDPDatagram, _ payload: [UInt8]) {
        guard let m = payload.withUnsafeBytes({ try? DHCPMessage(parsing: $0) }), let type = m.messageType else { return }
        if datagram.udp.destinationPort == 4011 || (type == .request && m.option(.vendorSpecific) != nil && !m.clientIP.isAny) {
            discoveryRequests.append((datagram.ip.destination, datagram.udp.destinationPort, m))
            answerDiscovery(m, datagram)
            return
        }
        dhcpFromClient.append(m)
        dhcpSendTimes.append(clock.now)
        guard !dhcpSilent else { return }
        let client = UDPEndpoint(mac: .broadcast, ip: .broadcast, port: 68)
        switch type {
        case .discover:
            if ignoreDiscovers > 0 { ignoreDiscovers -= 1; return }
            sendUDP(from: dhcpServer, sourcePort: 67, to: client, payload: reply(to: m, .offer, address: true).encoded())
            if mode == .withProxy {
                sendUDP(from: proxyServer, sourcePort: 67, to: client, payload: proxyOffer(to: m).encoded())
            }
        case .request:
            if ignoreRequests > 0 { ignoreRequests -= 1; return }
            if nakFirstRequest {
                nakFirstRequest = false
                var nak = DHCPMessage(operation: .reply, transactionID: m.transactionID, clientMAC: m.clientMAC ?? .zero)
                nak.options = [DHCPOption(.messageType, [DHCPMessageType.nak.rawValue]), DHCPOption(.serverIdentifier, address: dhcpServer.ip)]
                sendUDP(from: dhcpServer, sourcePort: 67, to: client, payload: nak.encoded())
                return
            }
            sendUDP(from: dhcpServer, sourcePort: 67, to: client, payload: reply(to: m, .ack, address: true).encoded())
        default:
            break
        }
    }

    private func reply(to m: DHCPMessage, _ type: DHCPMessageType, address: Bool) -> DHCPMessage {
        var r = DHCPMessage(operation: .reply, transactionID: m.transactionID, clientMAC: m.clientMAC ?? .zero)
        r.flags = m.flags
        r.yourIP = address ? clientAddress : .any
        r.serverIP = dhcpServer.ip
        r.options = [
            DHCPOption(.messageType, [type.rawValue]),
            DHCPOption(.serverIdentifier, address: dhcpServer.ip),
            DHCPOption(.leaseTime, uint32: 3600),
            DHCPOption(.subnetMask, address: subnetMask),
            DHCPOption(.router, address: router.ip),
        ]
        if mode == .plain { r.setBootFile(bootFile) }
        if mode == .pxeAware {
            r.setBootFile(bootFile)
            r.options.append(DHCPOption(.vendorClassIdentifier, string: "PXEClient"))
            if let vendorOptions { r.options.append(DHCPOption(.vendorSpecific, vendorOptions.encoded())) }
        }
        if type == .ack { r.options += extraAckOptions }
        return r
    }

    private func proxyOffer(to m: DHCPMessage) -> DHCPMessage {
        var r = DHCPMessage(operation: .reply, transactionID: m.transactionID, clientMAC: m.clientMAC ?? .zero)
        r.serverIP = proxyServer.ip
        r.options = [
            DHCPOption(.messageType, [DHCPMessageType.offer.rawValue]),
            DHCPOption(.serverIdentifier, address: proxyServer.ip),
            DHCPOption(.vendorClassIdentifier, string: "PXEClient"),
        ]
        if let id = m.option(.clientMachineIdentifier) { r.options.append(DHCPOption(.clientMachineIdentifier, id)) }
        if let vendorOptions {
            r.options.append(DHCPOption(.vendorSpecific, vendorOptions.encoded()))
        } else {
            r.setBootFile(bootFile)
        }
        return r
    }

    private func answerDiscovery(_ m: DHCPMessage, _ datagram: UDPDatagram) {
        guard !bootServerSilent, let raw = m.option(.vendorSpecific), let v = try? PXEVendorOptions(decoding: raw),
              let item = v.bootItem, let file = bootServerFiles[item.type] else { return }
        var r = DHCPMessage(operation: .reply, transactionID: m.transactionID, clientMAC: m.clientMAC ?? .zero)
        r.yourIP = m.clientIP
        r.serverIP = proxyServer.ip
        r.setBootFile(file)
        var answer = PXEVendorOptions()
        answer.bootItem = item
        r.options = [
            DHCPOption(.messageType, [DHCPMessageType.ack.rawValue]),
            DHCPOption(.serverIdentifier, address: proxyServer.ip),
            DHCPOption(.vendorClassIdentifier, string: "PXEClient"),
            DHCPOption(.vendorSpecific, answer.encoded()),
        ]
        let to = UDPEndpoint(mac: datagram.ethernet.source, ip: datagram.ip.source, port: datagram.udp.sourcePort)
        sendUDP(from: proxyServer, sourcePort: datagram.udp.destinationPort, to: to, payload: r.encoded())
    }

    // MARK: TFTP

    private func handleReadRequest(_ datagram: UDPDatagram, _ payload: [UInt8], host: Host) {
        guard case .readRequest(let request)? = payload.withUnsafeBytes({ try? TFTPPacket(parsing: $0) }) else { return }
        readRequests.append(request)
        if ignoreReadRequests > 0 { ignoreReadRequests -= 1; return }
        // Answer as the address asked (a server beyond the router answers through it).
        let host = Host(mac: host.mac, ip: datagram.ip.destination)
        let client = UDPEndpoint(mac: datagram.ethernet.source, ip: datagram.ip.source, port: datagram.udp.sourcePort)
        let serverPort = nextServerPort
        nextServerPort &+= 1
        if let (code, text) = tftpErrors[request.filename] {
            sendTFTP(.error(code: code, message: text), from: host, port: serverPort, to: client)
            return
        }
        guard let data = files[request.filename] else {
            sendTFTP(.error(code: 1, message: "File not found"), from: host, port: serverPort, to: client)
            return
        }
        var t = Transfer(data: data, blockSize: 512, window: 1, client: client, serverPort: serverPort)
        var acked: [TFTPOption] = []
        if tftpSupportsOptions {
            for o in request.options {
                switch o.name.lowercased() {
                case TFTPOption.blockSize:
                    if let v = Int(o.value) {
                        t.blockSize = oackBlockSizeOverride ?? min(v, maxBlockSize)
                        acked.append(TFTPOption(o.name, String(t.blockSize)))
                    }
                case TFTPOption.windowSize:
                    if let v = Int(o.value) { t.window = min(v, maxWindowSize); acked.append(TFTPOption(o.name, String(t.window))) }
                case TFTPOption.transferSize:
                    acked.append(TFTPOption(o.name, String(data.count)))
                case TFTPOption.timeout:
                    acked.append(o)
                default:
                    break
                }
            }
        }
        transfers[serverPort] = t
        if acked.isEmpty {
            sendWindow(from: 1, serverPort, host: host)
        } else {
            var out = [UInt8](repeating: 0, count: 600)
            let n = out.withUnsafeMutableBytes { (try? TFTPPacket.writeOptionAcknowledgement(acked, to: $0)) ?? 0 }
            sendUDP(from: host, sourcePort: serverPort, to: client, payload: Array(out[0..<n]))
        }
    }

    private func handleTFTP(_ datagram: UDPDatagram, _ payload: [UInt8], _ t: Transfer) {
        let mac = [dhcpServer, proxyServer, router].first { $0.mac == datagram.ethernet.destination }?.mac ?? dhcpServer.mac
        let host = Host(mac: mac, ip: datagram.ip.destination)
        switch payload.withUnsafeBytes({ try? TFTPPacket(parsing: $0) }) {
        case .acknowledgement(let block)?:
            acks.append(block)
            guard let t = transfers[datagram.udp.destinationPort] else { return }
            // Block numbers wrap at 65535; take the unwrapped value nearest the last sent.
            var acked = (t.lastSent & ~0xFFFF) | Int(block)
            if acked > t.lastSent + 0x8000 { acked -= 0x10000 }
            if acked < t.lastSent - 0x8000 { acked += 0x10000 }
            sendWindow(from: acked + 1, datagram.udp.destinationPort, host: host)
        case .error(let code, let message)?:
            errorsFromClient.append((code, message))
            transfers[datagram.udp.destinationPort] = nil
        default:
            break
        }
    }

    private func blockCount(_ t: Transfer) -> Int { t.data.count / t.blockSize + 1 }

    private func sendWindow(from first: Int, _ serverPort: UInt16, host: Host) {
        guard var t = transfers[serverPort], !t.dead else { return }
        var held: [Int] = []
        for i in 0..<t.window {
            let n = first + i
            guard n >= 1, n <= blockCount(t) else { break }
            let wire = UInt16(truncatingIfNeeded: n)
            if let stop = stopAfterBlock, n > Int(stop) { t.dead = true; break }
            if delayBlocksInWindow.contains(wire), !t.sentOnce.contains(n), i + 1 < t.window, n < blockCount(t) {
                held.append(n)
                t.sentOnce.insert(n)
                continue
            }
            sendBlock(n, &t, host: host)
        }
        for n in held { sendBlock(n, &t, host: host, force: true) }
        transfers[serverPort] = t
    }

    private func sendBlock(_ n: Int, _ t: inout Transfer, host: Host, force: Bool = false) {
        let block = UInt16(truncatingIfNeeded: n)
        let start = (n - 1) * t.blockSize
        let body = Array(t.data[min(start, t.data.count)..<min(start + t.blockSize, t.data.count)])
            + [UInt8](repeating: 0xEE, count: oversizeDataBy)
        t.lastSent = max(t.lastSent, n)
        if dropBlocksOnce.contains(block), !t.sentOnce.contains(n), !force {
            t.sentOnce.insert(n)
            return
        }
        t.sentOnce.insert(n)
        if sendStrayFromWrongPort, n == 2 {
            // Once the transfer's TID is set, a packet from another port is a stranger.
            sendTFTP(.data(block: 2, payload: 0..<0), from: host, port: t.serverPort &+ 1000, to: t.client, body: [0xEE])
        }
        sendTFTP(.data(block: block, payload: 0..<0), from: host, port: t.serverPort, to: t.client, body: body)
        if duplicateBlocks.contains(block) {
            sendTFTP(.data(block: block, payload: 0..<0), from: host, port: t.serverPort, to: t.client, body: body)
        }
    }

    private func sendTFTP(_ packet: TFTPPacket, from host: Host, port: UInt16, to client: UDPEndpoint, body: [UInt8] = []) {
        var out = [UInt8](repeating: 0, count: 4 + max(body.count, 600))
        let n: Int = out.withUnsafeMutableBytes { p in
            switch packet {
            case .data(let block, _):
                _ = try? TFTPPacket.writeDataHeader(block: block, to: p)
                for (i, b) in body.enumerated() { p[4 + i] = b }
                return 4 + body.count
            case .error(let code, let message):
                return (try? TFTPPacket.writeError(TFTPErrorCode(rawValue: code) ?? .notDefined, message: message, to: p)) ?? 0
            default:
                return 0
            }
        }
        sendUDP(from: host, sourcePort: port, to: client, payload: Array(out[0..<n]))
    }
}
