import Board
import NICCore
import VirtioNet
import XCTest

@testable import UNDI

final class VirtioNetDriverTests: XCTestCase {
    /// Like iPXE: a transitional device's vendor capabilities make the
    /// driver use the virtio 1.x interface and negotiate VERSION_1.
    func testTransitionalDeviceIsDrivenThroughModernInterface() throws {
        let b = try VirtioNetDriverBench()
        XCTAssertTrue(b.driver.usesModernInterface)
        XCTAssertEqual(b.driver.permanentAddress, VirtioNetDriverBench.mac)
        try b.driver.open(filter: [.directed, .broadcast], multicast: [])
        XCTAssertTrue(b.card.negotiatedFeatures.contains(.version1))
        XCTAssertTrue(b.card.negotiatedFeatures.contains(.mrgRxbuf))
        XCTAssertEqual(b.card.status.rawValue, 0xF)
    }

    /// Without capabilities (disable-modern) the driver uses the legacy I/O BAR.
    func testLegacyOnlyDeviceIsDrivenThroughIOBAR() throws {
        let b = try VirtioNetDriverBench(VirtioNetConfiguration(macAddress: VirtioNetDriverBench.mac, variant: .legacy))
        XCTAssertFalse(b.driver.usesModernInterface)
        XCTAssertNotEqual(b.driver.info.ioBase, 0)
        try b.driver.open(filter: [.directed, .broadcast], multicast: [])
        XCTAssertFalse(b.card.negotiatedFeatures.contains(.version1))
        XCTAssertEqual(b.card.status.rawValue, 0x7)
    }

    /// A modern-only device (1af4:1041, disable-legacy) is found and driven.
    func testModernOnlyDeviceIsFoundAndDriven() throws {
        let b = try VirtioNetDriverBench(VirtioNetConfiguration(macAddress: VirtioNetDriverBench.mac, variant: .modern))
        XCTAssertEqual(b.driver.info.deviceID, 0x1041)
        try b.driver.open(filter: [.directed], multicast: [])
        try b.transmit(VirtioNetDriverBench.frame(1))
        XCTAssertEqual(b.wire.frames, [VirtioNetDriverBench.frame(1)])
    }

    /// Without MRG_RXBUF the driver posts header + frame descriptor pairs,
    /// as a legacy device without ANY_LAYOUT requires, and frames still flow.
    func testLegacyWithoutMergeableBuffersUsesHeaderDescriptors() throws {
        let config = VirtioNetConfiguration(macAddress: VirtioNetDriverBench.mac, variant: .legacy, mergeableReceiveBuffers: false)
        let b = try VirtioNetDriverBench(config)
        try b.driver.open(filter: [.directed, .broadcast], multicast: [])
        XCTAssertEqual(b.card.headerLength, 10)
        let f = VirtioNetDriverBench.frame(7, length: 1514)
        XCTAssertEqual(b.offer(f), .delivered)
        XCTAssertEqual(b.receive(), f)
        XCTAssertNil(b.card.lastError)
    }

    /// MRG_RXBUF with small buffers: a full-size frame spans several and
    /// the driver puts it back together.
    func testMergeableFrameSpanningBuffersIsReassembled() throws {
        var options = VirtioNetDriver.Options()
        options.mergeableBufferSize = 256
        let b = try VirtioNetDriverBench(options: options)
        try b.driver.open(filter: [.directed], multicast: [])
        let f = VirtioNetDriverBench.frame(3, length: 1514)
        XCTAssertEqual(b.offer(f), .delivered)
        XCTAssertEqual(b.card.queues[0].usedIndex, 6, "12 + 1514 bytes in 256-byte buffers")
        XCTAssertEqual(b.receive(), f)
        XCTAssertNil(b.receive())
    }

    /// Through the control queue the UNDI filter reaches the card: without
    /// broadcast in the filter, broadcasts are dropped by the device.
    func testReceiveFilterIsProgrammedThroughControlQueue() throws {
        let b = try VirtioNetDriverBench()
        try b.driver.open(filter: [.directed], multicast: [])
        XCTAssertFalse(b.card.rxFilter.promiscuous)
        XCTAssertEqual(b.offer(VirtioNetDriverBench.frame(1, to: .broadcast)), .filtered)
        XCTAssertEqual(b.offer(VirtioNetDriverBench.frame(2, to: MACAddress(0x52, 0, 0, 0, 0, 9))), .filtered)
        XCTAssertEqual(b.offer(VirtioNetDriverBench.frame(3)), .delivered)
        let group = MACAddress(0x01, 0x00, 0x5E, 0, 0, 0xFB)
        try b.driver.setReceiveFilter([.directed, .broadcast], multicast: [group])
        XCTAssertEqual(b.offer(VirtioNetDriverBench.frame(4, to: group)), .delivered)
        XCTAssertEqual(b.offer(VirtioNetDriverBench.frame(5, to: .broadcast)), .delivered)
        try b.driver.setReceiveFilter([.promiscuous], multicast: [])
        XCTAssertEqual(b.offer(VirtioNetDriverBench.frame(6, to: MACAddress(0x52, 0, 0, 0, 0, 9))), .delivered)
    }

    /// Without a control queue the device stays promiscuous and the driver
    /// filters in software.
    func testSoftwareFilterWithoutControlQueue() throws {
        let b = try VirtioNetDriverBench(VirtioNetConfiguration(macAddress: VirtioNetDriverBench.mac, controlQueue: false))
        try b.driver.open(filter: [.directed], multicast: [])
        XCTAssertEqual(b.offer(VirtioNetDriverBench.frame(1, to: .broadcast)), .delivered)
        XCTAssertEqual(b.offer(VirtioNetDriverBench.frame(2)), .delivered)
        XCTAssertEqual(b.receive(), VirtioNetDriverBench.frame(2))
    }

    /// The station address moves with CTRL_MAC_ADDR_SET.
    func testStationAddressChangeThroughControlQueue() throws {
        let b = try VirtioNetDriverBench()
        try b.driver.open(filter: [.directed], multicast: [])
        let new = MACAddress(0x02, 0x11, 0x22, 0x33, 0x44, 0x55)
        try b.driver.setStationAddress(new)
        XCTAssertEqual(b.card.currentMAC, new)
        XCTAssertEqual(b.offer(VirtioNetDriverBench.frame(1, to: new)), .delivered)
    }

    /// A legacy device without CTRL_MAC_ADDR takes a new address in its config space.
    func testLegacyStationAddressChangeThroughConfigSpace() throws {
        let b = try VirtioNetDriverBench(VirtioNetConfiguration(macAddress: VirtioNetDriverBench.mac, variant: .legacy, controlQueue: false))
        try b.driver.open(filter: [.directed], multicast: [])
        let new = MACAddress(0x02, 0x11, 0x22, 0x33, 0x44, 0x55)
        try b.driver.setStationAddress(new)
        XCTAssertEqual(b.card.currentMAC, new)
    }

    /// Link state comes from the STATUS field of the config space.
    func testLinkStateFollowsBackend() throws {
        let b = try VirtioNetDriverBench()
        try b.driver.open(filter: [.directed], multicast: [])
        XCTAssertTrue(b.driver.linkUp)
        b.card.port.setLink(up: false)
        XCTAssertFalse(b.driver.linkUp)
    }

    /// A received frame raises INTx on the routed IRQ; the driver sees it
    /// pending (ISR read) until it acknowledges. Suppressed, nothing rises.
    func testInterruptsFollowReceiveAndSuppression() throws {
        let b = try VirtioNetDriverBench()
        try b.driver.open(filter: [.directed], multicast: [])
        let irq = try XCTUnwrap(b.board.irq(of: b.address))
        b.driver.setInterruptsEnabled(true)
        _ = b.offer(VirtioNetDriverBench.frame(1))
        XCTAssertTrue(b.board.interrupts.isAsserted(irq))
        XCTAssertTrue(b.driver.interruptPending())
        XCTAssertFalse(b.board.interrupts.isAsserted(irq))
        b.driver.acknowledgeInterrupts()
        XCTAssertFalse(b.driver.interruptPending())
        _ = b.receive()
        b.driver.setInterruptsEnabled(false)
        _ = b.offer(VirtioNetDriverBench.frame(2))
        XCTAssertFalse(b.board.interrupts.isAsserted(irq))
    }

    /// Close resets the card; a second open brings it back with fresh rings.
    func testCloseAndReopen() throws {
        let b = try VirtioNetDriverBench()
        try b.driver.open(filter: [.directed], multicast: [])
        try b.transmit(VirtioNetDriverBench.frame(1))
        b.driver.close()
        XCTAssertEqual(b.card.status.rawValue, 0)
        XCTAssertEqual(b.offer(VirtioNetDriverBench.frame(2)), .queued)
        try b.driver.open(filter: [.directed], multicast: [])
        XCTAssertEqual(b.receive(), VirtioNetDriverBench.frame(2))
        try b.transmit(VirtioNetDriverBench.frame(3))
        XCTAssertEqual(b.wire.frames.count, 2)
    }

    /// Bad lengths are refused before they reach the card.
    func testTransmitRefusesBadLengths() throws {
        let b = try VirtioNetDriverBench()
        try b.driver.open(filter: [.directed], multicast: [])
        XCTAssertThrowsError(try b.transmit([1, 2, 3]))
        XCTAssertThrowsError(try b.transmit([UInt8](repeating: 0, count: 1600)))
        try b.transmit(Array(VirtioNetDriverBench.frame(1)[0..<20]))
        XCTAssertEqual(b.wire.frames.first?.count, 60, "short frames are padded to 60 bytes")
    }
}

final class VirtioNetDriverEventIndexTests: XCTestCase {
    /// 2.7.10: with EVENT_IDX the device's avail_event says when it wants a
    /// kick; reposting receive buffers into a ring it has not drained needs
    /// none. Without EVENT_IDX every repost kicks.
    func testEventIndexSparesReceiveKicks() throws {
        for eventIndex in [true, false] {
            var options = VirtioNetDriver.Options()
            options.eventIndex = eventIndex
            let b = try VirtioNetDriverBench(options: options)
            try b.driver.open(filter: [.directed], multicast: [])
            XCTAssertEqual(b.card.negotiatedFeatures.contains(.eventIdx), eventIndex)
            let before = b.card.counters.notifications
            for n in 0..<100 {
                XCTAssertEqual(b.offer(VirtioNetDriverBench.frame(n)), .delivered)
                XCTAssertEqual(b.receive(), VirtioNetDriverBench.frame(n))
            }
            XCTAssertEqual(b.card.counters.notifications - before, eventIndex ? 0 : 100)
        }
    }

    /// With EVENT_IDX the driver's used_event keeps interrupts coming for
    /// every frame while enabled, and none while suppressed.
    func testEventIndexInterruptsFollowUsedEvent() throws {
        let b = try VirtioNetDriverBench()
        try b.driver.open(filter: [.directed], multicast: [])
        XCTAssertTrue(b.card.negotiatedFeatures.contains(.eventIdx))
        let irq = try XCTUnwrap(b.board.irq(of: b.address))
        b.driver.setInterruptsEnabled(true)
        for n in 0..<3 {
            _ = b.offer(VirtioNetDriverBench.frame(n))
            XCTAssertTrue(b.board.interrupts.isAsserted(irq), "frame \(n)")
            XCTAssertTrue(b.driver.interruptPending())
            b.driver.acknowledgeInterrupts()
            XCTAssertEqual(b.receive(), VirtioNetDriverBench.frame(n))
        }
        b.driver.setInterruptsEnabled(false)
        _ = b.offer(VirtioNetDriverBench.frame(9))
        XCTAssertFalse(b.board.interrupts.isAsserted(irq))
    }
}
