import Board
import Bridge
import Foundation
import NICCore
import XCTest

extension LiveCapture: PollSource {}

/// A live bridge between two network namespaces of ours joined by a veth
/// pair: nicsim captures and injects on `va` in nsim-bridge-a; the other
/// end, `vb` (10.77.0.2/24), is in nsim-bridge-b.
final class LiveCaptureTests: XCTestCase {
    private var a: TestNamespace!
    private var b: TestNamespace!
    private var dir = ""
    private let ourMAC = MACAddress(0x02, 0x4E, 0x53, 0x00, 0x00, 0x01)

    override func setUpWithError() throws {
        dir = try ExternalTool.temporaryDirectory()
        a = try TestNamespace("a")
        b = try TestNamespace("b")
        try a.exec("ip", "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b.name)
        try a.exec("ip", "link", "set", "va", "up")
        try b.exec("ip", "addr", "add", "10.77.0.2/24", "dev", "vb")
        try b.exec("ip", "link", "set", "vb", "up")
        // Keep the kernel's own chatter (IPv6 router solicitations) off the wire.
        try b.exec("sysctl", "-q", "-w", "net.ipv6.conf.vb.disable_ipv6=1")
        try a.exec("sysctl", "-q", "-w", "net.ipv6.conf.va.disable_ipv6=1")
    }

    override func tearDown() {
        a?.remove()
        b?.remove()
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func open(_ station: TestStation, promiscuous: Bool = false) throws -> LiveCapture {
        try LiveCapture(interface: "va", macAddress: station.mac, port: station.port,
                        promiscuous: promiscuous, networkNamespace: a.name)
    }

    /// A station using our MAC.
    private func ourStation() -> TestStation { TestStation(ourMAC) }

    /// Sends one UDP datagram from nsim-bridge-b to `ip` (bash's /dev/udp).
    private func sendUDP(to ip: String) throws {
        try b.exec("bash", "-c", "echo nicsim > /dev/udp/\(ip)/9")
    }

    private func isUDP(_ f: [UInt8], to mac: MACAddress) -> Bool {
        f.count > 34 && MACAddress(bytes: f.prefix(6)) == mac && f[12] == 0x08 && f[13] == 0 && f[23] == 17
    }

    private func isARPRequest(_ f: [UInt8]) -> Bool {
        f.count >= 42 && f.prefix(6).allSatisfy { $0 == 0xFF } && f[12] == 0x08 && f[13] == 0x06 && f[21] == 1
    }

    // pcap_inject: frames nicsim sends leave on va and tcpdump on vb sees them byte for byte.
    func testInjectedFramesAreCapturedOnTheOtherEnd() throws {
        let station = ourStation()
        let live = try open(station)
        defer { live.stop() }
        let path = dir + "/vb.pcap"
        let tcpdump = try b.start(["tcpdump", "-i", "vb", "-c", "5", "-U", "-w", path, "ether", "src", "\(ourMAC)"])
        XCTAssertTrue(tcpdump.waitForStderr(containing: "listening on"))
        let peer = MACAddress(0x02, 0, 0, 0, 0, 0x42)
        for i in 0..<4 { station.send(to: peer, tag: UInt16(i)) }
        station.send(to: .broadcast, tag: 99)
        tcpdump.finish(seconds: 10)
        let seen = try TraceFixtures.readAll(PcapReader(path: path)).map(\.bytes)
        let sent = (0..<4).map { TestStation.frame(from: ourMAC, to: peer, tag: UInt16($0)) }
            + [TestStation.frame(from: ourMAC, to: .broadcast, tag: 99)]
        XCTAssertEqual(seen, sent)
        XCTAssertEqual(live.counters.framesOut, 5)
    }

    // Frames from the other namespace arrive: an ARP broadcast, and unicast
    // UDP to our MAC (a static neighbour entry points 10.77.0.1 at it).
    func testFramesFromTheOtherNamespaceArriveInNicsim() throws {
        let station = ourStation()
        let live = try open(station)
        defer { live.stop() }
        try b.exec("ip", "neigh", "replace", "10.77.0.1", "lladdr", "\(ourMAC)", "dev", "vb", "nud", "permanent")
        try sendUDP(to: "10.77.0.1")
        try sendUDP(to: "10.77.0.3")  // unresolved: the kernel broadcasts who-has 10.77.0.3
        XCTAssertTrue(pollUntil([live], seconds: 5) {
            station.received.contains { self.isUDP($0, to: self.ourMAC) } && station.received.contains { self.isARPRequest($0) }
        }, "received \(station.received.count) frames")
        XCTAssertEqual(live.counters.framesIn, station.received.count)
    }

    // The BPF filter keeps out unicast for other stations...
    func testFilterDropsUnicastForOtherStations() throws {
        let station = ourStation()
        let live = try open(station)
        defer { live.stop() }
        XCTAssertEqual(live.filter, "ether dst \(ourMAC) or ether multicast")
        let other = MACAddress(0x02, 0, 0, 0, 0, 0x99)
        try b.exec("ip", "neigh", "replace", "10.77.0.4", "lladdr", "\(other)", "dev", "vb", "nud", "permanent")
        try b.exec("ip", "neigh", "replace", "10.77.0.1", "lladdr", "\(ourMAC)", "dev", "vb", "nud", "permanent")
        try sendUDP(to: "10.77.0.4")
        try sendUDP(to: "10.77.0.1")
        XCTAssertTrue(pollUntil([live], seconds: 5) { station.received.contains { self.isUDP($0, to: self.ourMAC) } })
        _ = pollUntil([live], seconds: 0.3) { false }
        XCTAssertFalse(station.received.contains { self.isUDP($0, to: other) })
    }

    // ...unless the guest asked for promiscuous mode: then there is no filter.
    func testPromiscuousModeSeesUnicastForOtherStations() throws {
        let station = ourStation()
        let live = try open(station, promiscuous: true)
        defer { live.stop() }
        XCTAssertNil(live.filter)
        let other = MACAddress(0x02, 0, 0, 0, 0, 0x99)
        try b.exec("ip", "neigh", "replace", "10.77.0.4", "lladdr", "\(other)", "dev", "vb", "nud", "permanent")
        try sendUDP(to: "10.77.0.4")
        XCTAssertTrue(pollUntil([live], seconds: 5) { station.received.contains { self.isUDP($0, to: other) } })
    }

    // The guest changes its station address: the filter follows, so frames
    // for the new address arrive and frames for the old one no longer do.
    func testFilterFollowsAStationAddressChange() throws {
        let station = ourStation()
        let live = try open(station)
        defer { live.stop() }
        let newMAC = MACAddress(0x02, 0x4E, 0x53, 0x00, 0x00, 0x02)
        live.update(macAddress: newMAC, promiscuous: false)
        XCTAssertEqual(live.filter, "ether dst \(newMAC) or ether multicast")
        XCTAssertTrue(pollUntil([live], seconds: 5) { live.appliedFilterChanges == 1 })
        XCTAssertNil(live.filterError)
        try b.exec("ip", "neigh", "replace", "10.77.0.1", "lladdr", "\(ourMAC)", "dev", "vb", "nud", "permanent")
        try b.exec("ip", "neigh", "replace", "10.77.0.5", "lladdr", "\(newMAC)", "dev", "vb", "nud", "permanent")
        try sendUDP(to: "10.77.0.1")
        try sendUDP(to: "10.77.0.5")
        XCTAssertTrue(pollUntil([live], seconds: 5) { station.received.contains { self.isUDP($0, to: newMAC) } })
        _ = pollUntil([live], seconds: 0.3) { false }
        XCTAssertFalse(station.received.contains { self.isUDP($0, to: self.ourMAC) })
    }

    // The guest turns promiscuous mode on later (RCR.AAP, say): the filter goes.
    func testPromiscuousModeCanBeTurnedOnWhileCapturing() throws {
        let station = ourStation()
        let live = try open(station)
        defer { live.stop() }
        live.update(macAddress: ourMAC, promiscuous: true)
        XCTAssertNil(live.filter)
        XCTAssertTrue(pollUntil([live], seconds: 5) { live.appliedFilterChanges == 1 })
        let other = MACAddress(0x02, 0, 0, 0, 0, 0x99)
        try b.exec("ip", "neigh", "replace", "10.77.0.4", "lladdr", "\(other)", "dev", "vb", "nud", "permanent")
        try sendUDP(to: "10.77.0.4")
        XCTAssertTrue(pollUntil([live], seconds: 5) { station.received.contains { self.isUDP($0, to: other) } })
    }

    // PCAP_D_IN: what we inject is not captured back.
    func testOwnTransmissionsDoNotComeBack() throws {
        let station = ourStation()
        let live = try open(station, promiscuous: true)
        defer { live.stop() }
        for i in 0..<10 { station.send(to: .broadcast, tag: UInt16(i)) }
        _ = pollUntil([live], seconds: 0.5) { false }
        XCTAssertFalse(station.received.contains { MACAddress(bytes: $0.dropFirst(6).prefix(6)) == self.ourMAC })
        XCTAssertEqual(live.counters.framesOut, 10)
    }

    // The Board's loop drives the capture like any EventSource, through a switch.
    func testBoardLoopBridgesTheHostInterfaceIntoASwitch() throws {
        let board = Board(memorySize: 1 << 20)
        let sw = VirtualSwitch(clock: board.clock)
        let station = ourStation()
        sw.connect(device: station.port)
        let live = try LiveCapture(interface: "va", macAddress: ourMAC, port: sw.addBackendPort().port, networkNamespace: a.name)
        defer { live.stop() }
        board.add(source: live)
        try b.exec("ip", "neigh", "replace", "10.77.0.1", "lladdr", "\(ourMAC)", "dev", "vb", "nud", "permanent")
        try sendUDP(to: "10.77.0.1")
        let deadline = Date().addingTimeInterval(5)
        while !station.received.contains(where: { self.isUDP($0, to: self.ourMAC) }), Date() < deadline {
            board.step()
            usleep(1_000)
        }
        XCTAssertTrue(station.received.contains { self.isUDP($0, to: self.ourMAC) })
    }

    // MARK: Errors: one line each, saying what to do

    func testMissingInterfaceIsOneClearLine() {
        XCTAssertThrowsError(try LiveCapture(interface: "nosuch0", macAddress: ourMAC, port: FramePort(), networkNamespace: a.name)) { e in
            XCTAssertEqual("\(e)", "interface nosuch0 not found (available: va, lo): pass one of them to --bridge")
        }
    }

    func testInterfaceDownIsOneClearLine() throws {
        try a.exec("ip", "link", "add", "vdown", "type", "veth", "peer", "name", "vdown2")
        XCTAssertThrowsError(try LiveCapture(interface: "vdown", macAddress: ourMAC, port: FramePort(), networkNamespace: a.name)) { e in
            XCTAssertEqual("\(e)", "interface vdown is down: bring it up with `ip link set vdown up` and try again")
        }
    }

    func testMissingCapNetRawIsOneClearLine() throws {
        var message = ""
        let failure = ThreadCapabilities.withoutNetworkCapabilities {
            do {
                _ = try LiveCapture(interface: "va", macAddress: ourMAC, port: FramePort(), networkNamespace: a.name)
                message = "opened without CAP_NET_RAW"
            } catch {
                message = "\(error)"
            }
        }
        XCTAssertNil(failure)
        XCTAssertEqual(message, "no permission to capture on va: run nicsim as root, or grant it CAP_NET_RAW and CAP_NET_ADMIN with `sudo setcap cap_net_raw,cap_net_admin=eip $(command -v nicsim)`")
    }

    func testMissingNamespaceIsOneClearLine() {
        XCTAssertThrowsError(try LiveCapture(interface: "va", macAddress: ourMAC, port: FramePort(), networkNamespace: "nsim-bridge-none")) { e in
            XCTAssertEqual("\(e)", "network namespace nsim-bridge-none not found: create it with `ip netns add nsim-bridge-none` (see `ip netns list`)")
        }
    }

    // The interface going away mid-capture stops the capture with a logged
    // reason and takes the port's link down; nothing traps.
    func testInterfaceVanishingStopsTheCaptureAndDropsTheLink() throws {
        let station = ourStation()
        let live = try open(station)
        defer { live.stop() }
        var logged: [String] = []
        live.log = { logged.append($0) }
        try a.exec("ip", "link", "del", "va")
        XCTAssertTrue(pollUntil([live], seconds: 5) { live.failure != nil })
        XCTAssertFalse(station.port.isLinkUp)
        XCTAssertEqual(logged.count, 1)
    }
}

extension TestStation {
    convenience init(_ mac: MACAddress) {
        self.init(mac: mac)
    }
}
