import Board
import NE2000
import NICCore
import XCTest

@testable import UNDI

final class NE2000DriverTests: XCTestCase {
    /// Probe finds the RTL8029 by configuration cycles, takes its I/O base
    /// from BAR0 and its IRQ from the Interrupt Line register, resets it
    /// and reads the station address out of the PROM.
    func testPCIProbeFindsCardAndReadsStationAddress() throws {
        let rig = NE2000Rig()
        try rig.driver.probe()
        XCTAssertEqual(rig.driver.permanentAddress, ne2000MAC)
        XCTAssertEqual(rig.driver.stationAddress, ne2000MAC)
        XCTAssertEqual(rig.driver.name, "RTL8029")
        XCTAssertEqual(rig.driver.info.bus, .pci(PCIAddress(device: 3)))
        XCTAssertEqual(rig.driver.info.ioBase, 0xC000)
        XCTAssertEqual(Int(rig.driver.info.irq), rig.irq)
        XCTAssertEqual(rig.driver.info.classCode, 0x02_00_00)
    }

    /// With no RTL8029 on the bus the probe says so.
    func testPCIProbeWithoutCardFails() {
        let bus = DriverBus(board: Board(memorySize: 1 << 20))
        let driver = NE2000Driver(bus: bus, location: .pci())
        XCTAssertThrowsError(try driver.probe()) { error in
            guard case DriverError.deviceNotFound = error else { return XCTFail("\(error)") }
        }
    }

    /// An ISA NE2000 at 0x300: the PROM read in byte mode shows each byte
    /// twice, which marks a 16-bit card; the address is every other byte.
    func testISAProbeReadsStationAddressInByteMode() throws {
        let rig = try NE2000Rig(isaAt: 0x300)
        try rig.driver.probe()
        XCTAssertEqual(rig.driver.permanentAddress, ne2000MAC)
        XCTAssertTrue(rig.driver.wordMode)
        XCTAssertEqual(rig.driver.info.bus, .isa(ioBase: 0x300))
    }

    /// Nothing at the port reads 0xFF: no card.
    func testISAProbeAtEmptyPortFails() throws {
        let rig = try NE2000Rig(isaAt: 0x300)
        let other = NE2000Driver(bus: rig.bus, location: .isa(ioBase: 0x280, irq: 5))
        XCTAssertThrowsError(try other.probe()) { error in
            guard case DriverError.deviceNotFound = error else { return XCTFail("\(error)") }
        }
    }

    /// Transmit puts the exact frame on the wire; a short one is padded
    /// with zeros to 60 bytes by the driver.
    func testTransmitSendsExactFrameAndPadsShortOnes() throws {
        let rig = NE2000Rig()
        try rig.probeAndOpen()
        let frame = streamFrame(5)
        try rig.send(frame)
        XCTAssertEqual(rig.wire.last, frame)
        let short = Array(streamFrame(0)[0..<42])
        try rig.send(short)
        XCTAssertEqual(rig.wire.last, short + [UInt8](repeating: 0, count: 18))
        XCTAssertEqual(rig.driver.statistics.transmitted, 2)
    }

    /// Frames shorter than a MAC header or longer than 1514 are refused.
    func testTransmitRefusesBadLengths() throws {
        let rig = NE2000Rig()
        try rig.probeAndOpen()
        XCTAssertThrowsError(try rig.send([UInt8](repeating: 0, count: 10)))
        XCTAssertThrowsError(try rig.send([UInt8](repeating: 0, count: 1515)))
    }

    /// Received frames come out of the ring whole and in order, across the
    /// wrap from PSTOP back to PSTART.
    func testReceiveReadsFramesInOrderAcrossRingWrap() throws {
        let rig = NE2000Rig()
        try rig.probeAndOpen()
        var got: [[UInt8]] = []
        for i in 0..<60 {
            streamFrame(i).withUnsafeBytes { _ = rig.port.offer($0) }
            if i % 3 == 2 { got += rig.drain() }
        }
        got += rig.drain()
        XCTAssertEqual(got.count, 60)
        for (i, frame) in got.enumerated() { XCTAssertEqual(frame, streamFrame(i), "frame \(i)") }
    }

    /// The filter given to open decides what the card takes: without
    /// broadcast, broadcasts are filtered; a multicast in the list passes.
    func testOpenProgramsReceiveFilter() throws {
        let rig = NE2000Rig()
        let group = MACAddress(0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB)
        try rig.probeAndOpen([.directed], multicast: [group])
        XCTAssertEqual(streamFrame(1, to: .broadcast).withUnsafeBytes { rig.port.offer($0) }, .filtered)
        XCTAssertEqual(streamFrame(2, to: group).withUnsafeBytes { rig.port.offer($0) }, .delivered)
        XCTAssertEqual(streamFrame(3, to: peerMAC).withUnsafeBytes { rig.port.offer($0) }, .filtered)
        try rig.driver.setReceiveFilter([.directed, .promiscuous], multicast: [])
        XCTAssertEqual(streamFrame(4, to: peerMAC).withUnsafeBytes { rig.port.offer($0) }, .delivered)
        XCTAssertEqual(rig.drain(), [streamFrame(2, to: group), streamFrame(4, to: peerMAC)])
    }

    /// A new station address moves the unicast filter.
    func testSetStationAddressMovesUnicastFilter() throws {
        let rig = NE2000Rig()
        try rig.probeAndOpen()
        try rig.driver.setStationAddress(peerMAC)
        XCTAssertEqual(streamFrame(1, to: peerMAC).withUnsafeBytes { rig.port.offer($0) }, .delivered)
        XCTAssertEqual(streamFrame(2).withUnsafeBytes { rig.port.offer($0) }, .filtered)
    }

    /// The ring overflows while the driver is away (ISR.OVW); the driver
    /// runs the stop / loopback / drain recovery, and with a wire that
    /// holds frames not one is lost.
    func testOverflowRecoveryLosesNoHeldFrames() throws {
        let rig = NE2000Rig(pci: .hold(capacity: 128))
        try rig.probeAndOpen()
        for i in 0..<100 { streamFrame(i).withUnsafeBytes { _ = rig.port.offer($0) } }
        XCTAssertGreaterThan(rig.port.pendingFrames, 0, "the ring filled")
        var got: [[UInt8]] = []
        for _ in 0..<1000 where got.count < 100 {
            got += rig.drain()
            rig.board.step()
        }
        XCTAssertEqual(got.count, 100)
        for (i, frame) in got.enumerated() { XCTAssertEqual(frame, streamFrame(i), "frame \(i)") }
        XCTAssertEqual(rig.port.counters.droppedNoRoom, 0)
    }

    /// With a wire that drops, overflow loses frames; the driver counts
    /// them from CNTR2 as resource errors and keeps receiving.
    func testOverflowWithDroppingWireCountsMissedFrames() throws {
        let rig = NE2000Rig(pci: .drop)
        try rig.probeAndOpen()
        for i in 0..<40 { streamFrame(i).withUnsafeBytes { _ = rig.port.offer($0) } }
        let first = rig.drain()
        XCTAssertLessThan(first.count, 40)
        XCTAssertEqual(rig.driver.statistics.receiveResourceErrors, 40 - first.count)
        streamFrame(99).withUnsafeBytes { _ = rig.port.offer($0) }
        XCTAssertEqual(rig.drain(), [streamFrame(99)])
    }

    /// Interrupts: enabled, a received frame raises the IRQ line; the
    /// driver sees it pending and acknowledges it.
    func testInterruptRaisedAndAcknowledged() throws {
        let rig = try NE2000Rig(isaAt: 0x300, irq: 9)
        try rig.probeAndOpen()
        rig.driver.setInterruptsEnabled(true)
        XCTAssertFalse(rig.board.interrupts.isAsserted(9))
        streamFrame(1).withUnsafeBytes { _ = rig.port.offer($0) }
        XCTAssertTrue(rig.board.interrupts.isAsserted(9))
        XCTAssertTrue(rig.driver.interruptPending())
        rig.driver.acknowledgeInterrupts()
        XCTAssertFalse(rig.board.interrupts.isAsserted(9))
        XCTAssertEqual(rig.drain().count, 1)
    }

    /// Closed, the card takes nothing and the driver returns nothing.
    func testCloseStopsReceiver() throws {
        let rig = NE2000Rig()
        try rig.probeAndOpen()
        rig.driver.close()
        XCTAssertEqual(streamFrame(1).withUnsafeBytes { rig.port.offer($0) }, .queued)
        XCTAssertTrue(rig.drain().isEmpty)
    }

    /// On PCI the card's interrupt is INTA, routed to the IRQ the BIOS
    /// wrote in the Interrupt Line register; a received frame with
    /// interrupts enabled raises it until acknowledged.
    func testPCIInterruptReachesRoutedIRQ() throws {
        let rig = NE2000Rig()
        try rig.probeAndOpen()
        rig.driver.setInterruptsEnabled(true)
        XCTAssertGreaterThanOrEqual(rig.irq, 0)
        streamFrame(1).withUnsafeBytes { _ = rig.port.offer($0) }
        XCTAssertTrue(rig.board.interrupts.isAsserted(rig.irq))
        rig.driver.acknowledgeInterrupts()
        XCTAssertFalse(rig.board.interrupts.isAsserted(rig.irq))
        rig.driver.setInterruptsEnabled(false)
        streamFrame(2).withUnsafeBytes { _ = rig.port.offer($0) }
        XCTAssertFalse(rig.board.interrupts.isAsserted(rig.irq), "masked")
        XCTAssertEqual(rig.drain().count, 2)
    }

    /// Shutdown leaves the card reset: stopped, interrupts masked.
    func testShutdownLeavesCardQuiet() throws {
        let rig = NE2000Rig()
        try rig.probeAndOpen()
        rig.driver.setInterruptsEnabled(true)
        rig.driver.shutdown()
        XCTAssertEqual(streamFrame(1).withUnsafeBytes { rig.port.offer($0) }, .queued)
        XCTAssertFalse(rig.board.interrupts.isAsserted(rig.irq))
        XCTAssertEqual(rig.bus.inb(UInt16(rig.driver.info.ioBase)) & 0x01, 0x01, "STP")
    }

    /// A receive header that makes no sense (a byte count past any frame)
    /// is not trusted: the driver gives up what is in the ring, counts an
    /// error, and goes on receiving.
    func testBogusReceiveHeaderIsNotTrusted() throws {
        let rig = NE2000Rig()
        try rig.probeAndOpen()
        streamFrame(1).withUnsafeBytes { _ = rig.port.offer($0) }
        // Corrupt the header's byte count in packet memory (page 0x46).
        rig.nic.poke(0x4602, 0xFF)
        rig.nic.poke(0x4603, 0x7F)
        XCTAssertTrue(rig.drain().isEmpty)
        XCTAssertEqual(rig.driver.statistics.receiveResourceErrors, 1)
        streamFrame(2).withUnsafeBytes { _ = rig.port.offer($0) }
        XCTAssertEqual(rig.drain(), [streamFrame(2)])
    }

    /// An ISA card jumpered away from the defaults is found where it is.
    func testISACardAtOtherBaseAndIRQ() throws {
        let rig = try NE2000Rig(isaAt: 0x280, irq: 5)
        try rig.probeAndOpen()
        XCTAssertEqual(rig.driver.info.ioBase, 0x280)
        XCTAssertEqual(rig.driver.info.irq, 5)
        rig.driver.setInterruptsEnabled(true)
        streamFrame(1).withUnsafeBytes { _ = rig.port.offer($0) }
        XCTAssertTrue(rig.board.interrupts.isAsserted(5))
        XCTAssertEqual(rig.drain(), [streamFrame(1)])
    }
}
