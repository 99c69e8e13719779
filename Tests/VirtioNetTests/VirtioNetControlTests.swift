import NICCore
import VirtioNet
import XCTest

/// The control queue (virtio 1.x 5.1.6.5): RX mode, MAC table, VLAN filter.
final class VirtioNetControlTests: XCTestCase {
    let data = VirtioTestGuest.dataBase
    static let other = MACAddress(0x52, 0x54, 0x00, 0xAA, 0xBB, 0xCC)
    static let group = MACAddress(0x01, 0x00, 0x5E, 0x00, 0x00, 0x01)
    private var nextHead: UInt16 = 0

    private func started(_ features: VirtioFeatures = VirtioTestGuest.modernFeatures) -> VirtioTestGuest {
        let g = VirtioTestGuest()
        XCTAssertEqual(g.start(features: features), 0xF)
        for i in 0..<16 as Range<UInt16> {
            g.rx.setDescriptor(i, address: data + 0x1000 * UInt64(i), length: 2048, flags: MockVirtQueue.write)
            g.rx.publish(i)
        }
        return g
    }

    /// Sends one command and returns the ack byte the device wrote.
    private func command(_ g: VirtioTestGuest, _ cls: UInt8, _ cmd: UInt8, _ payload: [UInt8]) -> UInt8 {
        let base = data + 0x40000 + UInt64(nextHead) * 0x1000
        g.put([cls, cmd], at: base)
        g.put(payload, at: base + 0x10)
        g.put([0xFF], at: base + 0x800)
        let h = nextHead * 3 % 15
        g.ctrl.setDescriptor(h, address: base, length: 2, flags: MockVirtQueue.next, next: h + 1)
        g.ctrl.setDescriptor(h + 1, address: base + 0x10, length: UInt32(payload.count), flags: MockVirtQueue.next, next: h + 2)
        g.ctrl.setDescriptor(h + 2, address: base + 0x800, length: 1, flags: MockVirtQueue.write)
        g.ctrl.publish(h)
        nextHead += 1
        g.kick(2)
        return g.bytes(at: base + 0x800, 1).first ?? 0xEE
    }

    private func macTable(unicast: [MACAddress], multicast: [MACAddress]) -> [UInt8] {
        func le32(_ n: Int) -> [UInt8] { [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24 & 0xFF)] }
        return le32(unicast.count) + unicast.flatMap(\.bytes) + le32(multicast.count) + multicast.flatMap(\.bytes)
    }

    /// At reset the device is promiscuous (drivers without CTRL_RX get
    /// everything); PROMISC off leaves only our address and broadcast.
    func testPromiscuousOffFiltersOtherUnicast() {
        let g = started()
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(to: Self.other)), .delivered)
        XCTAssertEqual(command(g, 0, 0, [0]), 0)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(to: Self.other)), .filtered)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(to: VirtioTestGuest.mac)), .delivered)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(to: .broadcast)), .delivered)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(to: Self.group)), .filtered)
        XCTAssertEqual(g.device.counters.filteredFrames, 2)
    }

    /// VIRTIO_NET_CTRL_MAC_TABLE_SET: listed unicast and multicast addresses pass.
    func testMACTableAdmitsListedAddresses() {
        let g = started()
        XCTAssertEqual(command(g, 0, 0, [0]), 0)
        XCTAssertEqual(command(g, 1, 0, macTable(unicast: [Self.other], multicast: [Self.group])), 0)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(to: Self.other)), .delivered)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(to: Self.group)), .delivered)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(to: MACAddress(0x01, 0, 0x5E, 0, 0, 9))), .filtered)
    }

    /// A table longer than the device keeps sets its overflow: the whole class passes.
    func testMACTableOverflowAcceptsWholeClass() {
        let g = started()
        XCTAssertEqual(command(g, 0, 0, [0]), 0)
        let many = (0..<65).map { MACAddress(0x01, 0, 0x5E, 0, 1, UInt8($0)) }
        XCTAssertEqual(command(g, 1, 0, macTable(unicast: [], multicast: many)), 0)
        XCTAssertTrue(g.device.rxFilter.multicastOverflow)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(to: MACAddress(0x01, 0, 0x5E, 0x7F, 0, 1))), .delivered)
    }

    /// A table whose counts don't match its length is refused.
    func testMalformedMACTableIsRefused() {
        let g = started()
        var table = macTable(unicast: [Self.other], multicast: [])
        table[0] = 9
        XCTAssertEqual(command(g, 1, 0, table), 1)
        XCTAssertEqual(g.device.counters.controlErrors, 1)
    }

    /// ALLMULTI, NOBCAST and NOUNI (CTRL_RX_EXTRA).
    func testRxModeSwitches() {
        let g = started()
        XCTAssertEqual(command(g, 0, 0, [0]), 0)
        XCTAssertEqual(command(g, 0, 1, [1]), 0)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(to: Self.group)), .delivered)
        XCTAssertEqual(command(g, 0, 5, [1]), 0)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(to: .broadcast)), .filtered)
        XCTAssertEqual(command(g, 0, 4, [1]), 0)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(to: VirtioTestGuest.mac)), .filtered)
        XCTAssertEqual(command(g, 0, 3, [1]), 0)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(to: Self.group)), .filtered)
    }

    /// VIRTIO_NET_CTRL_VLAN: with CTRL_VLAN no tagged frame passes until its
    /// VLAN is added; DEL removes it again.
    func testVLANFilter() {
        let g = started()
        XCTAssertEqual(command(g, 0, 0, [0]), 0)
        var tagged = VirtioTestGuest.frame(to: VirtioTestGuest.mac, length: 64, type: (0x81, 0x00))
        tagged[14] = 0x00
        tagged[15] = 0x05
        XCTAssertEqual(g.offer(tagged), .filtered)
        XCTAssertEqual(command(g, 2, 0, [5, 0]), 0)
        XCTAssertEqual(g.offer(tagged), .delivered)
        XCTAssertEqual(command(g, 2, 1, [5, 0]), 0)
        XCTAssertEqual(g.offer(tagged), .filtered)
        XCTAssertEqual(command(g, 2, 0, [0x00, 0x10]), 1, "VLAN IDs stop at 4095")
    }

    /// A command whose feature was not negotiated gets VIRTIO_NET_ERR.
    func testCommandWithoutFeatureIsRefused() {
        let g = started([.version1, .mac, .ctrlVQ])
        XCTAssertEqual(command(g, 0, 0, [0]), 1)
        XCTAssertEqual(command(g, 2, 0, [1, 0]), 1)
        XCTAssertEqual(command(g, 9, 9, []), 1)
        XCTAssertTrue(g.device.rxFilter.promiscuous)
    }

    /// VIRTIO_NET_CTRL_MAC_ADDR_SET changes the station address the filter uses.
    func testMACAddressSet() {
        let g = started()
        XCTAssertEqual(command(g, 0, 0, [0]), 0)
        XCTAssertEqual(command(g, 1, 1, Self.other.bytes), 0)
        XCTAssertEqual(g.device.currentMAC, Self.other)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(to: Self.other)), .delivered)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(to: VirtioTestGuest.mac)), .filtered)
    }

    /// A control chain with no writable ack byte is a broken queue.
    func testControlChainWithoutAckNeedsReset() {
        let g = started()
        g.put([0, 0, 0], at: data + 0x40000)
        g.ctrl.setDescriptor(0, address: data + 0x40000, length: 3)
        g.ctrl.publish(0)
        g.kick(2)
        XCTAssertEqual(g.device.lastError, .controlWithoutAck)
        XCTAssertEqual(g.status & 0x40, 0x40)
    }

    /// A reset brings the filter back to promiscuous with empty tables.
    func testResetRestoresPromiscuousFilter() {
        let g = started()
        XCTAssertEqual(command(g, 0, 0, [0]), 0)
        g.setStatus(0)
        XCTAssertTrue(g.device.rxFilter.promiscuous)
        XCTAssertTrue(g.device.rxFilter.unicastTable.isEmpty)
    }
}
