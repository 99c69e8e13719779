import Board
import NICCore
import RTL8139
import XCTest

@testable import UNDI

final class RTL8139DriverTests: XCTestCase {
    /// The driver finds 10ec:8139, and reads the MAC from the EEPROM (words
    /// 7-9), not from IDR: IDR is changed first and the EEPROM MAC still wins.
    func testProbeReadsMACFromEEPROM() throws {
        let rig = RTL8139DriverRig()
        let io = UInt16(rig.bus.barBase(PCIAddress(device: 3), 0))
        rig.bus.outl(io, 0x4433_2211)
        rig.bus.outl(io + 4, 0x6655)
        try rig.driver.probe()
        XCTAssertEqual(rig.driver.permanentAddress, RTL8139DriverRig.mac)
        XCTAssertEqual(rig.driver.info.vendorID, 0x10EC)
        XCTAssertEqual(rig.driver.info.revision, 0x20)
        XCTAssertEqual(rig.driver.info.bus, .pci(PCIAddress(device: 3)))
    }

    /// iPXE's probe: RMS does not stick on an 8139C+, CPCR does, so the
    /// driver uses the C+ rings; `.classic` keeps the classic path.
    func testProbeDetectsCPlus() throws {
        let auto = RTL8139DriverRig()
        try auto.driver.probe()
        XCTAssertTrue(auto.driver.chipHasCPlus)
        XCTAssertTrue(auto.driver.usesCPlus)
        let classic = RTL8139DriverRig(mode: .classic)
        try classic.driver.probe()
        XCTAssertTrue(classic.driver.chipHasCPlus)
        XCTAssertFalse(classic.driver.usesCPlus)
    }

    /// No card: probe says so.
    func testProbeWithoutCardFails() {
        let driver = RTL8139Driver(bus: DriverBus(board: Board(memorySize: 1 << 20)))
        XCTAssertThrowsError(try driver.probe()) { error in
            guard case DriverError.deviceNotFound = error else { return XCTFail("\(error)") }
        }
    }

    /// Open programs IDR, RCR (APM|AB for directed+broadcast) and enables RE|TE.
    func testOpenProgramsFilterAndEnables() throws {
        let rig = RTL8139DriverRig(mode: .classic)
        try rig.driver.probe()
        try rig.driver.open(filter: [.directed, .broadcast], multicast: [])
        let io = UInt16(rig.bus.barBase(PCIAddress(device: 3), 0))
        XCTAssertEqual(rig.bus.inb(io + 0x37) & 0x0C, 0x0C)
        XCTAssertEqual(rig.bus.inl(io + 0x44) & 0x3F, 0x0A)
        XCTAssertEqual(offer(rig, sequencedFrame(1, length: 60, to: MACAddress(2, 7, 7, 7, 7, 7))), .filtered)
    }

    /// A multicast list sets AM and exactly the hashed MAR bits; promiscuous
    /// accepts everything.
    func testMulticastAndPromiscuousFilters() throws {
        let rig = RTL8139DriverRig()
        try rig.driver.probe()
        let group = MACAddress(0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB)
        try rig.driver.open(filter: [.directed], multicast: [group])
        let other = MACAddress(0x01, 0x00, 0x5E, 0x7F, 0x12, 0x34)
        XCTAssertEqual(offer(rig, sequencedFrame(1, length: 60, to: group)), .delivered)
        if MulticastHash.index(of: other) != MulticastHash.index(of: group) {
            XCTAssertEqual(offer(rig, sequencedFrame(2, length: 60, to: other)), .filtered)
        }
        try rig.driver.setReceiveFilter([.promiscuous], multicast: [])
        XCTAssertEqual(offer(rig, sequencedFrame(3, length: 60, to: MACAddress(2, 7, 7, 7, 7, 7))), .delivered)
    }

    /// Link state comes from MSR.LINKB.
    func testLinkFollowsBackend() throws {
        let rig = RTL8139DriverRig()
        try rig.driver.probe()
        XCTAssertTrue(rig.driver.linkUp)
        rig.nic.port.setLink(up: false)
        XCTAssertFalse(rig.driver.linkUp)
    }

    /// With interrupts enabled a received frame asserts the card's IRQ;
    /// acknowledging clears the cause.
    func testInterruptPendingAndAcknowledge() throws {
        let rig = RTL8139DriverRig()
        try rig.driver.probe()
        try rig.driver.open(filter: [.directed], multicast: [])
        rig.driver.setInterruptsEnabled(true)
        XCTAssertFalse(rig.driver.interruptPending())
        offer(rig, sequencedFrame(1, length: 100))
        XCTAssertTrue(rig.driver.interruptPending())
        let irq = try XCTUnwrap(rig.board.irq(of: PCIAddress(device: 3)))
        XCTAssertTrue(rig.board.interrupts.isAsserted(irq))
        rig.driver.acknowledgeInterrupts()
        XCTAssertFalse(rig.driver.interruptPending())
    }

    /// Frames outside 14...1514 bytes are refused.
    func testTransmitRejectsBadLengths() throws {
        let rig = RTL8139DriverRig()
        try rig.driver.probe()
        try rig.driver.open(filter: [.directed], multicast: [])
        let big = [UInt8](repeating: 0, count: 1515)
        XCTAssertThrowsError(try big.withUnsafeBytes { try rig.driver.transmit($0) })
    }

    /// Short frames leave the card padded to 60 bytes with zeros.
    func testShortFramesArePadded() throws {
        for mode in [RTL8139Driver.Mode.classic, .automatic] {
            let rig = RTL8139DriverRig(mode: mode)
            rig.keepSent = true
            try rig.driver.probe()
            try rig.driver.open(filter: [.directed], multicast: [])
            let frame = sequencedFrame(9, length: 42)
            try frame.withUnsafeBytes { try rig.driver.transmit($0) }
            XCTAssertEqual(rig.sentFrames, [frame + [UInt8](repeating: 0, count: 18)])
        }
    }

    // MARK: Volume

    /// 10,000 frames each way through the classic ring and slots, none lost,
    /// none reordered, each byte intact.
    func testClassicPathTenThousandFramesEachWay() throws {
        try framesEachWay(10_000, mode: .classic)
    }

    /// The same through the C+ descriptor rings.
    func testCPlusPathTenThousandFramesEachWay() throws {
        try framesEachWay(10_000, mode: .automatic)
    }

    /// Both paths also work with the registers reached through port I/O (BAR0).
    func testPortIOAccessBothPaths() throws {
        try framesEachWay(500, mode: .classic, access: .portIO)
        try framesEachWay(500, mode: .automatic, access: .portIO)
    }

    /// In C+ mode a frame longer than one receive buffer arrives scattered
    /// over two descriptors; the driver drops it whole and the next frame
    /// comes through intact.
    func testCPlusDriverDropsScatteredFrame() throws {
        let rig = RTL8139DriverRig()
        try rig.driver.probe()
        try rig.driver.open(filter: [.directed], multicast: [])
        offer(rig, sequencedFrame(1, length: 2000))
        offer(rig, sequencedFrame(2, length: 100))
        var buffer = [UInt8](repeating: 0, count: 2048)
        let n = buffer.withUnsafeMutableBytes { rig.driver.receive(into: $0) }
        XCTAssertEqual(n, 100)
        XCTAssertEqual(Array(buffer[0..<100]), sequencedFrame(2, length: 100))
        XCTAssertEqual(rig.driver.statistics.receiveResourceErrors, 1)
    }

    private func framesEachWay(_ count: Int, mode: RTL8139Driver.Mode,
                               access: RTL8139Driver.RegisterAccess = .memoryMapped) throws {
        let rig = RTL8139DriverRig(mode: mode, access: access)
        try rig.driver.probe()
        XCTAssertEqual(rig.driver.usesCPlus, mode == .automatic)
        try rig.driver.open(filter: [.directed, .broadcast], multicast: [])
        func length(_ i: Int) -> Int { 60 + (i * 37) % (1514 - 60 + 1) }

        // Transmit: every frame reaches the wire, in order, intact.
        var expected = 0
        var mismatches = 0
        rig.onSend = { frame in
            let want = sequencedFrame(expected, length: length(expected))
            if !frame.elementsEqual(want) { mismatches += 1 }
            expected += 1
        }
        for i in 0..<count {
            let frame = sequencedFrame(i, length: length(i))
            try frame.withUnsafeBytes { try rig.driver.transmit($0) }
        }
        XCTAssertEqual(rig.sentCount, count)
        XCTAssertEqual(mismatches, 0)
        XCTAssertEqual(rig.driver.statistics.transmitted, count)

        // Receive: offered in bursts larger than the ring holds; held frames
        // are re-offered by the event loop as the driver frees space.
        var buffer = [UInt8](repeating: 0, count: 2048)
        var received = 0
        var bad = 0
        var offered = 0
        while received < count {
            while offered < count, offered - received < 48 {
                let result = offer(rig, sequencedFrame(offered, length: length(offered)))
                XCTAssertNotEqual(result, .dropped)
                offered += 1
            }
            var progressed = false
            while let n = buffer.withUnsafeMutableBytes({ rig.driver.receive(into: $0) }) {
                let want = sequencedFrame(received, length: length(received))
                if n != want.count || !buffer[0..<n].elementsEqual(want) { bad += 1 }
                received += 1
                progressed = true
            }
            rig.board.runUntilIdle()
            if !progressed, rig.nic.port.pendingFrames == 0, offered == count, received < count { break }
        }
        XCTAssertEqual(received, count)
        XCTAssertEqual(bad, 0)
        XCTAssertEqual(rig.driver.statistics.received, count)
        XCTAssertEqual(rig.nic.port.counters.droppedNoRoom, 0)
        XCTAssertEqual(rig.driver.statistics.receiveResourceErrors, 0, "held frames are not missed")
    }

    @discardableResult
    private func offer(_ rig: RTL8139DriverRig, _ frame: [UInt8]) -> OfferResult {
        frame.withUnsafeBytes { rig.nic.port.offer($0) }
    }
}

final class RTL8139DriverRingSlackTests: XCTestCase {
    /// In classic mode a 4000-byte frame written across the end of the
    /// ring (WRAP set) lands in the driver's slack, not in its transmit
    /// buffers: a frame sent afterwards is still intact.
    func testLongFrameAtRingEndStaysInSlack() throws {
        let rig = RTL8139DriverRig(mode: .classic)
        rig.keepSent = true
        try rig.driver.probe()
        try rig.driver.open(filter: [.directed], multicast: [])
        var buffer = [UInt8](repeating: 0, count: 4096)
        // Walk the ring almost to its end with 1514-byte frames.
        var sequence = 0
        while rig.driver.rxOffset < RTL8139Driver.classicRingSize - 1600 {
            let frame = sequencedFrame(sequence, length: 1514)
            frame.withUnsafeBytes { _ = rig.nic.port.offer($0) }
            XCTAssertEqual(buffer.withUnsafeMutableBytes { rig.driver.receive(into: $0) }, 1514)
            sequence += 1
        }
        let outgoing = sequencedFrame(99, length: 1000)
        try outgoing.withUnsafeBytes { try rig.driver.transmit($0) }
        let long = sequencedFrame(7, length: 4000)
        long.withUnsafeBytes { _ = rig.nic.port.offer($0) }
        XCTAssertEqual(buffer.withUnsafeMutableBytes { rig.driver.receive(into: $0) }, 4000)
        XCTAssertEqual(Array(buffer[0..<4000]), long)
        // Slot 0's transmit buffer, allocated right after the ring, still
        // holds the frame staged there.
        XCTAssertEqual(try rig.board.memory.readBytes(at: rig.driver.txBuffers, count: 1000), outgoing)
    }
}

final class RTL8139DriverLifecycleTests: XCTestCase {
    /// close() turns the receiver and transmitter off (the card takes no
    /// frames); a second open() brings both paths back from the start.
    func testCloseAndReopen() throws {
        for mode in [RTL8139Driver.Mode.classic, .automatic] {
            let rig = RTL8139DriverRig(mode: mode, policy: .drop)
            try rig.driver.probe()
            try rig.driver.open(filter: [.directed], multicast: [])
            rig.driver.close()
            XCTAssertEqual(sequencedFrame(1, length: 80).withUnsafeBytes { rig.nic.port.offer($0) }, .dropped)
            try rig.driver.open(filter: [.directed], multicast: [])
            XCTAssertEqual(sequencedFrame(2, length: 80).withUnsafeBytes { rig.nic.port.offer($0) }, .delivered)
            var buffer = [UInt8](repeating: 0, count: 2048)
            XCTAssertEqual(buffer.withUnsafeMutableBytes { rig.driver.receive(into: $0) }, 80)
            XCTAssertEqual(Array(buffer[0..<80]), sequencedFrame(2, length: 80))
        }
    }

    /// shutdown() leaves the card reset: RE/TE off, IMR 0, C+ off.
    func testShutdownLeavesCardReset() throws {
        let rig = RTL8139DriverRig()
        try rig.driver.probe()
        try rig.driver.open(filter: [.directed], multicast: [])
        rig.driver.setInterruptsEnabled(true)
        rig.driver.shutdown()
        let io = UInt16(rig.bus.barBase(PCIAddress(device: 3), 0))
        XCTAssertEqual(rig.bus.inb(io + 0x37) & 0x0C, 0)
        XCTAssertEqual(rig.bus.inw(io + 0x3C), 0)
        XCTAssertEqual(rig.bus.inw(io + 0xE0) & 0x3, 0)
    }

    /// setStationAddress reprograms IDR: frames to the new address are
    /// accepted, frames to the old one are not.
    func testSetStationAddress() throws {
        let rig = RTL8139DriverRig(policy: .drop)
        try rig.driver.probe()
        try rig.driver.open(filter: [.directed], multicast: [])
        let fresh = MACAddress(0x02, 0x11, 0x22, 0x33, 0x44, 0x55)
        try rig.driver.setStationAddress(fresh)
        XCTAssertEqual(sequencedFrame(1, length: 80, to: fresh).withUnsafeBytes { rig.nic.port.offer($0) }, .delivered)
        XCTAssertEqual(sequencedFrame(2, length: 80).withUnsafeBytes { rig.nic.port.offer($0) }, .filtered)
        XCTAssertEqual(rig.driver.permanentAddress, RTL8139DriverRig.mac)
    }
}
