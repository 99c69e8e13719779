import NICCore
import UNDI
import Wire
import XCTest

@testable import PXE

/// The base code's ARP and IPv4 handling.
final class IPStackTests: XCTestCase {
    private func bootedRig() throws -> PXETestRig {
        let rig = PXETestRig()
        try rig.boot()
        return rig
    }

    private func arpRequest(from host: ScriptedPeer.Host, for ip: IPv4Address) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 42)
        out.withUnsafeMutableBytes { p in
            try? EthernetHeader(destination: .broadcast, source: host.mac, etherType: .arp).write(to: p)
            try? ARPPacket(operation: .request, senderMAC: host.mac, senderIP: host.ip, targetMAC: .zero, targetIP: ip)
                .write(to: UnsafeMutableRawBufferPointer(rebasing: p[14...]))
        }
        return out
    }

    func testARPRequestForOurAddressIsAnswered() throws {
        // RFC 826: the owner of the target address replies, unicast.
        let rig = try bootedRig()
        rig.nic.deliver(arpRequest(from: rig.peer.proxyServer, for: rig.peer.clientAddress))
        _ = rig.baseCode.ip.poll { _, _ in false }
        let reply = try XCTUnwrap(rig.nic.transmitted.last)
        let arp = try reply.withUnsafeBytes { try ARPPacket(parsing: UnsafeRawBufferPointer(rebasing: $0[14...])) }
        XCTAssertEqual(arp.operation, .reply)
        XCTAssertEqual(arp.senderIP, rig.peer.clientAddress)
        XCTAssertEqual(arp.senderMAC, rig.nic.stationAddress)
        XCTAssertEqual(Array(reply[0..<6]), rig.peer.proxyServer.mac.bytes)
        XCTAssertEqual(rig.baseCode.ip.arpCache.lookup(rig.peer.proxyServer.ip), rig.peer.proxyServer.mac)
    }

    func testARPRequestForAnotherAddressIsIgnored() throws {
        let rig = try bootedRig()
        let before = rig.nic.transmitted.count
        rig.nic.deliver(arpRequest(from: rig.peer.proxyServer, for: IPv4Address(10, 0, 0, 200)))
        _ = rig.baseCode.ip.poll { _, _ in false }
        XCTAssertEqual(rig.nic.transmitted.count, before)
        XCTAssertNil(rig.baseCode.ip.arpCache.lookup(rig.peer.proxyServer.ip))
    }

    func testResolutionUsesTheCacheAfterTheFirstReply() throws {
        let rig = try bootedRig()
        let before = rig.peer.arpRequests
        XCTAssertEqual(try rig.baseCode.ip.resolve(rig.peer.proxyServer.ip), rig.peer.proxyServer.mac)
        XCTAssertEqual(try rig.baseCode.ip.resolve(rig.peer.proxyServer.ip), rig.peer.proxyServer.mac)
        XCTAssertEqual(rig.peer.arpRequests - before, 1)
    }

    func testUnansweredResolutionTimesOutAfterFourRequests() throws {
        let rig = try bootedRig()
        let before = rig.peer.arpRequests
        XCTAssertThrowsError(try rig.baseCode.ip.resolve(IPv4Address(10, 0, 0, 99))) { XCTAssertEqual($0 as? PXEStatus, .arpTimeout) }
        XCTAssertEqual(rig.peer.arpRequests - before, 4)
    }

    func testDatagramForAnotherAddressIsNotDelivered() throws {
        let rig = try bootedRig()
        rig.peer.sendUDP(from: rig.peer.dhcpServer, sourcePort: 1, to: UDPEndpoint(mac: rig.nic.stationAddress, ip: IPv4Address(10, 0, 0, 5), port: 2),
                         payload: [1])
        rig.board.advance(by: VirtualClock.millisecond)
        XCTAssertFalse(rig.baseCode.ip.poll { _, _ in true })
    }

    func testDirectedBroadcastIsDelivered() throws {
        let rig = try bootedRig()
        rig.peer.sendUDP(from: rig.peer.dhcpServer, sourcePort: 1, to: UDPEndpoint(mac: .broadcast, ip: IPv4Address(10, 0, 0, 255), port: 2),
                         payload: [1])
        rig.board.advance(by: VirtualClock.millisecond)
        XCTAssertTrue(rig.baseCode.ip.poll { _, _ in true })
    }

    func testNextHopIsTheRouterOffLinkAndTheCallersGatewayWhenGiven() throws {
        let rig = try bootedRig()
        let far = IPv4Address(8, 8, 8, 8)
        XCTAssertEqual(rig.baseCode.ip.nextHop(for: far), rig.peer.router.ip)
        XCTAssertEqual(rig.baseCode.ip.nextHop(for: far, gateway: IPv4Address(10, 0, 0, 3)), IPv4Address(10, 0, 0, 3))
        XCTAssertEqual(rig.baseCode.ip.nextHop(for: rig.peer.dhcpServer.ip), rig.peer.dhcpServer.ip)
    }

    func testARPCacheReplacesTheOldestEntryWhenFull() {
        var cache = ARPCache(capacity: 2)
        cache.update(IPv4Address(1, 0, 0, 1), MACAddress(0x02, 0, 0, 0, 0, 1))
        cache.update(IPv4Address(1, 0, 0, 2), MACAddress(0x02, 0, 0, 0, 0, 2))
        cache.update(IPv4Address(1, 0, 0, 3), MACAddress(0x02, 0, 0, 0, 0, 3))
        XCTAssertNil(cache.lookup(IPv4Address(1, 0, 0, 1)))
        XCTAssertEqual(cache.lookup(IPv4Address(1, 0, 0, 3)), MACAddress(0x02, 0, 0, 0, 0, 3))
    }

    func testARPCacheRefusesGroupAddresses() {
        var cache = ARPCache()
        cache.update(IPv4Address(1, 0, 0, 1), .broadcast)
        XCTAssertNil(cache.lookup(IPv4Address(1, 0, 0, 1)))
    }
}
