import NICCore
import Wire
import XCTest
@testable import BootServer

/// IPv6 router discovery on the embedded server (RFC 4861), when it is
/// given a prefix: a Router Solicitation gets a Router Advertisement.
final class RouterAdvertisementTests: XCTestCase {
    var tree: TemporaryTree!
    var client: ScriptedClient!
    var server: BootServer!
    static let prefix: [UInt8] = [0xFD, 0x6E, 0x69, 0x63, 0x73, 0x00, 0x00, 0x02]
    static let clientMAC = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)

    override func setUpWithError() throws {
        tree = TemporaryTree()
        var c = makeConfiguration(root: tree.path)
        c.ipv6Prefix = Self.prefix
        server = try BootServer(configuration: c, clock: VirtualClock())
        client = ScriptedClient(server: server)
    }

    /// A Router Solicitation as a host sends it: to ff02::2 (Ethernet
    /// 33:33:00:00:00:02) from `::` or its link-local address, hop limit 255,
    /// ICMPv6 type 133 code 0, with a source link-layer address option.
    static func solicitation(hopLimit: UInt8 = 255) -> [UInt8] {
        var f: [UInt8] = [0x33, 0x33, 0, 0, 0, 2] + clientMAC.bytes + [0x86, 0xDD]
        f += [0x60, 0, 0, 0, 0, 16, 58, hopLimit]
        f += [0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0x00, 0xFF, 0xFE, 0x12, 0x34, 0x56]
        f += [0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]
        f += [133, 0, 0, 0, 0, 0, 0, 0, 1, 1] + clientMAC.bytes
        return f
    }

    @discardableResult
    func offer(_ frame: [UInt8]) -> OfferResult {
        frame.withUnsafeBytes { server.port.offer($0) }
    }

    /// RFC 4861 §6.2.6: a router answers a valid solicitation with an
    /// advertisement to all nodes (ff02::1, 33:33:00:00:00:01) from its
    /// link-local address (fe80:: + modified EUI-64 of its MAC), hop limit 255.
    func testSolicitationGetsAnAdvertisementToAllNodes() throws {
        offer(Self.solicitation())
        let f = try XCTUnwrap(client.drain().first)
        XCTAssertEqual(f.count, 14 + 40 + 56)
        XCTAssertEqual(Array(f[0..<6]), [0x33, 0x33, 0, 0, 0, 1])
        XCTAssertEqual(Array(f[6..<12]), serverMAC.bytes)
        XCTAssertEqual(Array(f[12..<14]), [0x86, 0xDD])
        XCTAssertEqual(f[14] >> 4, 6)
        XCTAssertEqual(f[20], 58, "next header ICMPv6")
        XCTAssertEqual(f[21], 255, "hop limit")
        XCTAssertEqual(Array(f[22..<38]), [0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0x00, 0x6E, 0x69, 0xFF, 0xFE, 0x63, 0x73, 0x01])
        XCTAssertEqual(Array(f[38..<54]), [0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        XCTAssertEqual(f[54], 134, "Router Advertisement")
        XCTAssertEqual(server.counters.routerAdvertisements, 1)
    }

    /// RFC 4861 §4.2, §4.6.2: M and O clear (no DHCPv6), router lifetime 0
    /// (not a default router), and a Prefix Information option with L and A
    /// for the configured /64, so the host autoconfigures an address.
    func testAdvertisementCarriesThePrefixForAutoconfiguration() throws {
        offer(Self.solicitation())
        let f = try XCTUnwrap(client.drain().first)
        let ra = 54
        XCTAssertEqual(f[ra + 5], 0, "M and O flags")
        XCTAssertEqual(Array(f[ra + 6..<ra + 8]), [0, 0], "router lifetime")
        XCTAssertEqual(Array(f[ra + 16..<ra + 18]), [1, 1], "source link-layer address option")
        XCTAssertEqual(Array(f[ra + 18..<ra + 24]), serverMAC.bytes)
        let pio = ra + 24
        XCTAssertEqual(Array(f[pio..<pio + 4]), [3, 4, 64, 0xC0], "prefix information, /64, L and A")
        XCTAssertEqual(Array(f[pio + 16..<pio + 24]), Self.prefix)
        XCTAssertEqual(Array(f[pio + 24..<pio + 32]), [0, 0, 0, 0, 0, 0, 0, 0])
    }

    /// RFC 8200 §8.1: the ICMPv6 checksum covers the pseudo-header (source,
    /// destination, upper-layer length, next header 58) and the message, so
    /// summing it all with the checksum in place gives 0xFFFF.
    func testAdvertisementChecksumCoversThePseudoHeader() throws {
        offer(Self.solicitation())
        let f = try XCTUnwrap(client.drain().first)
        var sum = InternetChecksum()
        sum.add(bytes: f[22..<54])
        sum.add(word: 0)
        sum.add(word: 56)
        sum.add(word: 58)
        sum.add(bytes: f[54...])
        XCTAssertEqual(sum.foldedSum, 0xFFFF)
    }

    /// RFC 4861 §6.1.1: a solicitation whose hop limit is not 255 may have
    /// been forwarded by a router and must be silently discarded.
    func testSolicitationWithHopLimitBelow255IsIgnored() {
        offer(Self.solicitation(hopLimit: 64))
        XCTAssertTrue(client.drain().isEmpty)
        XCTAssertEqual(server.counters.routerAdvertisements, 0)
    }

    /// Without a prefix the server speaks no IPv6: the all-routers group is
    /// filtered, as before.
    func testWithoutPrefixSolicitationsAreFiltered() throws {
        let plain = try BootServer(configuration: makeConfiguration(root: tree.path), clock: VirtualClock())
        let plainClient = ScriptedClient(server: plain)
        let result = Self.solicitation().withUnsafeBytes { plain.port.offer($0) }
        XCTAssertEqual(result, .filtered)
        XCTAssertTrue(plainClient.drain().isEmpty)
    }

    /// A truncated solicitation (payload length past the frame) is counted
    /// as malformed, never read past its end.
    func testTruncatedSolicitationIsMalformed() {
        var f = Self.solicitation()
        f[19] = 200  // payload length 200, frame carries 16
        offer(f)
        XCTAssertTrue(client.drain().isEmpty)
        XCTAssertEqual(server.counters.malformed, 1)
    }
}
