import NICCore
import UNDI
import Wire

/// The base code's IPv4 layer over the UNDI: ARP (answering for our address
/// and resolving next hops, with a cache), IPv4 and UDP. Frames go out
/// through UNDI TRANSMIT with P_UNKNOWN and come in through the UNDI's
/// receive path, so the NIC is only ever touched by its driver.
///
/// One transmit buffer is allocated here; received frames are parsed in
/// place in the UNDI's buffer. Waiting runs the board's event loop on the
/// virtual clock.
public final class IPStack {
    public let undi: UNDI
    @exclusivity(unchecked)
    public var address: IPv4Address = .any
    @exclusivity(unchecked)
    public var subnetMask: IPv4Address = .any
    @exclusivity(unchecked)
    public var router: IPv4Address = .any
    @exclusivity(unchecked)
    public var arpCache = ARPCache()
    /// ARP requests sent for one resolution before giving up.
    @exclusivity(unchecked)
    public var arpAttempts = 4
    /// How long each ARP request waits for its reply.
    @exclusivity(unchecked)
    public var arpTimeout: UInt64 = VirtualClock.second
    private let transmitBuffer = FrameBuffer(capacity: 2048)
    @exclusivity(unchecked)
    private var identification: UInt16 = 0

    public init(undi: UNDI) {
        self.undi = undi
    }

    public var mac: MACAddress { undi.driver.stationAddress }
    public var clock: VirtualClock { undi.bus.clock }

    /// Whether `destination` is reached directly (same subnet, broadcast,
    /// or no address of ours to compare with).
    public func isOnLink(_ destination: IPv4Address) -> Bool {
        destination.isBroadcast || address.isAny || subnetMask.isAny
            || destination.isSameSubnet(as: address, mask: subnetMask)
    }

    /// The next hop for `destination`: itself on the link, else the
    /// caller's gateway, else the DHCP router.
    public func nextHop(for destination: IPv4Address, gateway: IPv4Address = .any) -> IPv4Address {
        if isOnLink(destination) { return destination }
        return gateway.isAny ? router : gateway
    }

    // MARK: Sending

    /// Sends one UDP datagram. `fill` writes the payload into the room it is
    /// given and returns its length. Unicast next hops are resolved with ARP
    /// first (`PXEStatus.arpTimeout` if nobody answers).
    public func sendUDP(to destination: IPv4Address, port: UInt16, from sourcePort: UInt16, gateway: IPv4Address = .any,
                        fill: (UnsafeMutableRawBufferPointer) -> Int) throws(PXEStatus) {
        let hopMAC: MACAddress
        if destination.isBroadcast {
            hopMAC = .broadcast
        } else {
            let hop = nextHop(for: destination, gateway: gateway)
            guard !hop.isAny else { throw .arpTimeout }
            hopMAC = try resolve(hop)
        }
        let area = UDPFrame.payloadArea(of: transmitBuffer)
        let room = UnsafeMutableRawBufferPointer(rebasing: area[0..<min(area.count, UDPFrame.maximumPayload)])
        let count = fill(room)
        guard count >= 0, count <= room.count else { throw .undiInvalidParameter }
        identification &+= 1
        do throws(WireError) {
            try UDPFrame.finish(transmitBuffer, from: UDPEndpoint(mac: mac, ip: address, port: sourcePort),
                                to: UDPEndpoint(mac: hopMAC, ip: destination, port: port),
                                payloadCount: count, identification: identification)
        } catch {
            throw .undiInvalidParameter
        }
        try sendFrame()
    }

    private func sendFrame() throws(PXEStatus) {
        let frame = transmitBuffer.bytes
        let status = undi.transmit(protocol: .unknown, broadcast: false, destination: .zero) { (room) throws(PXEStatus) -> Int in
            guard frame.count <= room.count, let d = room.baseAddress, let s = frame.baseAddress else { throw .undiInvalidParameter }
            d.copyMemory(from: s, byteCount: frame.count)
            return frame.count
        }
        guard status.isSuccess else { throw status }
    }

    private func sendARP(_ packet: ARPPacket, to destination: MACAddress) throws(PXEStatus) {
        let storage = transmitBuffer.storage
        do throws(WireError) {
            try EthernetHeader(destination: destination, source: mac, etherType: .arp).write(to: storage)
            try packet.write(to: UnsafeMutableRawBufferPointer(rebasing: storage[EthernetHeader.size...]))
        } catch {
            throw .undiInvalidParameter
        }
        transmitBuffer.setCount(EthernetHeader.size + ARPPacket.size)
        try sendFrame()
    }

    /// The Ethernet address of `ip`: from the cache, or by broadcasting ARP
    /// requests (`arpAttempts` of them, `arpTimeout` apart).
    public func resolve(_ ip: IPv4Address) throws(PXEStatus) -> MACAddress {
        if let known = arpCache.lookup(ip) { return known }
        let request = ARPPacket(operation: .request, senderMAC: mac, senderIP: address, targetMAC: .zero, targetIP: ip)
        for _ in 0..<max(1, arpAttempts) {
            try sendARP(request, to: .broadcast)
            let found = undi.bus.wait(timeout: arpTimeout) {
                _ = self.poll { _, _ in false }
                return self.arpCache.lookup(ip) != nil
            }
            if found, let mac = arpCache.lookup(ip) { return mac }
        }
        throw .arpTimeout
    }

    // MARK: Receiving

    /// Takes every frame waiting in the NIC: answers ARP requests for our
    /// address, learns ARP mappings, and offers each valid UDP datagram for
    /// us to `handler` (the datagram and its payload, valid during the
    /// call). Stops after the first datagram `handler` accepts and returns
    /// true; false when the NIC has no more frames.
    @discardableResult
    public func poll(_ handler: (UDPDatagram, UnsafeRawBufferPointer) -> Bool) -> Bool {
        // Bounded: a NIC can't hold more than a few hundred frames.
        for _ in 0..<1024 {
            guard let frame = undi.receiveFrame() else { return false }
            let bytes = frame.bytes
            guard let ethernet = try? EthernetHeader(parsing: bytes) else { continue }
            if ethernet.etherType == .arp {
                handleARP(UnsafeRawBufferPointer(rebasing: bytes[EthernetHeader.size...]))
                continue
            }
            guard ethernet.etherType == .ipv4, let datagram = try? UDPDatagram(parsing: bytes) else { continue }
            let to = datagram.ip.destination
            // Before DHCP completes we take anything addressed to our MAC
            // (offers may be unicast to the address being offered).
            guard address.isAny || to == address || to.isBroadcast || isDirectedBroadcast(to) else { continue }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[datagram.payloadRange.clamped(to: 0..<bytes.count)])
            if handler(datagram, payload) { return true }
        }
        return false
    }

    private func isDirectedBroadcast(_ ip: IPv4Address) -> Bool {
        !subnetMask.isAny && ip.rawValue == address.rawValue | ~subnetMask.rawValue
    }

    private func handleARP(_ body: UnsafeRawBufferPointer) {
        guard let packet = try? ARPPacket(parsing: body) else { return }
        let forUs = !address.isAny && packet.targetIP == address
        if forUs || arpCache.lookup(packet.senderIP) != nil || packet.operation == .reply {
            arpCache.update(packet.senderIP, packet.senderMAC)
        }
        if packet.operation == .request, forUs {
            try? sendARP(packet.reply(from: mac), to: packet.senderMAC)
        }
    }

    /// Polls until `handler` accepts a datagram or `timeout` ns of virtual
    /// time pass. True if one was accepted.
    public func waitUDP(timeout: UInt64, _ handler: (UDPDatagram, UnsafeRawBufferPointer) -> Bool) -> Bool {
        var accepted = false
        _ = undi.bus.wait(timeout: timeout) {
            accepted = accepted || self.poll(handler)
            return accepted
        }
        return accepted
    }
}
