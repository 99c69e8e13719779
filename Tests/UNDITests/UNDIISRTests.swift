import Board
import NICCore
import XCTest

@testable import UNDI

/// PXENV_UNDI_ISR: START says OURS/NOT_OURS and masks the NIC; PROCESS and
/// GET_NEXT return TRANSMIT and RECEIVE events one at a time, then DONE,
/// which unmasks it. ProtType and PktType describe each received frame.
final class UNDIISRTests: XCTestCase {
    func testStartWithNothingPendingIsNotOurs() throws {
        let (undi, _) = makeUNDI()
        guard case .notOurs = try undi.isr(.start) else { return XCTFail("expected NOT_OURS") }
    }

    func testStartWithAReceivedFrameIsOursAndMasksTheNIC() throws {
        let (undi, driver) = makeUNDI()
        driver.setInterruptsEnabled(true)
        driver.deliver(ethernetFrame(to: driver.stationAddress, type: 0x0800))
        let result = try undi.isr(.start)
        XCTAssertEqual(result.funcFlag, 0)
        guard case .ours = result else { return XCTFail("expected OURS") }
        XCTAssertFalse(driver.interruptsEnabled)
    }

    func testProcessReturnsTheFrameWithProtTypeAndPktType() throws {
        let (undi, driver) = makeUNDI()
        let frame = ethernetFrame(to: driver.stationAddress, type: 0x0806, length: 60)
        driver.deliver(frame)
        _ = try undi.isr(.start)
        guard case .receive(let f) = try undi.isr(.process) else { return XCTFail("expected RECEIVE") }
        XCTAssertEqual(f.frameLength, 60)
        XCTAssertEqual(f.headerLength, 14)
        XCTAssertEqual(f.protocolType, .arp)
        XCTAssertEqual(f.packetType, .directed)
        XCTAssertEqual(Array(f.bytes), frame)
    }

    func testBroadcastFrameHasPktTypeBroadcastAndIPProtType() throws {
        let (undi, driver) = makeUNDI()
        driver.deliver(ethernetFrame(to: .broadcast, type: 0x0800))
        guard case .receive(let f) = try undi.isr(.process) else { return XCTFail("expected RECEIVE") }
        XCTAssertEqual(f.packetType, .broadcast)
        XCTAssertEqual(f.protocolType, .ip)
    }

    func testMulticastFrameHasPktTypeMulticastAndOtherProtType() throws {
        let (undi, driver) = makeUNDI()
        let group = MACAddress(0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB)
        XCTAssertEqual(undi.setMulticastAddresses([group]), .success)
        driver.deliver(ethernetFrame(to: group, type: 0x86DD))
        guard case .receive(let f) = try undi.isr(.process) else { return XCTFail("expected RECEIVE") }
        XCTAssertEqual(f.packetType, .multicast)
        XCTAssertEqual(f.protocolType, .other)
    }

    func testTransmitCompletionIsReportedBeforeReceivedFramesThenDone() throws {
        let (undi, driver) = makeUNDI()
        let payload = [UInt8](repeating: 0, count: 46)
        _ = payload.withUnsafeBytes { undi.transmit(protocol: .ip, destination: .broadcast, fragments: [$0]) }
        driver.deliver(ethernetFrame(to: driver.stationAddress, type: 0x0800))
        XCTAssertEqual(try undi.isr(.process).funcFlag, 2)  // PXENV_UNDI_ISR_OUT_TRANSMIT
        XCTAssertEqual(try undi.isr(.getNext).funcFlag, 3)  // PXENV_UNDI_ISR_OUT_RECEIVE
        XCTAssertEqual(try undi.isr(.getNext).funcFlag, 0)  // PXENV_UNDI_ISR_OUT_DONE
    }

    func testGetNextReturnsEveryQueuedFrameInOrder() throws {
        let (undi, driver) = makeUNDI()
        for i in 0..<3 { driver.deliver(ethernetFrame(to: driver.stationAddress, type: 0x0800, length: 60 + i)) }
        var lengths: [Int] = []
        var result = try undi.isr(.process)
        var guardCount = 0
        while case .receive(let f) = result, guardCount < 10 {
            lengths.append(f.frameLength)
            result = try undi.isr(.getNext)
            guardCount += 1
        }
        XCTAssertEqual(lengths, [60, 61, 62])
        guard case .done = result else { return XCTFail("expected DONE") }
    }

    func testDoneUnmasksTheNICInterrupt() throws {
        let (undi, driver) = makeUNDI()
        driver.setInterruptsEnabled(true)
        driver.deliver(ethernetFrame(to: driver.stationAddress, type: 0x0800))
        _ = try undi.isr(.start)
        XCTAssertFalse(driver.interruptsEnabled)
        _ = try undi.isr(.process)
        guard case .done = try undi.isr(.getNext) else { return XCTFail("expected DONE") }
        XCTAssertTrue(driver.interruptsEnabled)
    }

    func testProcessWithoutStartStillDeliversFrames() throws {
        // Some NBPs poll with IN_PROCESS and never call IN_START.
        let (undi, driver) = makeUNDI()
        driver.deliver(ethernetFrame(to: driver.stationAddress, type: 0x0800))
        guard case .receive = try undi.isr(.process) else { return XCTFail("expected RECEIVE") }
    }

    func testPollingWithInterruptsMaskedSeesFrames() throws {
        // No IRQ in use: the NIC's interrupt stays masked and GET_NEXT polls.
        let (undi, driver) = makeUNDI()
        driver.setInterruptsEnabled(false)
        driver.deliver(ethernetFrame(to: .broadcast, type: 0x0806))
        guard case .receive = try undi.isr(.getNext) else { return XCTFail("expected RECEIVE") }
        guard case .done = try undi.isr(.getNext) else { return XCTFail("expected DONE") }
    }

    func testForceInterruptMakesStartSayOursOnce() throws {
        let (undi, _) = makeUNDI()
        XCTAssertEqual(undi.forceInterrupt(), .success)
        guard case .ours = try undi.isr(.start) else { return XCTFail("expected OURS") }
        guard case .done = try undi.isr(.process) else { return XCTFail("expected DONE") }
        guard case .notOurs = try undi.isr(.start) else { return XCTFail("expected NOT_OURS") }
    }

    func testISRBeforeOpenIsInvalidState() {
        let (undi, _) = makeUNDI(upTo: .initialized)
        XCTAssertThrowsError(try undi.isr(.start)) { XCTAssertEqual($0 as? PXEStatus, .undiInvalidState) }
    }

    func testFramesFilteredByTheCardNeverReachISR() throws {
        let (undi, driver) = makeUNDI()
        XCTAssertEqual(driver.deliver(ethernetFrame(to: MACAddress(0x02, 9, 9, 9, 9, 9), type: 0x0800)), .filtered)
        guard case .done = try undi.isr(.process) else { return XCTFail("expected DONE") }
    }
}
