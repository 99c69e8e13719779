import NICCore
import UNDI
import Wire

/// What the PXE client says about itself in DHCP.
public struct PXEClientIdentity: Sendable, Equatable {
    /// Option 93, client system architecture (RFC 4578): 0 is x86 BIOS.
    public var architecture: UInt16 = 0
    /// Option 94, UNDI version (type 1 = UNDI, major, minor): 2.1.
    public var undiMajor: UInt8 = 2
    public var undiMinor: UInt8 = 1
    /// Option 97, the machine's UUID (16 bytes, sent after type 0). Nil
    /// sends no option 97.
    public var uuid: [UInt8]?

    public init(architecture: UInt16 = 0, uuid: [UInt8]? = nil) {
        self.architecture = architecture
        self.uuid = uuid
    }

    /// Option 60: "PXEClient:Arch:xxxxx:UNDI:yyyzzz", architecture in five
    /// decimal digits, UNDI major and minor in three each.
    public var vendorClass: String {
        func digits(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "PXEClient:Arch:\(digits(Int(architecture), 5)):UNDI:\(digits(Int(undiMajor), 3))\(digits(Int(undiMinor), 3))"
    }
}

/// Timing of the DHCP exchanges, all on the virtual clock.
public struct DHCPTiming: Sendable, Equatable {
    /// PXE 2.1: DHCPDISCOVER (and DHCPREQUEST) are sent up to four times,
    /// waiting 4, 8, 16 and 32 seconds for an answer.
    public var dhcpTimeouts: [UInt64] = [4, 8, 16, 32].map { $0 * VirtualClock.second }
    /// PXE 2.1 boot-server discovery: four attempts, waiting 1, 2, 3 and 4 s.
    public var discoveryTimeouts: [UInt64] = [1, 2, 3, 4].map { $0 * VirtualClock.second }
    /// After an address offer without PXE information, how long to keep
    /// listening for a proxyDHCP offer (within the current timeout).
    public var proxyWait: UInt64 = 2 * VirtualClock.second

    public init() {}
}

/// Everything the DHCP phase learnt: the address, the three packets
/// GET_CACHED_INFO hands out, and the boot file.
public struct DHCPResult: Sendable {
    public var address: IPv4Address
    public var subnetMask: IPv4Address
    public var router: IPv4Address
    public var serverIdentifier: IPv4Address
    /// PXENV_PACKET_TYPE_DHCP_DISCOVER
    public var discover: DHCPMessage
    /// PXENV_PACKET_TYPE_DHCP_ACK
    public var ack: DHCPMessage
    /// PXENV_PACKET_TYPE_CACHED_REPLY: the boot server's ACK, or the
    /// proxyDHCP offer, or (with neither) the DHCP ACK itself.
    public var bootReply: DHCPMessage
    /// The proxyDHCP offer, if one came.
    public var proxyOffer: DHCPMessage?
    /// The boot-server type chosen from the option 43 menu, if discovery ran.
    public var bootItem: PXEVendorOptions.BootItem?
    public var bootFile: String
    /// Where to fetch the boot file: siaddr of the reply naming it, or its
    /// server identifier.
    public var tftpServer: IPv4Address
}

/// The PXE client's DHCP: DISCOVER, OFFER, REQUEST, ACK with the PXE
/// options, proxyDHCP, and boot-server discovery on port 4011.
public final class DHCPClient {
    public let ip: IPStack
    @exclusivity(unchecked)
    public var identity: PXEClientIdentity
    @exclusivity(unchecked)
    public var timing = DHCPTiming()
    /// Boot-server type to pick from an option 43 menu; nil takes the first
    /// item (as a ROM does when the menu prompt times out).
    @exclusivity(unchecked)
    public var menuSelection: UInt16?
    /// Progress, as it happens.
    @exclusivity(unchecked)
    public var onEvent: ((PXEEvent) -> Void)?
    @exclusivity(unchecked)
    private var random: SeededRandom
    /// Without a seed the transaction IDs come from the station address,
    /// read at the first run: before UNDI bring-up the driver may not know
    /// it yet, and clients sharing a link must not share IDs.
    @exclusivity(unchecked)
    private var seedFromStation: Bool
    @exclusivity(unchecked)
    private var transactionID: UInt32 = 0
    @exclusivity(unchecked)
    private var startTime: UInt64 = 0

    public init(ip: IPStack, identity: PXEClientIdentity = PXEClientIdentity(), seed: UInt64? = nil) {
        self.ip = ip
        self.identity = identity
        random = SeededRandom(seed: seed ?? ip.mac.rawValue)
        seedFromStation = seed == nil
    }

    /// Option 55: the parameters a PXE 2.1 client asks for.
    static let parameterRequestList: [UInt8] = [1, 2, 3, 4, 5, 6, 11, 12, 13, 15, 16, 17, 18, 22, 23, 28, 40, 41, 42, 43,
                                                50, 51, 54, 58, 59, 60, 66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135]

    /// Runs the whole DHCP phase and configures `ip`. Throws DHCP_TIMEOUT
    /// when no server answers, DHCP_NO_BOOTFILE_NAME when none names a file,
    /// BSTRAP_NO_RESPONSE when no boot server answers discovery.
    public func run() throws(PXEStatus) -> DHCPResult {
        if seedFromStation {
            seedFromStation = false
            random = SeededRandom(seed: ip.mac.rawValue)
        }
        startTime = ip.clock.now
        ip.address = .any
        ip.subnetMask = .any
        ip.router = .any
        var naks = 0
        while true {
            transactionID = UInt32(truncatingIfNeeded: random.next())
            let discover = message(.discover)
            let (offer, proxy) = try collectOffers(discover)
            guard let ack = try request(offer) else {
                naks += 1
                guard naks < 3 else { throw .dhcpNoIPAddress }
                continue
            }
            configure(from: ack)
            return try bootInformation(discover: discover, ack: ack, proxy: proxy ?? (ack.isPXEClient ? nil : offer.isPXEClient ? offer : nil))
        }
    }

    // MARK: Messages

    func message(_ type: DHCPMessageType) -> DHCPMessage {
        var m = DHCPMessage(operation: .request, transactionID: transactionID, clientMAC: ip.mac)
        m.flags = 0x8000
        m.seconds = UInt16(clamping: (ip.clock.now - startTime) / VirtualClock.second)
        m.options.append(DHCPOption(.messageType, [type.rawValue]))
        m.options.append(DHCPOption(.maximumMessageSize, [0x04, 0xEC]))  // 1260: a BOOTPLAYER
        m.options.append(DHCPOption(.parameterRequestList, Self.parameterRequestList))
        m.options.append(DHCPOption(.clientArchitecture, [UInt8(identity.architecture >> 8), UInt8(identity.architecture & 0xFF)]))
        m.options.append(DHCPOption(.clientNetworkInterface, [1, identity.undiMajor, identity.undiMinor]))
        if let uuid = identity.uuid, uuid.count == 16 {
            m.options.append(DHCPOption(.clientMachineIdentifier, [0] + uuid))
        }
        m.options.append(DHCPOption(.vendorClassIdentifier, string: identity.vendorClass))
        return m
    }

    private func send(_ m: DHCPMessage, to server: IPv4Address = .broadcast, port: UInt16 = DHCPMessage.serverPort) throws(PXEStatus) {
        let bytes = m.encoded()
        try ip.sendUDP(to: server, port: port, from: DHCPMessage.clientPort) { room in
            let n = min(bytes.count, room.count)
            bytes.withUnsafeBytes { if let s = $0.baseAddress, let d = room.baseAddress { d.copyMemory(from: s, byteCount: n) } }
            return n
        }
    }

    /// Waits up to `timeout` for replies to our transaction; `accept` sees
    /// each and returns true to stop waiting.
    private func listen(timeout: UInt64, _ accept: (DHCPMessage) -> Bool) {
        let xid = transactionID
        let mac = ip.mac
        _ = ip.waitUDP(timeout: timeout) { datagram, payload in
            guard datagram.udp.destinationPort == DHCPMessage.clientPort,
                  let m = try? DHCPMessage(parsing: payload),
                  m.operation == .reply, m.transactionID == xid, m.clientMAC == mac else { return false }
            return accept(m)
        }
    }

    // MARK: DISCOVER / OFFER

    /// Sends DISCOVER with the PXE back-off until an address offer comes;
    /// keeps listening a little for a proxyDHCP offer when the address offer
    /// carries no PXE information.
    private func collectOffers(_ discover: DHCPMessage) throws(PXEStatus) -> (DHCPMessage, DHCPMessage?) {
        var addressOffer: DHCPMessage?
        var proxyOffer: DHCPMessage?
        for (attempt, timeout) in timing.dhcpTimeouts.enumerated() {
            onEvent?(.dhcpDiscover(attempt: attempt + 1))
            var d = discover
            d.seconds = UInt16(clamping: (ip.clock.now - startTime) / VirtualClock.second)
            try send(d)
            let deadline = ip.clock.now + timeout
            var stopAt = deadline
            // Each pass takes one offer or lets time run out; a flood of
            // offers can't hold the client here past this many.
            var passes = 0
            while ip.clock.now < stopAt, passes < 1024 {
                passes += 1
                listen(timeout: stopAt - ip.clock.now) { m in
                    guard m.messageType == .offer else { return false }
                    let server = m.addressOption(.serverIdentifier) ?? m.serverIP
                    self.onEvent?(.dhcpOffer(server: server, address: m.yourIP, proxy: m.yourIP.isAny))
                    if !m.yourIP.isAny {
                        if addressOffer == nil { addressOffer = m }
                    } else if m.isPXEClient, proxyOffer == nil {
                        proxyOffer = m
                    }
                    return true
                }
                if let offer = addressOffer {
                    if offer.isPXEClient || proxyOffer != nil { return (offer, proxyOffer) }
                    stopAt = min(deadline, max(stopAt == deadline ? ip.clock.now + timing.proxyWait : stopAt, ip.clock.now))
                }
            }
            if let offer = addressOffer { return (offer, proxyOffer) }
        }
        throw .dhcpTimeout
    }

    // MARK: REQUEST / ACK

    /// Requests the offered address; nil on NAK.
    private func request(_ offer: DHCPMessage) throws(PXEStatus) -> DHCPMessage? {
        var r = message(.request)
        r.options.insert(DHCPOption(.requestedIPAddress, address: offer.yourIP), at: 1)
        if let server = offer.addressOption(.serverIdentifier) {
            r.options.insert(DHCPOption(.serverIdentifier, address: server), at: 2)
        }
        for timeout in timing.dhcpTimeouts {
            r.seconds = UInt16(clamping: (ip.clock.now - startTime) / VirtualClock.second)
            onEvent?(.dhcpRequest(address: offer.yourIP, server: offer.addressOption(.serverIdentifier) ?? offer.serverIP))
            try send(r)
            var reply: DHCPMessage?
            listen(timeout: timeout) { m in
                guard m.messageType == .ack || m.messageType == .nak else { return false }
                reply = m
                return true
            }
            if let reply {
                if reply.messageType == .ack {
                    onEvent?(.dhcpAck(address: reply.yourIP))
                    return reply
                }
                onEvent?(.dhcpNak(server: reply.addressOption(.serverIdentifier) ?? reply.serverIP))
                return nil
            }
        }
        throw .dhcpTimeout
    }

    private func configure(from ack: DHCPMessage) {
        ip.address = ack.yourIP
        ip.subnetMask = ack.addressOption(.subnetMask) ?? IPStack.classfulMask(ack.yourIP)
        if let routers = ack.option(.router), routers.count >= 4, let r = IPv4Address(bytes: routers.prefix(4)) {
            ip.router = r
        }
    }

    // MARK: Boot information

    private func bootInformation(discover: DHCPMessage, ack: DHCPMessage, proxy: DHCPMessage?) throws(PXEStatus) -> DHCPResult {
        var result = DHCPResult(
            address: ip.address, subnetMask: ip.subnetMask, router: ip.router,
            serverIdentifier: ack.addressOption(.serverIdentifier) ?? ack.serverIP,
            discover: discover, ack: ack, bootReply: ack, proxyOffer: proxy, bootItem: nil,
            bootFile: "", tftpServer: .any)
        // PXE information comes from the proxyDHCP offer, or from the ACK of
        // a DHCP server that is itself PXE-aware.
        let source = proxy ?? (ack.isPXEClient ? ack : nil)
        var reply = source ?? ack
        if let source, let raw = source.option(.vendorSpecific), let vendor = try? PXEVendorOptions(decoding: raw),
           wantsDiscovery(vendor, source) {
            let (item, ackFromServer) = try discoverBootServer(vendor, from: source)
            result.bootItem = item
            reply = ackFromServer
        }
        result.bootReply = reply
        let file = Self.bootFileName(reply) ?? Self.bootFileName(ack)
        guard let file, !file.isEmpty else { throw .dhcpNoBootfileName }
        result.bootFile = file
        result.tftpServer = !reply.serverIP.isAny ? reply.serverIP
            : reply.addressOption(.serverIdentifier) ?? (!ack.serverIP.isAny ? ack.serverIP : result.serverIdentifier)
        onEvent?(.bootFile(name: file, server: result.tftpServer))
        return result
    }

    static func bootFileName(_ m: DHCPMessage) -> String? {
        let file = m.bootFileName
        if !file.isEmpty { return file }
        return m.stringOption(.bootfileName).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Discovery runs when option 43 lists boot servers or a menu, unless
    /// PXE_DISCOVERY_CONTROL bit 3 says to take the boot file as given.
    private func wantsDiscovery(_ v: PXEVendorOptions, _ source: DHCPMessage) -> Bool {
        let control = v.discoveryControl ?? 0
        if control & 0x08 != 0, Self.bootFileName(source) != nil { return false }
        return !v.bootMenu.isEmpty || !v.bootServers.isEmpty
    }

    /// Boot-server discovery: a DHCPREQUEST carrying option 43 sub-option 71
    /// (the chosen server type, layer 0), unicast to port 4011 of the
    /// servers listed for that type (or of the proxyDHCP server), or
    /// broadcast to port 67 when the list is empty and broadcast discovery
    /// is allowed (PXE_DISCOVERY_CONTROL bit 0 clear).
    private func discoverBootServer(_ v: PXEVendorOptions, from source: DHCPMessage) throws(PXEStatus) -> (PXEVendorOptions.BootItem, DHCPMessage) {
        // PXE_MENU_PROMPT: the ROM shows the prompt for `timeout` seconds and,
        // with no key pressed, boots the first menu item. 0 boots it at
        // once; 255 would wait for a key forever, which a machine without a
        // keyboard never presses, so it too takes the first item.
        if menuSelection == nil, let prompt = v.menuPrompt, prompt.timeout > 0, prompt.timeout < 255 {
            ip.undi.bus.delay(UInt64(prompt.timeout) * VirtualClock.second)
        }
        let type = menuSelection ?? v.bootMenu.first?.type ?? v.bootServers.first?.type ?? 0
        // Type 0 is "local boot": the ROM boots from disk, no NBP.
        guard type != 0 else { throw .bootstrapPromptMenu }
        let control = v.discoveryControl ?? 0
        var targets: [(IPv4Address, UInt16)] = (v.bootServers.first { $0.type == type }?.addresses ?? []).map { ($0, DHCPMessage.pxeServerPort) }
        if targets.isEmpty {
            if control & 0x04 != 0 { throw .bootstrapMissingList }
            if let server = source.addressOption(.serverIdentifier) ?? (source.serverIP.isAny ? nil : source.serverIP),
               source.yourIP.isAny {
                targets = [(server, DHCPMessage.pxeServerPort)]
            } else if control & 0x01 == 0 {
                targets = [(.broadcast, DHCPMessage.serverPort)]
            } else {
                throw .bootstrapMissingList
            }
        }
        let item = PXEVendorOptions.BootItem(type: type, layer: 0)
        var item43 = PXEVendorOptions()
        item43.bootItem = item
        transactionID = UInt32(truncatingIfNeeded: random.next())
        var r = message(.request)
        r.clientIP = ip.address
        r.flags = 0
        r.options.append(DHCPOption(.vendorSpecific, item43.encoded()))
        for timeout in timing.discoveryTimeouts {
            for (server, port) in targets {
                onEvent?(.bootServerDiscovery(type: type, server: server))
                r.seconds = UInt16(clamping: (ip.clock.now - startTime) / VirtualClock.second)
                try send(r, to: server, port: port)
            }
            var reply: DHCPMessage?
            listen(timeout: timeout) { m in
                guard m.messageType == .ack else { return false }
                if let raw = m.option(.vendorSpecific), let answer = try? PXEVendorOptions(decoding: raw),
                   let answered = answer.bootItem, answered.type != type { return false }
                reply = m
                return true
            }
            if let reply { return (item, reply) }
        }
        throw .bootstrapNoResponse
    }
}

extension IPStack {
    /// The class A/B/C mask, for a DHCP server that sends no option 1.
    static func classfulMask(_ a: IPv4Address) -> IPv4Address {
        switch a[0] {
        case 0..<128: IPv4Address(255, 0, 0, 0)
        case 128..<192: IPv4Address(255, 255, 0, 0)
        default: IPv4Address(255, 255, 255, 0)
        }
    }
}
