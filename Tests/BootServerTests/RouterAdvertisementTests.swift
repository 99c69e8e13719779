import Bridge
import Foundation
import NICCore
import Wire
import XCTest
@testable import BootServer

/// The server's answer to IPv6 router discovery (RFC 4861 §6.2.6): a
/// Router Advertisement that ends a client's solicitations and offers
/// nothing (no prefix, M and O clear, lifetime 0).
final class RouterAdvertisementTests: XCTestCase {
    var tree: TemporaryTree!
    var server: BootServer!
    var client: ScriptedClient!
    var events: [BootServerEvent] = []
    let clock = VirtualClock()

    /// The client's link-local address, from its MAC (fe80::5054:ff:fe12:3456).
    var clientLinkLocal: IPv6Address { .linkLocal(modifiedEUI64: client.mac) }
    /// fe80:: + modified EUI-64 of 02:6e:69:63:73:01 (the U/L bit cleared).
    let serverLinkLocal = IPv6Address(0xFE80, 0, 0, 0, 0x006E, 0x69FF, 0xFE63, 0x7301)

    override func setUp() {
        start(makeConfiguration(root: TemporaryTree().path))
    }

    private func start(_ configuration: BootServerConfiguration) {
        tree = TemporaryTree()
        var c = configuration
        c.tftpRoot = tree.path
        server = try? BootServer(configuration: c, clock: clock)
        if let server {
            client = ScriptedClient(server: server)
            server.onEvent = { [unowned self] in self.events.append($0) }
        }
    }

    /// A Router Solicitation frame as iPXE and Linux send it: to ff02::2
    /// (33:33:00:00:00:02), hop limit 255, with the sender's link-layer
    /// address unless it comes from ::.
    private func solicitation(from source: IPv6Address? = nil, to destination: IPv6Address = .allRouters,
                              hopLimit: UInt8 = 255) -> [UInt8] {
        let from = source ?? clientLinkLocal
        let buffer = FrameBuffer(capacity: 1514)
        let rs = RouterSolicitation(sourceLinkLayerAddress: from.isUnspecified ? nil : client.mac)
        do {
            let n = try rs.write(to: ICMPv6Frame.messageArea(of: buffer), source: from, destination: destination)
            try ICMPv6Frame.finish(buffer, from: client.mac, from, to: destination.multicastMAC, destination,
                                   hopLimit: hopLimit, messageCount: n)
        } catch {
            XCTFail("building the solicitation: \(error)")
        }
        return contents(buffer)
    }

    private func contents(_ buffer: FrameBuffer) -> [UInt8] { Array(buffer.bytes) }

    @discardableResult
    private func offer(_ frame: [UInt8]) -> OfferResult {
        frame.withUnsafeBytes { server.port.offer($0) }
    }

    private func u16(_ f: [UInt8], _ i: Int) -> UInt16 { UInt16(f[i]) << 8 | UInt16(f[i + 1]) }
    private func u32(_ f: [UInt8], _ i: Int) -> UInt32 { UInt32(u16(f, i)) << 16 | UInt32(u16(f, i + 2)) }

    func testSolicitationIsAnsweredWithAdvertisementFieldByField() throws {
        XCTAssertEqual(offer(solicitation()), .delivered)
        let frames = client.drain()
        XCTAssertEqual(frames.count, 1)
        let f = try XCTUnwrap(frames.first)
        XCTAssertEqual(f.count, 14 + 40 + 24)
        // Ethernet: to the solicitor's link-layer address, from ours, type 0x86DD.
        XCTAssertEqual(Array(f[0..<6]), client.mac.bytes)
        XCTAssertEqual(Array(f[6..<12]), serverMAC.bytes)
        XCTAssertEqual(u16(f, 12), 0x86DD)
        // IPv6 (RFC 8200 §3): version 6, payload 24, next header 58, and hop
        // limit 255 (RFC 4861 §4.2: receivers drop any other value).
        XCTAssertEqual(f[14] >> 4, 6)
        XCTAssertEqual(u16(f, 18), 24)
        XCTAssertEqual(f[20], 58)
        XCTAssertEqual(f[21], 255)
        // From our link-local address (RFC 4861 §4.2), to the solicitor (§6.2.6).
        XCTAssertEqual(Array(f[22..<38]), serverLinkLocal.bytes)
        XCTAssertEqual(Array(f[38..<54]), clientLinkLocal.bytes)
        // RA (RFC 4861 §4.2): type 134, code 0, Cur Hop Limit 64, M=0 O=0,
        // Router Lifetime 0 (not a default router), Reachable 0, Retrans 0.
        let m = Array(f[54...])
        XCTAssertEqual(m[0], 134)
        XCTAssertEqual(m[1], 0)
        XCTAssertEqual(m[4], 64)
        XCTAssertEqual(m[5], 0, "M and O clear: no DHCPv6")
        XCTAssertEqual(u16(m, 6), 0, "router lifetime")
        XCTAssertEqual(u32(m, 8), 0, "reachable time")
        XCTAssertEqual(u32(m, 12), 0, "retrans timer")
        // Source Link-Layer Address option (§4.6.1): type 1, length 1, our MAC; nothing else.
        XCTAssertEqual(Array(m[16..<24]), [1, 1] + serverMAC.bytes)
        // The checksum over the pseudo-header, computed independently.
        XCTAssertEqual(u16(m, 2), referenceChecksum(m, source: serverLinkLocal, destination: clientLinkLocal))
        XCTAssertEqual(server.counters.routerAdvertisements, 1)
        XCTAssertEqual(events, [.routerAdvertised(mac: client.mac, to: clientLinkLocal)])
        XCTAssertEqual(events.first?.description,
                       "ndp: router advertisement to fe80::5054:ff:fe12:3456 for 52:54:00:12:34:56 (no prefix, not a default router)")
    }

    func testSolicitationToAllNodesIsAnsweredToo() throws {
        offer(solicitation(to: .allNodes))
        XCTAssertEqual(client.drain().count, 1)
        XCTAssertEqual(server.counters.routerAdvertisements, 1)
    }

    func testSolicitationFromUnspecifiedIsAnsweredToAllNodes() throws {
        // RFC 4861 §6.2.6: a solicitor without an address is answered on ff02::1.
        offer(solicitation(from: .unspecified))
        let f = try XCTUnwrap(client.drain().first)
        XCTAssertEqual(Array(f[0..<6]), [0x33, 0x33, 0, 0, 0, 1])
        XCTAssertEqual(Array(f[38..<54]), IPv6Address.allNodes.bytes)
        XCTAssertEqual(f[21], 255)
        let m = Array(f[54...])
        XCTAssertEqual(m[0], 134)
        XCTAssertEqual(u16(m, 2), referenceChecksum(m, source: serverLinkLocal, destination: .allNodes))
        XCTAssertEqual(events, [.routerAdvertised(mac: client.mac, to: .allNodes)])
    }

    func testAdvertisementsToAllNodesAreAtLeastThreeSecondsApart() {
        // RFC 4861 §6.2.6 and §10: MIN_DELAY_BETWEEN_RAS is 3 s.
        offer(solicitation(from: .unspecified))
        clock.advance(by: 2 * VirtualClock.second)
        offer(solicitation(from: .unspecified))
        XCTAssertEqual(client.drain().count, 1)
        clock.advance(by: VirtualClock.second)
        offer(solicitation(from: .unspecified))
        XCTAssertEqual(client.drain().count, 1)
        XCTAssertEqual(server.counters.routerAdvertisements, 2)
    }

    func testEverySolicitationFromAnAddressIsAnswered() {
        // iPXE solicits 1, 2, 4 and 8 s apart; each one gets its own answer.
        for _ in 0..<3 { offer(solicitation()) }
        XCTAssertEqual(client.drain().count, 3)
    }

    func testMalformedSolicitationsAreIgnored() {
        let good = solicitation()
        var badChecksum = good
        badChecksum[60] ^= 0xFF
        // These two keep a correct checksum, so only the field is at fault.
        var badCode = good
        badCode[55] = 1
        resum(&badCode)
        var zeroOption = good
        zeroOption[63] = 0
        resum(&zeroOption)
        var longPayload = good
        longPayload[19] = 200  // payload length beyond the frame
        var notVersion6 = good
        notVersion6[14] = 0x45
        let cases: [(String, [UInt8])] = [
            ("hop limit 64 (RFC 4861 §6.1.1)", solicitation(hopLimit: 64)),
            ("bad checksum", badChecksum),
            ("code 1", badCode),
            ("zero-length option", zeroOption),
            ("payload length beyond the frame", longPayload),
            ("version 4 in an IPv6 frame", notVersion6),
            ("cut inside the IPv6 header", Array(good[0..<30])),
            ("cut inside the message", Array(good[0..<58])),
            ("Ethernet header only", Array(good[0..<14])),
        ]
        for (name, frame) in cases {
            offer(frame)
            XCTAssertTrue(client.drain().isEmpty, name)
        }
        XCTAssertEqual(server.counters.routerAdvertisements, 0)
        XCTAssertEqual(server.counters.malformed, cases.count)
        XCTAssertTrue(events.isEmpty)
    }

    func testMutatedSolicitationsNeverYieldAnInvalidAdvertisement() throws {
        // Random byte damage and random cuts: the server may answer or not,
        // but it never crashes and whatever it sends is a valid RA
        // (RFC 4861 §6.1.2: link-local source, hop limit 255, checksum).
        var rng = SeededRandom(seed: 4861)
        let good = solicitation()
        var answered = 0
        for _ in 0..<5000 {
            var f = good
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let i = 12 + Int(rng.next() % UInt64(f.count - 12))
                f[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            if rng.next() % 4 == 0 { f = Array(f[0..<(14 + Int(rng.next() % UInt64(f.count - 14)))]) }
            offer(f)
            clock.advance(by: 4 * VirtualClock.second)
            for out in client.drain() {
                answered += 1
                let p = try out.withUnsafeBytes { try ICMPv6Packet(parsing: $0) }
                XCTAssertNoThrow(try out.withUnsafeBytes {
                    try RouterAdvertisement(parsing: UnsafeRawBufferPointer(rebasing: $0[p.messageRange]), ip: p.ip)
                })
            }
        }
        XCTAssertEqual(answered, server.counters.routerAdvertisements)
        XCTAssertLessThan(answered, 5000, "most damage must be refused")
        XCTAssertGreaterThan(answered, 0, "damage to fields nothing checks (traffic class, flow label) is still answered")
    }

    func testOtherICMPv6AndOtherDestinationsAreNotAnswered() {
        var advertisement = solicitation()
        advertisement[54] = 134  // a Router Advertisement is not a solicitation
        offer(advertisement)
        // A solicitation to a multicast group other than all-routers/all-nodes.
        offer(solicitation(to: IPv6Address(0xFF02, 0, 0, 0, 0, 0, 0, 0x16)))
        XCTAssertTrue(client.drain().isEmpty)
        XCTAssertEqual(server.counters.routerAdvertisements, 0)
    }

    func testOptionOffSendsNothing() {
        var c = makeConfiguration(root: "")
        c.routerAdvertisements = false
        start(c)
        XCTAssertEqual(offer(solicitation()), .filtered, "33:33:00:00:00:02 is not listened to")
        var unicast = solicitation()
        unicast.replaceSubrange(0..<6, with: serverMAC.bytes)
        offer(unicast)
        XCTAssertTrue(client.drain().isEmpty)
        XCTAssertEqual(server.counters.routerAdvertisements, 0)
    }

    func testRouterAdvertisementsAreOnByDefault() {
        XCTAssertTrue(BootServerConfiguration(mac: serverMAC, ip: serverIP, pool: serverIP...serverIP, tftpRoot: "/").routerAdvertisements)
    }

    func testTsharkDecodesTheAdvertisementWithACorrectChecksum() throws {
        let tshark = "/usr/bin/tshark"
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: tshark), "tshark is missing: apt install tshark")
        let path = tree.path + "/ra.pcapng"
        let writer = try PcapNGWriter(path: path)
        let rs = solicitation()
        try rs.withUnsafeBytes { try writer.write($0, timestamp: 1_700_000_000_000_000_000, direction: .outbound) }
        offer(rs)
        let ra = try XCTUnwrap(client.drain().first)
        try ra.withUnsafeBytes { try writer.write($0, timestamp: 1_700_000_000_001_000_000, direction: .inbound) }
        try writer.close()

        // Wireshark verifies every ICMPv6 checksum; status 1 is "Good".
        let out = try run(tshark, ["-r", path, "-Y", "icmpv6.type == 134", "-T", "fields",
                                   "-e", "icmpv6.checksum.status", "-e", "ipv6.hlim", "-e", "ipv6.src", "-e", "ipv6.dst",
                                   "-e", "icmpv6.nd.ra.cur_hop_limit", "-e", "icmpv6.nd.ra.router_lifetime",
                                   "-e", "icmpv6.opt.linkaddr"])
        XCTAssertEqual(out.trimmingCharacters(in: .whitespacesAndNewlines),
                       "1\t255\tfe80::6e:69ff:fe63:7301\tfe80::5054:ff:fe12:3456\t64\t0\t02:6e:69:63:73:01")
        let solicitations = try run(tshark, ["-r", path, "-Y", "icmpv6.type == 133 && icmpv6.checksum.status == 1"])
        XCTAssertEqual(solicitations.split(separator: "\n").count, 1, solicitations)
    }

    private func run(_ tool: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "\(tool) \(arguments)")
        return String(decoding: data, as: UTF8.self)
    }

    /// Recomputes the ICMPv6 checksum of a solicitation frame after an edit.
    private func resum(_ frame: inout [UInt8]) {
        let sum = referenceChecksum(Array(frame[54...]), source: clientLinkLocal, destination: .allRouters)
        frame[56] = UInt8(sum >> 8)
        frame[57] = UInt8(sum & 0xFF)
    }

    /// RFC 8200 §8.1 by hand: pseudo-header bytes, then the message with a
    /// zero checksum field, summed in 16-bit words.
    private func referenceChecksum(_ message: [UInt8], source: IPv6Address, destination: IPv6Address) -> UInt16 {
        var m = message
        m[2] = 0
        m[3] = 0
        var bytes = source.bytes + destination.bytes + [0, 0, UInt8(m.count >> 8), UInt8(m.count & 0xFF), 0, 0, 0, 58] + m
        if bytes.count % 2 == 1 { bytes.append(0) }
        var sum: UInt32 = 0
        for i in stride(from: 0, to: bytes.count, by: 2) { sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]) }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return UInt16(~sum & 0xFFFF)
    }
}
