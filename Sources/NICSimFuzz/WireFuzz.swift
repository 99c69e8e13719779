import NICCore
import Wire

/// The wire formats the PXE client and the BootServer share. Input: one
/// flags byte, then the bytes. The bytes are parsed as an Ethernet frame
/// through every layer (ARP, IPv4/UDP with DHCP, PXE option 43 and TFTP
/// behind it, IPv6 with ICMPv6 router discovery), and also, raw, by each
/// message parser on its own. Flags bit 0 repairs the frame's checksums
/// first, so mutations reach the layers behind them.
///
/// Beyond "never traps", the codecs must agree with themselves: a parsed
/// DHCP message or TFTP request encodes to bytes that parse back to the
/// same value, and encoded PXE sub-options decode again.
enum WireFuzz {
    static func run(_ input: inout FuzzInput) {
        let flags = input.u8()
        var frame = Array(input.rest())
        if flags & 1 != 0 { FrameChecksums.fix(&frame) }
        frame.withUnsafeBytes { bytes in
            parseFrame(bytes)
            parseMessages(bytes)
        }
    }

    private static func parseFrame(_ frame: UnsafeRawBufferPointer) {
        guard let ethernet = try? EthernetHeader(parsing: frame) else { return }
        let body = UnsafeRawBufferPointer(rebasing: frame[EthernetHeader.size...])
        switch ethernet.etherType {
        case .arp:
            if let arp = try? ARPPacket(parsing: body) {
                var out = [UInt8](repeating: 0, count: ARPPacket.size)
                out.withUnsafeMutableBytes { try? arp.reply(from: ethernet.destination).write(to: $0) }
                let back = out.withUnsafeBytes { try? ARPPacket(parsing: $0) }
                precondition(back?.targetIP == arp.senderIP, "an ARP reply does not parse back")
            }
        case .ipv4:
            guard let datagram = try? UDPDatagram(parsing: frame) else { return }
            _ = (datagram.source, datagram.destination)
            let payload = UnsafeRawBufferPointer(rebasing: frame[datagram.payloadRange.clamped(to: 0..<frame.count)])
            parseDHCP(payload)
            parseTFTP(payload)
        case .ipv6:
            _ = try? IPv6Header(parsing: body)
            guard let packet = try? ICMPv6Packet(parsing: frame) else { return }
            let message = UnsafeRawBufferPointer(rebasing: frame[packet.messageRange.clamped(to: 0..<frame.count)])
            _ = try? ICMPv6Header(parsing: message, source: packet.ip.source, destination: packet.ip.destination)
            _ = try? RouterSolicitation(parsing: message, ip: packet.ip)
            _ = try? RouterAdvertisement(parsing: message, ip: packet.ip)
        default:
            return
        }
    }

    /// Each message parser on the bare bytes, without the envelopes.
    private static func parseMessages(_ bytes: UnsafeRawBufferPointer) {
        _ = try? ARPPacket(parsing: bytes)
        _ = try? IPv4Header(parsing: bytes)
        _ = try? IPv6Header(parsing: bytes)
        _ = try? UDPHeader(parsing: bytes, source: IPv4Address(10, 0, 2, 2), destination: .broadcast)
        parseDHCP(bytes)
        parseTFTP(bytes)
        parseVendorOptions(Array(bytes))
        _ = try? NDOptions.sourceLinkLayerAddress(in: bytes)
        let text = String(decoding: bytes.prefix(64), as: UTF8.self)
        _ = IPv4Address(text)
        _ = MACAddress(text)
    }

    private static func parseDHCP(_ bytes: UnsafeRawBufferPointer) {
        guard let message = try? DHCPMessage(parsing: bytes) else { return }
        _ = (message.messageType, message.clientMAC, message.isPXEClient, message.clientArchitecture,
             message.userClasses, message.bootFileName, message.serverHostName, message.wantsBroadcast,
             message.addressOption(.serverIdentifier), message.uint32Option(.leaseTime))
        if let vendor = message.option(.vendorSpecific) { parseVendorOptions(vendor) }
        let encoded = message.encoded()
        let again = encoded.withUnsafeBytes { try? DHCPMessage(parsing: $0) }
        precondition(again == message, "a parsed DHCP message does not survive encoding")
    }

    private static func parseTFTP(_ bytes: UnsafeRawBufferPointer) {
        guard let packet = try? TFTPPacket(parsing: bytes) else { return }
        var out = [UInt8](repeating: 0, count: 4 * bytes.count + 64)
        let written: Int? = out.withUnsafeMutableBytes { out in
            switch packet {
            case .readRequest(let r): try? TFTPPacket.writeRequest(.readRequest, r, to: out)
            case .writeRequest(let r): try? TFTPPacket.writeRequest(.writeRequest, r, to: out)
            case .optionAcknowledgement(let o): try? TFTPPacket.writeOptionAcknowledgement(o, to: out)
            case .data, .acknowledgement, .error: nil
            }
        }
        if case .readRequest(let r) = packet { _ = (r.option(TFTPOption.blockSize), r.option(TFTPOption.transferSize)) }
        guard let written else { return }
        let again = out.withUnsafeBytes { try? TFTPPacket(parsing: UnsafeRawBufferPointer(rebasing: $0[0..<written])) }
        precondition(again == packet, "a parsed TFTP packet does not survive encoding")
    }

    private static func parseVendorOptions(_ bytes: [UInt8]) {
        guard let options = try? PXEVendorOptions(decoding: bytes) else { return }
        let encoded = options.encoded()
        precondition((try? PXEVendorOptions(decoding: encoded)) != nil, "encoded PXE sub-options do not decode")
    }
}
