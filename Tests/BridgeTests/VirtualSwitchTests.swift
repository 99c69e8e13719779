import Bridge
import NICCore
import XCTest

final class VirtualSwitchTests: XCTestCase {
    private func makeSwitch(ports n: Int, agingTime: UInt64 = 300 * VirtualClock.second) -> (VirtualClock, VirtualSwitch, [TestStation]) {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock, seed: 1, configuration: .init(agingTime: agingTime))
        let stations = (0..<n).map { TestStation(UInt8($0 + 1)) }
        for s in stations { sw.connect(device: s.port) }
        return (clock, sw, stations)
    }

    // 802.1D: a frame to an unknown unicast destination is flooded to every port but the one it came in on.
    func testUnknownUnicastIsFloodedToEveryOtherPort() {
        let (_, sw, s) = makeSwitch(ports: 4)
        s[0].send(to: s[2].mac)
        XCTAssertEqual(s[0].received.count, 0)
        XCTAssertEqual(s[1].received.count, 1)
        XCTAssertEqual(s[2].received.count, 1)
        XCTAssertEqual(s[3].received.count, 1)
        XCTAssertEqual(sw.counters.flooded, 1)
    }

    // Broadcast (ff:ff:ff:ff:ff:ff) always floods, even once every station is learned.
    func testBroadcastIsFloodedEvenWhenAllStationsAreLearned() {
        let (_, sw, s) = makeSwitch(ports: 3)
        for st in s { st.send(to: .broadcast) }
        XCTAssertEqual(sw.learnedAddressCount, 3)
        for st in s { st.received.removeAll() }
        s[1].send(to: .broadcast, tag: 9)
        XCTAssertEqual(s[0].tags, [9])
        XCTAssertEqual(s[1].tags, [])
        XCTAssertEqual(s[2].tags, [9])
    }

    // Group addresses (I/G bit set) are flooded: the switch keeps no multicast membership.
    func testMulticastIsFlooded() {
        let (_, sw, s) = makeSwitch(ports: 3)
        s[2].send(to: s[0].mac)
        s[0].received.removeAll(); s[1].received.removeAll()
        s[0].send(to: MACAddress(0x01, 0x00, 0x5E, 0x00, 0x00, 0x01))
        XCTAssertEqual(s[1].received.count, 1)
        XCTAssertEqual(s[2].received.count, 1)
        XCTAssertEqual(sw.counters.flooded, 2)
    }

    // The source address is learned against the ingress port; later frames to it go to that port only.
    func testLearnedDestinationGoesOnlyToItsPort() {
        let (_, sw, s) = makeSwitch(ports: 4)
        s[2].send(to: .broadcast)
        XCTAssertEqual(sw.port(for: s[2].mac), 2)
        for st in s { st.received.removeAll() }
        s[0].send(to: s[2].mac, tag: 5)
        XCTAssertEqual(s[2].tags, [5])
        XCTAssertTrue(s[1].received.isEmpty)
        XCTAssertTrue(s[3].received.isEmpty)
        XCTAssertEqual(sw.counters.forwarded, 1)
    }

    // 802.1D filtering: a frame whose destination is on the segment it came from is not forwarded.
    func testFrameToStationOnIngressPortIsFiltered() {
        let (_, sw, s) = makeSwitch(ports: 3)
        s[0].send(to: .broadcast)
        for st in s { st.received.removeAll() }
        // A second station behind port 0 (a hub) talks to the first.
        TestStation.frame(from: MACAddress(0x02, 0, 0, 0, 0, 0x99), to: s[0].mac, tag: 1).withUnsafeBytes { s[0].port.transmit($0) }
        XCTAssertTrue(s[1].received.isEmpty && s[2].received.isEmpty)
        XCTAssertEqual(sw.counters.filteredSameSegment, 1)
    }

    // IEEE 802.1D table 7-10: 01-80-C2-00-00-00 to -0F are never relayed (a
    // PAUSE frame to 01-80-C2-00-00-01 stays on its link); -10 is an ordinary group.
    func testReservedGroupAddressesAreNotRelayed() {
        let (_, sw, s) = makeSwitch(ports: 2)
        s[0].send(to: MACAddress(0x01, 0x80, 0xC2, 0, 0, 0x01))
        s[0].send(to: MACAddress(0x01, 0x80, 0xC2, 0, 0, 0x0F))
        XCTAssertTrue(s[1].received.isEmpty)
        XCTAssertEqual(sw.counters.reservedGroupFiltered, 2)
        s[0].send(to: MACAddress(0x01, 0x80, 0xC2, 0, 0, 0x10))
        XCTAssertEqual(s[1].received.count, 1)
    }

    // A station that moves to another port is learned at its new port.
    func testStationThatMovesIsRelearned() {
        let (_, sw, s) = makeSwitch(ports: 3)
        s[1].send(to: .broadcast)
        TestStation.frame(from: s[1].mac, to: .broadcast, tag: 0).withUnsafeBytes { s[2].port.transmit($0) }
        XCTAssertEqual(sw.port(for: s[1].mac), 2)
    }

    // Entries not refreshed for the aging time are forgotten, and traffic to them floods again.
    func testEntriesAgeOutOnTheVirtualClock() {
        let (clock, sw, s) = makeSwitch(ports: 3, agingTime: 10 * VirtualClock.second)
        s[1].send(to: .broadcast)
        clock.advance(by: 9 * VirtualClock.second)
        XCTAssertEqual(sw.port(for: s[1].mac), 1)
        clock.advance(by: 1 * VirtualClock.second)
        XCTAssertNil(sw.port(for: s[1].mac))
        for st in s { st.received.removeAll() }
        s[0].send(to: s[1].mac)
        XCTAssertEqual(s[2].received.count, 1, "aged-out destination floods")
    }

    // Refreshing (the station transmits again) restarts its aging timer.
    func testTrafficRefreshesAnEntry() {
        let (clock, sw, s) = makeSwitch(ports: 2, agingTime: 10 * VirtualClock.second)
        s[1].send(to: .broadcast)
        clock.advance(by: 8 * VirtualClock.second)
        s[1].send(to: .broadcast)
        clock.advance(by: 8 * VirtualClock.second)
        XCTAssertEqual(sw.port(for: s[1].mac), 1)
        XCTAssertEqual(sw.learnedAddressCount, 1)
    }

    // Group addresses are never learned as sources (they can't be a station).
    func testMulticastSourceIsNotLearned() {
        let (_, sw, s) = makeSwitch(ports: 2)
        let group = MACAddress(0x03, 0, 0, 0, 0, 1)
        TestStation.frame(from: group, to: .broadcast, tag: 0).withUnsafeBytes { s[0].port.transmit($0) }
        XCTAssertNil(sw.port(for: group))
    }

    // A full MAC table learns nothing new (and counts it) instead of growing without bound.
    func testFullTableStopsLearning() {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock, configuration: .init(macTableCapacity: 2))
        let s = (0..<3).map { TestStation(UInt8($0 + 1)) }
        for st in s { sw.connect(device: st.port) }
        for st in s { st.send(to: .broadcast) }
        XCTAssertEqual(sw.learnedAddressCount, 2)
        XCTAssertEqual(sw.counters.tableFull, 1)
    }

    // Frames shorter than an Ethernet header go nowhere and are counted.
    func testRuntIsDropped() {
        let (_, sw, s) = makeSwitch(ports: 2)
        [UInt8](repeating: 0xFF, count: 13).withUnsafeBytes { s[0].port.transmit($0) }
        XCTAssertTrue(s[1].received.isEmpty)
        XCTAssertEqual(sw.counters.runts, 1)
    }

    // Any number of ports: a broadcast reaches all 64 others.
    func testManyPorts() {
        let (_, sw, s) = makeSwitch(ports: 65)
        s[64].send(to: .broadcast)
        XCTAssertEqual(sw.counters.flooded, 1)
        XCTAssertEqual(s.dropLast().filter { $0.received.count == 1 }.count, 64)
    }

    // Frames reach the station byte for byte.
    func testFrameArrivesUnchanged() {
        let (_, sw, s) = makeSwitch(ports: 2)
        s[0].send(to: s[1].mac, tag: 0x1234)
        XCTAssertEqual(sw.counters.flooded, 1)
        XCTAssertEqual(s[1].received.first, TestStation.frame(from: s[0].mac, to: s[1].mac, tag: 0x1234))
    }

    // A backend port: frames the backend offers are switched, and frames for it go to its transmitter.
    func testBackendPortCarriesFramesBothWays() {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock)
        let nic = TestStation(1)
        sw.connect(device: nic.port)
        let backend = RecordingBackend()
        let bp = sw.addBackendPort()
        bp.port.transmitter = backend
        TestStation.frame(from: MACAddress(0x02, 0, 0, 0, 0, 0x50), to: nic.mac, tag: 3).withUnsafeBytes { _ = bp.port.offer($0) }
        XCTAssertEqual(nic.tags, [3])
        nic.send(to: MACAddress(0x02, 0, 0, 0, 0, 0x50), tag: 4)
        XCTAssertEqual(backend.frames.count, 1)
        XCTAssertEqual(backend.frames.first?[15], 4)
    }
}

/// Records what the switch sends a backend.
final class RecordingBackend: FrameTransmitter {
    var frames: [[UInt8]] = []
    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) { frames.append(Array(frame)) }
}
