import NICCore
import Wire

/// The DHCP and proxyDHCP logic (RFC 2131, PXE 2.1 section 2.2): given a
/// client's message and the port it came in on, the reply to send and
/// where, or nothing. No frames here, so it is tested with scripted
/// messages.
public struct DHCPResponder {
    /// A reply and where it goes.
    public struct Reply {
        public var message: DHCPMessage
        public var destination: UDPEndpoint
        public var sourcePort: UInt16
    }

    public let configuration: BootServerConfiguration
    public private(set) var pool: LeasePool
    /// How long an offered address stays reserved for the client.
    public var offerHold: UInt64 = 60 * VirtualClock.second

    public init(configuration: BootServerConfiguration) {
        self.configuration = configuration
        pool = LeasePool(range: configuration.pool)
    }

    /// Handles one message from `client` (its source MAC, IP and port)
    /// received on UDP port `localPort` (67 or 4011).
    public mutating func respond(to request: DHCPMessage, from client: UDPEndpoint, localPort: UInt16, now: UInt64,
                                 log: (BootServerEvent) -> Void) -> Reply? {
        guard request.operation == .request, request.hasMagicCookie,
              let mac = request.clientMAC, let type = request.messageType else { return nil }
        if request.isHTTPClient && configuration.bootService && configuration.httpPort == nil {
            // Its boot file must be a URL; without an HTTP server there is none.
            log(.ignored(mac: mac, reason: "HTTPClient, but no HTTP server (--http-port)"))
            return nil
        }
        if configuration.pxeClientsOnly && !request.isPXEClient && !request.isHTTPClient {
            log(.ignored(mac: mac, reason: "not a PXEClient (option 60)"))
            return nil
        }
        if localPort == DHCPMessage.pxeServerPort {
            // Boot-server discovery or a proxyDHCP request: a unicast
            // DHCPREQUEST (or INFORM) to 4011 gets an ACK with boot data only.
            guard configuration.bootService, type == .request || type == .inform else { return nil }
            let file = bootFile(for: request)
            log(.acknowledged(mac: mac, ip: .any, bootFile: file))
            let reply = makeReply(.ack, to: request, yourIP: .any, file: file, leaseTime: nil)
            return Reply(message: reply, destination: UDPEndpoint(mac: client.mac, ip: client.ip, port: client.port),
                         sourcePort: DHCPMessage.pxeServerPort)
        }
        return configuration.proxyDHCP
            ? proxyRespond(type, request, mac, log: log)
            : serverRespond(type, request, mac, client, now: now, log: log)
    }

    // MARK: Full DHCP server

    private mutating func serverRespond(_ type: DHCPMessageType, _ request: DHCPMessage, _ mac: MACAddress,
                                        _ client: UDPEndpoint, now: UInt64, log: (BootServerEvent) -> Void) -> Reply? {
        let file = bootFile(for: request)
        switch type {
        case .discover:
            guard let ip = pool.choose(for: mac, requested: request.addressOption(.requestedIPAddress), now: now) else {
                log(.ignored(mac: mac, reason: "address pool exhausted"))
                return nil
            }
            if pool.lease(for: mac)?.bound != true || pool.lease(for: mac)?.ip != ip {
                pool.hold(ip, for: mac, until: now &+ offerHold, bound: false)
            }
            log(.offered(mac: mac, ip: ip, bootFile: file))
            return direct(makeReply(.offer, to: request, yourIP: ip, file: file, leaseTime: configuration.leaseTime), request)

        case .request:
            // SELECTING carries option 54; when it names another server the
            // client has chosen that one, and our offer lapses.
            if let chosen = request.addressOption(.serverIdentifier), chosen != configuration.ip {
                if pool.lease(for: mac)?.bound == false { pool.release(mac) }
                log(.ignored(mac: mac, reason: "client chose server \(chosen)"))
                return nil
            }
            let wanted = request.addressOption(.requestedIPAddress) ?? (request.clientIP.isAny ? nil : request.clientIP)
            guard let wanted else {
                return nak(request, mac, "no requested address")
            }
            let ours = pool.lease(for: mac)?.ip == wanted
            guard ours || pool.isAvailable(wanted, for: mac, now: now) else {
                return nak(request, mac, "\(wanted) is not available")
            }
            let seconds = UInt64(configuration.leaseTime) * VirtualClock.second
            pool.hold(wanted, for: mac, until: now &+ seconds, bound: true)
            log(.acknowledged(mac: mac, ip: wanted, bootFile: file))
            return direct(makeReply(.ack, to: request, yourIP: wanted, file: file, leaseTime: configuration.leaseTime), request)

        case .decline:
            if let ip = request.addressOption(.requestedIPAddress), pool.lease(for: mac)?.ip == ip {
                pool.decline(ip, by: mac, until: now &+ 600 * VirtualClock.second)
                log(.declined(mac: mac, ip: ip))
            }
            return nil

        case .release:
            if let lease = pool.lease(for: mac), lease.ip == request.clientIP {
                pool.release(mac)
                log(.released(mac: mac, ip: lease.ip))
            }
            return nil

        case .inform:
            // RFC 2131 3.4: configuration only, unicast to ciaddr, no lease.
            guard !request.clientIP.isAny else { return nil }
            log(.acknowledged(mac: mac, ip: request.clientIP, bootFile: file))
            let reply = makeReply(.ack, to: request, yourIP: .any, file: file, leaseTime: nil)
            return Reply(message: reply, destination: UDPEndpoint(mac: client.mac, ip: request.clientIP, port: DHCPMessage.clientPort),
                         sourcePort: DHCPMessage.serverPort)

        case .offer, .ack, .nak:
            return nil
        }
    }

    private func nak(_ request: DHCPMessage, _ mac: MACAddress, _ reason: String) -> Reply {
        var m = DHCPMessage(operation: .reply, transactionID: request.transactionID, clientMAC: mac)
        m.clientHardwareAddress = request.clientHardwareAddress
        m.flags = request.flags
        m.relayIP = request.relayIP
        m.options = [
            DHCPOption(.messageType, [DHCPMessageType.nak.rawValue]),
            DHCPOption(.serverIdentifier, address: configuration.ip),
            DHCPOption(.message, string: reason),
        ]
        return Reply(message: m, destination: UDPEndpoint(mac: .broadcast, ip: .broadcast, port: DHCPMessage.clientPort),
                     sourcePort: DHCPMessage.serverPort)
    }

    /// RFC 2131 4.1: to ciaddr when the client has one; broadcast when it
    /// asked for it; else to yiaddr at chaddr (we know the MAC, no ARP needed).
    private func direct(_ reply: DHCPMessage, _ request: DHCPMessage) -> Reply {
        let mac = request.clientMAC ?? .broadcast
        let destination: UDPEndpoint
        if !request.clientIP.isAny {
            destination = UDPEndpoint(mac: mac, ip: request.clientIP, port: DHCPMessage.clientPort)
        } else if request.wantsBroadcast || reply.yourIP.isAny {
            destination = UDPEndpoint(mac: .broadcast, ip: .broadcast, port: DHCPMessage.clientPort)
        } else {
            destination = UDPEndpoint(mac: mac, ip: reply.yourIP, port: DHCPMessage.clientPort)
        }
        return Reply(message: reply, destination: destination, sourcePort: DHCPMessage.serverPort)
    }

    // MARK: proxyDHCP

    /// PXE 2.1 2.2.1: beside a real DHCP server the proxy answers a
    /// PXEClient's DISCOVER with an offer that carries no address, only
    /// option 60 "PXEClient", the boot server and file. The client's
    /// DHCPREQUEST for its address goes to the other server; its request
    /// for boot data comes to 4011.
    private mutating func proxyRespond(_ type: DHCPMessageType, _ request: DHCPMessage, _ mac: MACAddress,
                                       log: (BootServerEvent) -> Void) -> Reply? {
        guard request.isPXEClient || request.isHTTPClient else {
            log(.ignored(mac: mac, reason: "proxyDHCP answers PXEClients and HTTPClients only"))
            return nil
        }
        guard type == .discover else { return nil }
        let file = bootFile(for: request)
        log(.offered(mac: mac, ip: .any, bootFile: file))
        return direct(makeReply(.offer, to: request, yourIP: .any, file: file, leaseTime: nil), request)
    }

    // MARK: Reply contents

    /// The kind of client, for choosing its boot file.
    public enum ClientKind: Equatable, Sendable {
        case bios, efi, ipxe
    }

    /// iPXE marks itself with option 175 or user class "iPXE"; otherwise
    /// option 93 (RFC 4578 2.1) says BIOS (0) or an EFI type.
    public static func kind(of request: DHCPMessage) -> ClientKind {
        if request.option(.ipxeEncapsulated) != nil || request.userClasses.contains("iPXE") { return .ipxe }
        switch request.clientArchitecture {
        case nil, 0?: return .bios
        default: return .efi
        }
    }

    /// The boot file `request` gets: a name in the TFTP root, or for an
    /// HTTPClient a URL on this server's HTTP port (or the `http://` URL
    /// configured as it is).
    public func bootFile(for request: DHCPMessage) -> String {
        let c = configuration
        guard c.bootService else { return "" }
        let file = bootFileName(for: request)
        guard request.isHTTPClient, let port = c.httpPort, !file.lowercased().hasPrefix("http://") else { return file }
        return Self.url(host: c.ip, port: port, path: file)
    }

    /// The name `request` gets by its kind and architecture, before any URL is made of it.
    private func bootFileName(for request: DHCPMessage) -> String {
        let c = configuration
        let architecture = request.clientArchitecture
        let byArchitecture = architecture.flatMap { c.bootFilesByArchitecture[$0] }
        switch Self.kind(of: request) {
        case .ipxe:
            if let f = c.ipxeBootFile { return f }
            if let f = byArchitecture { return f }
            return (architecture ?? 0) == 0 ? c.biosBootFile : (c.efiBootFile ?? c.biosBootFile)
        case .efi: return byArchitecture ?? c.efiBootFile ?? c.biosBootFile
        case .bios: return byArchitecture ?? c.biosBootFile
        }
    }

    /// `http://host[:port]/path`, with the characters a URL path can't
    /// carry as they are percent-encoded (RFC 3986 §2.1).
    public static func url(host: IPv4Address, port: UInt16, path: String) -> String {
        var encoded = ""
        for byte in path.utf8.drop(while: { $0 == UInt8(ascii: "/") }) {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                encoded += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]], as: UTF8.self)
            }
        }
        return "http://\(host)" + (port == 80 ? "" : ":\(port)") + "/" + encoded
    }

    private func makeReply(_ type: DHCPMessageType, to request: DHCPMessage, yourIP: IPv4Address, file: String,
                           leaseTime: UInt32?) -> DHCPMessage {
        let c = configuration
        var m = DHCPMessage(operation: .reply, transactionID: request.transactionID, clientMAC: request.clientMAC ?? .zero)
        m.clientHardwareAddress = request.clientHardwareAddress
        m.hardwareType = request.hardwareType
        m.hardwareLength = request.hardwareLength
        m.flags = request.flags
        m.relayIP = request.relayIP
        m.clientIP = type == .ack ? request.clientIP : .any
        m.yourIP = yourIP
        guard c.bootService || c.proxyDHCP else {
            m.options = options(type, leaseTime: leaseTime)
            return m
        }
        m.serverIP = c.ip
        m.setBootFile(file)
        var options = options(type, leaseTime: leaseTime)
        options.append(DHCPOption(.tftpServerName, string: c.ip.description))
        options.append(DHCPOption(.bootfileName, string: file))
        if request.isHTTPClient {
            // UEFI 2.x §24.7.2: an HTTP Boot client takes only offers that
            // carry option 60 "HTTPClient", with the URL in option 67.
            options.append(DHCPOption(.vendorClassIdentifier, string: "HTTPClient"))
        } else if request.isPXEClient {
            // PXE 2.1 2.2.3: a reply a PXEClient may use for booting carries
            // option 60 "PXEClient"; sub-option 6 bit 3 tells it to fetch
            // `file` from siaddr without boot-server discovery.
            options.append(DHCPOption(.vendorClassIdentifier, string: "PXEClient"))
            var pxe = PXEVendorOptions()
            pxe.discoveryControl = 0x08
            options.append(DHCPOption(.vendorSpecific, pxe.encoded()))
            if let uuid = request.option(.clientMachineIdentifier) {
                options.append(DHCPOption(.clientMachineIdentifier, uuid))
            }
        }
        m.options = options
        return m
    }

    /// Message type, server identifier and (not as a proxy) the lease and
    /// network options.
    private func options(_ type: DHCPMessageType, leaseTime: UInt32?) -> [DHCPOption] {
        let c = configuration
        var options = [
            DHCPOption(.messageType, [type.rawValue]),
            DHCPOption(.serverIdentifier, address: c.ip),
        ]
        if let leaseTime, !c.proxyDHCP {
            options.append(DHCPOption(.leaseTime, uint32: leaseTime))
            options.append(DHCPOption(.renewalTime, uint32: leaseTime / 2))
            options.append(DHCPOption(.rebindingTime, uint32: leaseTime / 8 * 7))
        }
        if !c.proxyDHCP {
            options.append(DHCPOption(.subnetMask, address: c.subnetMask))
            if let router = c.router { options.append(DHCPOption(.router, address: router)) }
        }
        return options
    }
}
