import Bridge
import Foundation
import NICCore
import XCTest

/// The live bridge on interfaces as the kernel sets them up: a plain veth
/// pair with default offloads (the sender's stack leaves UDP checksums
/// partial), and the interface's promiscuity as `ip link` reports it.
/// nicsim captures on `va` in nsim-bridge-oa; the other end, `vb`
/// (10.78.0.2/24), is in nsim-bridge-ob.
final class LiveCaptureOffloadTests: XCTestCase {
    private var a: TestNamespace!
    private var b: TestNamespace!
    private let ourMAC = MACAddress(0x02, 0x4E, 0x53, 0x00, 0x00, 0x11)

    /// IFF_PROMISC in /sys/class/net/IF/flags.
    private static let promiscuousFlag = 0x100

    override func setUpWithError() throws {
        a = try TestNamespace("oa")
        b = try TestNamespace("ob")
        try a.exec("ip", "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b.name)
        try a.exec("ip", "link", "set", "va", "up")
        try b.exec("ip", "addr", "add", "10.78.0.2/24", "dev", "vb")
        try b.exec("ip", "link", "set", "vb", "up")
        try b.exec("sysctl", "-q", "-w", "net.ipv6.conf.vb.disable_ipv6=1")
        try a.exec("sysctl", "-q", "-w", "net.ipv6.conf.va.disable_ipv6=1")
        try b.exec("ip", "neigh", "replace", "10.78.0.1", "lladdr", "\(ourMAC)", "dev", "vb", "nud", "permanent")
    }

    override func tearDown() {
        a?.remove()
        b?.remove()
    }

    private func flags(_ ns: TestNamespace, _ interface: String) throws -> Int {
        let text = try ns.exec("cat", "/sys/class/net/\(interface)/flags").out.trimmingCharacters(in: .whitespacesAndNewlines)
        return Int(text.dropFirst(2), radix: 16) ?? -1
    }

    private func udpFrames(_ station: TestStation) -> [[UInt8]] {
        station.received.filter { $0.count > 42 && $0[12] == 0x08 && $0[13] == 0 && $0[23] == 17 && MACAddress(bytes: $0.prefix(6)) == ourMAC }
    }

    /// One datagram from vb's stack to 10.78.0.1 (our MAC), port 9.
    private func sendUDP() throws {
        try b.exec("bash", "-c", "echo nicsim-offload > /dev/udp/10.78.0.1/9")
    }

    // The precondition of everything below: the kernel leaves vb's UDP
    // checksum partial, so the raw frame's checksum does not verify.
    func testTheDefaultVethHandsOverPartialChecksums() throws {
        let station = TestStation(mac: ourMAC)
        let live = try LiveCapture(interface: "va", macAddress: ourMAC, port: station.port, completeChecksums: false,
                                   networkNamespace: a.name)
        defer { live.stop() }
        try sendUDP()
        XCTAssertTrue(pollUntil([live], seconds: 5) { !self.udpFrames(station).isEmpty })
        let frame = try XCTUnwrap(udpFrames(station).first)
        XCTAssertEqual(frame.withUnsafeBytes { ChecksumOffload.transportChecksumIsValid($0) }, false,
                       "vb sent a complete checksum: offloads are off on this veth, the test proves nothing")
        XCTAssertEqual(live.counters.checksumsCompleted, 0)
    }

    // What the sending NIC would have done is done on arrival: the model
    // sees a checksum that verifies, and the summary counts it.
    func testPartialChecksumsAreCompletedOnArrival() throws {
        let station = TestStation(mac: ourMAC)
        let live = try LiveCapture(interface: "va", macAddress: ourMAC, port: station.port, networkNamespace: a.name)
        defer { live.stop() }
        try sendUDP()
        try sendUDP()
        XCTAssertTrue(pollUntil([live], seconds: 5) { self.udpFrames(station).count == 2 })
        for frame in udpFrames(station) {
            XCTAssertEqual(frame.withUnsafeBytes { ChecksumOffload.transportChecksumIsValid($0) }, true)
        }
        XCTAssertEqual(live.counters.checksumsCompleted, 2)
    }

    // A veth hands every frame to packet sockets: no address entry, and the
    // interface stays out of promiscuous mode while nicsim captures.
    func testVethIsNotMadePromiscuous() throws {
        let station = TestStation(mac: ourMAC)
        let live = try LiveCapture(interface: "va", macAddress: ourMAC, port: station.port, networkNamespace: a.name)
        defer { live.stop() }
        XCTAssertEqual(live.addressFilter, .passesEverything(driver: "veth"))
        XCTAssertEqual(try flags(a, "va") & Self.promiscuousFlag, 0)
        // Unicast for our MAC still arrives.
        try sendUDP()
        XCTAssertTrue(pollUntil([live], seconds: 5) { !self.udpFrames(station).isEmpty })
    }

    // --promiscuous, and the guest's own request, turn it on; leaving it
    // (or closing) turns it off again.
    func testPromiscuousModeIsHeldOnlyWhileAsked() throws {
        let station = TestStation(mac: ourMAC)
        let live = try LiveCapture(interface: "va", macAddress: ourMAC, port: station.port, networkNamespace: a.name)
        live.update(macAddress: ourMAC, promiscuous: true)
        XCTAssertEqual(live.addressFilter, .promiscuous)
        XCTAssertNotEqual(try flags(a, "va") & Self.promiscuousFlag, 0)
        live.update(macAddress: ourMAC, promiscuous: false)
        XCTAssertEqual(try flags(a, "va") & Self.promiscuousFlag, 0)

        let asked = try LiveCapture(interface: "va", macAddress: ourMAC, port: TestStation(mac: ourMAC).port, promiscuous: true,
                                    networkNamespace: a.name)
        XCTAssertNotEqual(try flags(a, "va") & Self.promiscuousFlag, 0)
        // The user's --promiscuous outlasts the guest leaving promiscuous mode.
        asked.update(macAddress: ourMAC, promiscuous: false)
        XCTAssertNotEqual(try flags(a, "va") & Self.promiscuousFlag, 0)
        asked.stop()
        live.stop()
        XCTAssertEqual(try flags(a, "va") & Self.promiscuousFlag, 0)
    }

    // On an interface with a unicast filter (macvlan has IFF_UNICAST_FLT,
    // like most real NICs), the guest's MAC joins the filter and the
    // interface is not promiscuous; a new station address moves the entry.
    func testFilteringInterfaceGetsAUnicastEntryNotPromiscuity() throws {
        try a.exec("ip", "link", "add", "mv0", "link", "va", "type", "macvlan", "mode", "bridge")
        try a.exec("ip", "link", "set", "mv0", "up")
        let station = TestStation(mac: ourMAC)
        let live = try LiveCapture(interface: "mv0", macAddress: ourMAC, port: station.port, networkNamespace: a.name)
        defer { live.stop() }
        XCTAssertEqual(live.driver, "macvlan")
        XCTAssertEqual(live.addressFilter, .unicast(ourMAC))
        XCTAssertEqual(try flags(a, "mv0") & Self.promiscuousFlag, 0)
        let moved = MACAddress(0x02, 0x4E, 0x53, 0x00, 0x00, 0x12)
        live.update(macAddress: moved, promiscuous: false)
        XCTAssertEqual(live.addressFilter, .unicast(moved))
        XCTAssertEqual(try flags(a, "mv0") & Self.promiscuousFlag, 0)
    }

    // The follower hands the link each station address a guest programs,
    // and ignores the zero address a driver passes through on its way.
    func testStationFollowerTracksTheCardsFilter() throws {
        final class Card: StationFilterSource {
            var stationFilter = StationFilter(address: MACAddress(rawValue: 0), promiscuous: false)
        }
        let card = Card()
        let station = TestStation(mac: ourMAC)
        let live = try LiveCapture(interface: "va", macAddress: ourMAC, port: station.port, networkNamespace: a.name)
        defer { live.stop() }
        let follower = StationFollower(card: card, link: live)
        _ = follower.poll()
        XCTAssertEqual(live.macAddress, ourMAC)
        let programmed = MACAddress(0x02, 0x4E, 0x53, 0x00, 0x00, 0x13)
        card.stationFilter = StationFilter(address: programmed, promiscuous: false)
        _ = follower.poll()
        XCTAssertEqual(live.macAddress, programmed)
        XCTAssertEqual(live.filter, "ether dst \(programmed) or ether multicast")
        card.stationFilter.promiscuous = true
        _ = follower.poll()
        XCTAssertTrue(live.promiscuous)
        XCTAssertNotEqual(try flags(a, "va") & Self.promiscuousFlag, 0)
        card.stationFilter = StationFilter(address: MACAddress(rawValue: 0), promiscuous: false)
        _ = follower.poll()
        XCTAssertEqual(live.macAddress, programmed)
        XCTAssertFalse(live.promiscuous)
    }

    // Where the server may be on this host, `--bridge` says to use a TAP.
    func testBridgeAdviceNamesALinuxBridge() throws {
        try a.exec("ip", "link", "add", "br9", "type", "bridge")
        let advice = try NetworkNamespace.run(a.name) { InterfaceInfo.bridgeAdvice(for: "br9") }
        XCTAssertTrue(advice?.contains("br9 is a Linux bridge") == true, advice ?? "no advice")
        XCTAssertTrue(advice?.contains("--tap NAME --attach BRIDGE") == true, advice ?? "no advice")
        XCTAssertNil(try NetworkNamespace.run(a.name) { InterfaceInfo.bridgeAdvice(for: "va") })
    }
}
