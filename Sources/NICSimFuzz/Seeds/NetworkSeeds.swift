import Board
import BootServer
import NICCore
import PXE
import Wire

/// Seeds for the network targets. The boot server's and the PXE client's
/// come from one real boot: nicsim's PXE client on a card, cabled to
/// nicsim's boot server, DHCP to kernel; what the client sent is the
/// server's seed and what the server answered is the client's.
enum NetworkSeeds {
    static let clientMAC = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
    static let clientEndpoint = UDPEndpoint(mac: clientMAC, ip: .any, port: DHCPMessage.clientPort)
    static let broadcast = UDPEndpoint(mac: .broadcast, ip: .broadcast, port: DHCPMessage.serverPort)
    static let server = UDPEndpoint(mac: BootServerFuzz.serverMAC, ip: BootServerFuzz.serverIP, port: DHCPMessage.serverPort)

    // MARK: A recorded boot

    /// Stands between the client's card and the server, writing each side's frames down.
    final class RecordingCable: FrameTransmitter {
        let client: FramePort
        let server: FramePort
        let clock: VirtualClock
        /// The server's seed: the client's frames as `BootServerFuzz` ops, with the time between them.
        var clientSide = FuzzInputWriter()
        /// The client's seed: per client frame, the server's answers as `PXEClientFuzz` records.
        var serverSide = FuzzInputWriter()
        private var lastClientFrame: UInt64 = 0
        private var inFlight: [(FramePort, [UInt8])] = []
        private var scheduled = false

        init(client: FramePort, server: FramePort, clock: VirtualClock) {
            self.client = client
            self.server = server
            self.clock = clock
            client.transmitter = self
            server.transmitter = self
        }

        func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
            if port === client {
                let gap = (clock.now - lastClientFrame) / VirtualClock.millisecond
                if gap > 0, lastClientFrame > 0 {
                    clientSide.u8(BootServerFuzz.Op.advance.rawValue)
                    clientSide.u16(UInt16(min(gap, 0xFFFF)))
                }
                lastClientFrame = clock.now
                clientSide.u8(BootServerFuzz.Op.frame.rawValue)
                clientSide.u8(0)
                clientSide.u16(UInt16(frame.count))
                clientSide.append(frame)
                // The answers to the previous client frame are complete.
                serverSide.u8(PXEClientFuzz.Record.end.rawValue)
                inFlight.append((server, Array(frame)))
            } else {
                serverSide.u8(PXEClientFuzz.Record.frame.rawValue)
                serverSide.u8(0)
                serverSide.u16(UInt16(frame.count))
                serverSide.append(frame)
                inFlight.append((client, Array(frame)))
            }
            guard !scheduled else { return }
            scheduled = true
            _ = clock.schedule(after: VirtualClock.microsecond) { [weak self] in self?.deliver() }
        }

        private func deliver() {
            scheduled = false
            let frames = inFlight
            inFlight = []
            for (port, f) in frames { f.withUnsafeBytes { _ = port.offer($0) } }
        }
    }

    /// The client's and the server's seeds from one boot on card `kind`;
    /// `booted` says whether the client got as far as the kernel.
    static func recordedBoot(card kind: UInt8, serverFlags: UInt8) -> (client: [UInt8], server: [UInt8], booted: Bool) {
        let board = Board(memorySize: PXEClientFuzz.ramSize)
        let (device, driver) = PXEClientFuzz.card(kind, on: board)
        guard let bootServer = try? BootServer(configuration: BootServerFuzz.configuration(serverFlags), clock: board.clock),
              let client = try? PXEClient(board: board, driver: driver) else { return ([], [], false) }
        client.loader.loadLimit = UInt64(PXEClientFuzz.ramSize / 2)
        let cable = RecordingCable(client: device.port, server: bootServer.port, clock: board.clock)
        let booted = (try? client.boot()) != nil
        // The client's seed starts with the response to its first frame, so drop the leading end record.
        let answers = Array(cable.serverSide.bytes.dropFirst())
        return ([kind] + answers, [serverFlags] + cable.clientSide.bytes, booted)
    }

    /// Three boots: the client's seeds are the server's answers, the
    /// server's the client's frames, and a client that meets only a
    /// proxyDHCP (no address for it) gives the server one more.
    static let bootSeeds: (client: [(String, [UInt8])], server: [(String, [UInt8])]) = {
        let rtl = recordedBoot(card: 0, serverFlags: 0)
        let ne2k = recordedBoot(card: 1, serverFlags: 0x40)
        let virtio = recordedBoot(card: 2, serverFlags: 0x02)
        let proxy = recordedBoot(card: 0, serverFlags: 0x01)
        let booted = [rtl, ne2k, virtio].allSatisfy(\.booted) && !proxy.booted
        func seed(_ bytes: [UInt8]) -> [UInt8] { booted ? bytes : [] }
        return ([("boot-rtl8139", seed(rtl.client)), ("boot-ne2000-router", seed(ne2k.client)), ("boot-virtio-net", seed(virtio.client))],
                [("pxe-client-boot", seed(rtl.server)), ("pxe-client-meets-a-proxy", seed(proxy.server))])
    }()

    // MARK: Frames built by hand

    static func udpFrame(from: UDPEndpoint, to: UDPEndpoint, _ payload: [UInt8]) -> [UInt8] {
        payload.withUnsafeBytes { FuzzFrames.udp(from: from, to: to, payload: $0) }
    }

    static func discover(architecture: UInt16 = 0, userClass: String? = nil) -> [UInt8] {
        var m = DHCPMessage(operation: .request, transactionID: 0x1234_5678, clientMAC: clientMAC)
        m.flags = 0x8000
        m.options.append(DHCPOption(.messageType, [DHCPMessageType.discover.rawValue]))
        m.options.append(DHCPOption(.parameterRequestList, [1, 3, 6, 43, 60, 66, 67]))
        m.options.append(DHCPOption(.clientArchitecture, [UInt8(architecture >> 8), UInt8(truncatingIfNeeded: architecture)]))
        m.options.append(DHCPOption(.clientNetworkInterface, [1, 2, 1]))
        m.options.append(DHCPOption(.clientMachineIdentifier, [0] + (0..<16).map { UInt8($0) }))
        m.options.append(DHCPOption(.vendorClassIdentifier, string: "PXEClient:Arch:00000:UNDI:002001"))
        if let userClass { m.options.append(DHCPOption(.userClass, [UInt8(userClass.utf8.count)] + Array(userClass.utf8))) }
        return m.encoded()
    }

    static func offer() -> [UInt8] {
        var m = DHCPMessage(operation: .reply, transactionID: 0x1234_5678, clientMAC: clientMAC)
        m.yourIP = IPv4Address(10, 0, 2, 100)
        m.serverIP = BootServerFuzz.serverIP
        m.setBootFile("pxelinux.0")
        var vendor = PXEVendorOptions()
        vendor.discoveryControl = 3
        vendor.bootServers = [PXEVendorOptions.BootServer(type: 0x8000, addresses: [BootServerFuzz.serverIP])]
        vendor.bootMenu = [PXEVendorOptions.MenuItem(type: 0x8000, description: "nicsim")]
        vendor.menuPrompt = PXEVendorOptions.MenuPrompt(timeout: 5, prompt: "Press F8")
        m.options = [DHCPOption(.messageType, [DHCPMessageType.offer.rawValue]),
                     DHCPOption(.serverIdentifier, address: BootServerFuzz.serverIP),
                     DHCPOption(.subnetMask, address: IPv4Address(255, 255, 255, 0)),
                     DHCPOption(.leaseTime, uint32: 3600),
                     DHCPOption(.vendorClassIdentifier, string: "PXEClient"),
                     DHCPOption(.vendorSpecific, vendor.encoded())]
        return m.encoded()
    }

    static func tftpRequest(_ name: String, mode: String = "octet", options: [TFTPOption]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 512)
        let request = TFTPRequest(filename: name, mode: mode, options: options)
        let n = out.withUnsafeMutableBytes { (try? TFTPPacket.writeRequest(.readRequest, request, to: $0)) ?? 0 }
        return Array(out.prefix(n))
    }

    static func arpRequest() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 60)
        let arp = ARPPacket(operation: .request, senderMAC: clientMAC, senderIP: IPv4Address(10, 0, 2, 100), targetMAC: .zero,
                            targetIP: BootServerFuzz.serverIP)
        out.withUnsafeMutableBytes { p in
            try? EthernetHeader(destination: .broadcast, source: clientMAC, etherType: .arp).write(to: p)
            try? arp.write(to: UnsafeMutableRawBufferPointer(rebasing: p[EthernetHeader.size...]))
        }
        return out
    }

    static func routerSolicitation() -> [UInt8] {
        let buffer = FrameBuffer(capacity: 256)
        let source = IPv6Address.linkLocal(modifiedEUI64: clientMAC)
        let n = (try? RouterSolicitation(sourceLinkLayerAddress: clientMAC)
            .write(to: ICMPv6Frame.messageArea(of: buffer), source: source, destination: .allRouters)) ?? 0
        try? ICMPv6Frame.finish(buffer, from: clientMAC, source, to: IPv6Address.allRouters.multicastMAC, .allRouters, hopLimit: 255, messageCount: n)
        return Array(buffer.bytes)
    }

    static func routerAdvertisement() -> [UInt8] {
        let buffer = FrameBuffer(capacity: 256)
        let source = IPv6Address.linkLocal(modifiedEUI64: BootServerFuzz.serverMAC)
        let n = (try? RouterAdvertisement(routerLifetime: 0, sourceLinkLayerAddress: BootServerFuzz.serverMAC)
            .write(to: ICMPv6Frame.messageArea(of: buffer), source: source, destination: .allNodes)) ?? 0
        try? ICMPv6Frame.finish(buffer, from: BootServerFuzz.serverMAC, source, to: IPv6Address.allNodes.multicastMAC, .allNodes,
                                hopLimit: 255, messageCount: n)
        return Array(buffer.bytes)
    }

    static func wire() -> [(String, [UInt8])] {
        let tftp = tftpRequest("pxelinux.cfg/01-52-54-00-12-34-56", options: [TFTPOption("blksize", "1432"), TFTPOption("tsize", "0")])
        return [
            ("dhcp-discover", [1] + udpFrame(from: clientEndpoint, to: broadcast, discover())),
            ("dhcp-offer-pxe-options", [1] + udpFrame(from: server, to: UDPEndpoint(mac: clientMAC, ip: .broadcast, port: 68), offer())),
            ("tftp-read-request", [1] + udpFrame(from: UDPEndpoint(mac: clientMAC, ip: IPv4Address(10, 0, 2, 100), port: 2070),
                                                  to: UDPEndpoint(mac: BootServerFuzz.serverMAC, ip: BootServerFuzz.serverIP, port: 69), tftp)),
            ("arp-request", [0] + arpRequest()),
            ("router-solicitation", [1] + routerSolicitation()),
            ("router-advertisement", [0] + routerAdvertisement()),
        ]
    }

    /// The boot server's seeds built by hand: what the recorded boot does not do.
    static func serverByHand() -> [(String, [UInt8])] {
        typealias Op = BootServerFuzz.Op
        var w = FuzzInputWriter()
        w.u8(0x30)  // EFI and iPXE boot files
        func udp(_ which: UInt8, broadcast: Bool, _ payload: [UInt8]) {
            w.u8(Op.udp.rawValue)
            w.u8(0)
            w.u8(which)
            w.u8(broadcast ? 1 : 0)
            w.u16(UInt16(payload.count))
            w.append(payload)
        }
        func frame(_ f: [UInt8], fix: Bool = false) {
            w.u8(Op.frame.rawValue)
            w.u8(fix ? 1 : 0)
            w.u16(UInt16(f.count))
            w.append(f)
        }
        func reply(_ payload: [UInt8]) {
            w.u8(Op.reply.rawValue)
            w.u16(UInt16(payload.count))
            w.append(payload)
        }
        udp(0x80, broadcast: true, discover(architecture: 7, userClass: "iPXE"))
        frame(arpRequest())
        frame(routerSolicitation())
        // A windowed transfer of 70 KiB in 1024-byte blocks; the client
        // acknowledges the option acknowledgement, then two windows.
        udp(2 | 0x80, broadcast: false, tftpRequest("large.bin", options: [TFTPOption("blksize", "1024"), TFTPOption("windowsize", "4"),
                                                                             TFTPOption("tsize", "0"), TFTPOption("timeout", "2")]))
        reply([0, 4, 0, 0])
        reply([0, 4, 0, 4])
        w.u8(Op.advance.rawValue)
        w.u16(2500)
        reply([0, 4, 0, 8])
        reply([0, 5, 0, 0] + Array("enough\0".utf8))
        udp(2, broadcast: false, tftpRequest("escape", options: []))
        udp(2, broadcast: false, tftpRequest("../etc/passwd", options: []))
        udp(2, broadcast: false, tftpRequest("notes.txt", mode: "netascii", options: []))
        reply([0, 4, 0, 1])
        return [("hand-windowed-transfer-and-refusals", w.bytes)]
    }

    // MARK: PXE API calls

    /// A PXE API call stream for `PXEAPIFuzz`.
    struct Calls {
        var w = FuzzInputWriter()
        init(flags: UInt8) { w.u8(flags) }

        mutating func call(_ opcode: PXEOpcode, bangPXE: Bool = false, _ block: [UInt8]) {
            w.u8(PXEAPIFuzz.Op.call.rawValue)
            w.u8(UInt8(PXEOpcode.allCases.firstIndex(of: opcode)!))
            w.u8(bangPXE ? 1 : 0)
            w.u8(UInt8(block.count))
            w.append(block)
        }
        mutating func memory(_ address: UInt32, _ bytes: [UInt8]) {
            w.u8(PXEAPIFuzz.Op.memoryWrite.rawValue)
            w.u32(address)
            w.u16(UInt16(bytes.count))
            w.append(bytes)
        }
        mutating func advance(milliseconds: UInt16) {
            w.u8(PXEAPIFuzz.Op.advance.rawValue)
            w.u16(milliseconds)
        }
    }

    /// A parameter block: little-endian fields at their offsets.
    struct Block {
        var bytes: [UInt8]
        init(_ size: Int) { bytes = [UInt8](repeating: 0, count: size) }
        mutating func u16(_ at: Int, _ v: UInt16) { bytes[at] = UInt8(truncatingIfNeeded: v); bytes[at + 1] = UInt8(v >> 8) }
        mutating func u32(_ at: Int, _ v: UInt32) { u16(at, UInt16(truncatingIfNeeded: v)); u16(at + 2, UInt16(v >> 16)) }
        /// A SEGOFF16: offset, then segment.
        mutating func far(_ at: Int, segment: UInt16, offset: UInt16) { u16(at, offset); u16(at + 2, segment) }
        /// An IP4_t, in network order.
        mutating func ip(_ at: Int, _ a: IPv4Address) { for (i, b) in a.bytes.enumerated() { bytes[at + i] = b } }
        mutating func string(_ at: Int, _ s: String) { for (i, b) in s.utf8.enumerated() { bytes[at + i] = b } }
        /// A UDP_PORT_t, in network order.
        mutating func port(_ at: Int, _ p: UInt16) { bytes[at] = UInt8(p >> 8); bytes[at + 1] = UInt8(truncatingIfNeeded: p) }
    }

    static func apiCalls() -> [(String, [UInt8])] {
        let serverIP = BootServerFuzz.serverIP
        var a = Calls(flags: 0)
        for type: UInt16 in [1, 2, 3] {
            var b = Block(12)
            b.u16(2, type)
            b.u16(4, 1260)
            b.far(6, segment: 0x3000, offset: 0)
            a.call(.getCachedInfo, bangPXE: type == 3, b.bytes)
        }
        a.call(.undiGetInformation, Block(40).bytes)
        a.call(.undiGetIfaceInfo, Block(40).bytes)
        a.call(.undiGetNICType, Block(40).bytes)
        a.call(.undiGetStatistics, Block(20).bytes)
        var filter = Block(4)
        filter.bytes[2] = 0x07
        a.call(.undiSetPacketFilter, filter.bytes)

        var t = Calls(flags: 1)
        var size = Block(142)
        size.ip(2, serverIP)
        size.string(10, "vmlinuz")
        t.call(.tftpGetFileSize, size.bytes)
        var whole = Block(158)
        whole.string(2, "initrd.img")
        whole.u32(130, 0x10000)
        whole.u32(134, 0x10_0000)
        whole.ip(138, serverIP)
        t.call(.tftpReadFile, whole.bytes)
        var open = Block(142)
        open.ip(2, serverIP)
        open.string(10, "pxelinux.cfg/default")
        open.u16(140, 512)
        t.call(.tftpOpen, open.bytes)
        var read = Block(10)
        read.far(6, segment: 0x3000, offset: 0)
        t.call(.tftpRead, read.bytes)
        t.call(.tftpRead, bangPXE: true, read.bytes)
        t.call(.tftpClose, Block(2).bytes)
        var restart = whole
        restart.string(2, "pxelinux.0\0\0")
        restart.u32(130, 0x8000)
        t.call(.restartTFTP, restart.bytes)

        var u = Calls(flags: 2)
        u.call(.udpOpen, Block(6).bytes)
        let rrq = tftpRequest("boot.ipxe", options: [])
        u.memory(0x3_0000, rrq)
        var write = Block(20)
        write.ip(2, serverIP)
        write.port(10, 2071)
        write.port(12, 69)
        write.u16(14, UInt16(rrq.count))
        write.far(16, segment: 0x3000, offset: 0)
        u.call(.udpWrite, write.bytes)
        u.advance(milliseconds: 5)
        var udpRead = Block(20)
        udpRead.port(12, 2071)
        udpRead.u16(14, 600)
        udpRead.far(16, segment: 0x3100, offset: 0)
        u.call(.udpRead, udpRead.bytes)
        u.call(.udpClose, Block(2).bytes)
        // UNDI TRANSMIT of a broadcast frame from a TBD at 0x3200:0000.
        let payload = DeviceSeeds.frame(to: .broadcast, length: 60)
        u.memory(0x3_3000, payload)
        var tbd = Block(16)
        tbd.u16(0, UInt16(payload.count))
        tbd.far(2, segment: 0x3300, offset: 0)
        u.memory(0x3_2000, tbd.bytes)
        var transmit = Block(16)
        transmit.bytes[2] = 0
        transmit.far(8, segment: 0x3200, offset: 0)
        u.call(.undiTransmit, transmit.bytes)
        for function: UInt16 in [1, 2, 3] {
            var isr = Block(16)
            isr.u16(2, function)
            u.call(.undiISR, isr.bytes)
        }
        u.call(.stopBase, Block(2).bytes)
        u.call(.startBase, Block(2).bytes)
        u.call(.undiClose, Block(2).bytes)
        u.call(.undiShutdown, Block(2).bytes)
        u.call(.stopUNDI, Block(2).bytes)
        return [("cached-info-and-undi-queries", a.w.bytes), ("tftp-calls", t.w.bytes), ("udp-and-undi-transmit", u.w.bytes)]
    }
}
