import NICCore

/// An ARP packet for IPv4 over Ethernet (RFC 826): hardware type 1,
/// protocol type 0x0800, address lengths 6 and 4; 28 bytes.
public struct ARPPacket: Hashable, Sendable {
    public static let size = 28

    public enum Operation: UInt16, Sendable {
        case request = 1
        case reply = 2
    }

    public var operation: Operation
    public var senderMAC: MACAddress
    public var senderIP: IPv4Address
    public var targetMAC: MACAddress
    public var targetIP: IPv4Address

    public init(operation: Operation, senderMAC: MACAddress, senderIP: IPv4Address, targetMAC: MACAddress, targetIP: IPv4Address) {
        self.operation = operation
        self.senderMAC = senderMAC
        self.senderIP = senderIP
        self.targetMAC = targetMAC
        self.targetIP = targetIP
    }

    /// Parses the ARP body (after the Ethernet header). Anything but
    /// Ethernet/IPv4 request or reply is refused.
    public init(parsing p: UnsafeRawBufferPointer) throws(WireError) {
        guard p.count >= Self.size, let base = p.baseAddress else { throw .truncated }
        guard p.be16(at: 0) == 1, p.be16(at: 2) == EtherType.ipv4.rawValue, p.byte(at: 4) == 6, p.byte(at: 5) == 4,
              let op = Operation(rawValue: p.be16(at: 6)) else { throw .malformed }
        operation = op
        senderMAC = MACAddress(loadingFrom: base + 8)
        senderIP = p.ipv4(14)
        targetMAC = MACAddress(loadingFrom: base + 18)
        targetIP = p.ipv4(24)
    }

    /// Writes the 28-byte body.
    public func write(to out: UnsafeMutableRawBufferPointer) throws(WireError) {
        guard out.count >= Self.size, let base = out.baseAddress else { throw .noRoom }
        out.setBE16(1, at: 0)
        out.setBE16(EtherType.ipv4.rawValue, at: 2)
        out.setByte(6, at: 4)
        out.setByte(4, at: 5)
        out.setBE16(operation.rawValue, at: 6)
        senderMAC.store(to: base + 8)
        out.put(senderIP, at: 14)
        targetMAC.store(to: base + 18)
        out.put(targetIP, at: 24)
    }

    /// The reply a host owning `targetIP` with `mac` sends to this request.
    public func reply(from mac: MACAddress) -> ARPPacket {
        ARPPacket(operation: .reply, senderMAC: mac, senderIP: targetIP, targetMAC: senderMAC, targetIP: senderIP)
    }
}
