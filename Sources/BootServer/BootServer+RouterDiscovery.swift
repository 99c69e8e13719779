import NICCore
import Wire

/// Router discovery (RFC 4861 §6.2.6): a client that configures IPv6
/// solicits routers, and without an answer keeps soliciting for seconds
/// before it gives up. The server answers each valid Router Solicitation
/// with a Router Advertisement that only says "a router is here and offers
/// nothing": no prefix, M and O clear, lifetime 0.
extension BootServer {
    /// RFC 4861 §10: MIN_DELAY_BETWEEN_RAS, between advertisements to all-nodes.
    static let minimumDelayBetweenAllNodesAdvertisements = 3 * VirtualClock.second

    /// The Ethernet groups the server listens on: 33:33:00:00:00:02
    /// (all-routers) and 33:33:00:00:00:01 (all-nodes), where Router
    /// Solicitations arrive (RFC 2464 §7).
    func listensTo(group mac: MACAddress) -> Bool {
        configuration.routerAdvertisements
            && (mac == IPv6Address.allRouters.multicastMAC || mac == IPv6Address.allNodes.multicastMAC)
    }

    func receiveIPv6(_ frame: UnsafeRawBufferPointer) {
        guard configuration.routerAdvertisements else {
            counters.framesIgnored += 1
            return
        }
        guard let packet = try? ICMPv6Packet(parsing: frame) else {
            counters.malformed += 1
            return
        }
        let to = packet.ip.destination
        guard packet.type == .routerSolicitation,
              to == .allRouters || to == .allNodes || to == linkLocalAddress else {
            counters.framesIgnored += 1
            return
        }
        let message = UnsafeRawBufferPointer(rebasing: frame[packet.messageRange])
        guard let solicitation = try? RouterSolicitation(parsing: message, ip: packet.ip) else {
            counters.malformed += 1
            return
        }
        // RFC 4861 §6.2.6: answer the solicitor directly when it has an
        // address, otherwise all-nodes, rate-limited.
        let from = packet.ip.source
        let destination: IPv6Address, destinationMAC: MACAddress
        if from.isUnspecified {
            if let last = lastAllNodesAdvertisement, clock.now &- last < Self.minimumDelayBetweenAllNodesAdvertisements {
                counters.framesIgnored += 1
                return
            }
            destination = .allNodes
            destinationMAC = IPv6Address.allNodes.multicastMAC
        } else {
            destination = from
            destinationMAC = solicitation.sourceLinkLayerAddress ?? packet.ethernet.source
        }
        sendRouterAdvertisement(to: destinationMAC, destination)
        if from.isUnspecified { lastAllNodesAdvertisement = clock.now }
        onEvent?(.routerAdvertised(mac: packet.ethernet.source, to: destination))
    }

    /// Builds the advertisement in the reused transmit buffer and sends it:
    /// from our link-local address with hop limit 255, as RFC 4861 §4.2
    /// requires, so receivers know it was not forwarded.
    private func sendRouterAdvertisement(to mac: MACAddress, _ destination: IPv6Address) {
        let advertisement = RouterAdvertisement(currentHopLimit: 64, managed: false, otherConfiguration: false,
                                                routerLifetime: 0, reachableTime: 0, retransTimer: 0,
                                                sourceLinkLayerAddress: configuration.mac)
        do {
            let count = try advertisement.write(to: ICMPv6Frame.messageArea(of: transmitBuffer),
                                                source: linkLocalAddress, destination: destination)
            try ICMPv6Frame.finish(transmitBuffer, from: configuration.mac, linkLocalAddress, to: mac, destination,
                                   hopLimit: 255, messageCount: count)
        } catch { return }
        counters.routerAdvertisements += 1
        port.transmit(transmitBuffer.bytes)
    }
}
