import NICSimTestSupport
import Board
import NICCore
import XCTest

@testable import UNDI

/// The PXE 2.1 UNDI call order: START_UNDI, STARTUP, INITIALIZE, OPEN, and
/// CLOSE, SHUTDOWN, CLEANUP, STOP_UNDI back down. Out-of-order calls return
/// PXENV_STATUS_UNDI_INVALID_STATE (0x6A) and change nothing.
final class UNDIStateMachineTests: XCTestCase {
    func testStartUNDIProbesTheCardAndReportsStarted() {
        let (undi, driver) = makeUNDI(upTo: .stopped)
        XCTAssertEqual(undi.state, .stopped)
        XCTAssertEqual(undi.startUNDI(), .success)
        XCTAssertEqual(undi.state, .started)
        XCTAssertEqual(driver.calls, ["probe"])
    }

    func testStartUNDIFailsWithCannotInitializeWhenTheCardIsMissing() {
        let driver = TestNICDriver()
        driver.failProbe = true
        let (undi, _) = makeUNDI(upTo: .stopped, driver: driver)
        XCTAssertEqual(undi.startUNDI(), .undiCannotInitializeNIC)
        XCTAssertEqual(undi.state, .stopped)
    }

    func testFullBringUpReachesOpenedAndOpensTheCardWithTheFilter() {
        let (undi, driver) = makeUNDI(upTo: .opened)
        XCTAssertEqual(undi.state, .opened)
        XCTAssertTrue(driver.isOpen)
        XCTAssertEqual(driver.filter, [.directed, .broadcast])
    }

    func testInitializeBeforeStartupIsInvalidState() {
        let (undi, _) = makeUNDI(upTo: .stopped)
        XCTAssertEqual(undi.initialize(), .undiInvalidState)
        XCTAssertEqual(undi.startUNDI(), .success)
        XCTAssertEqual(undi.initialize(), .undiInvalidState)
        XCTAssertEqual(undi.state, .started)
    }

    func testOpenBeforeInitializeIsInvalidState() {
        let (undi, driver) = makeUNDI(upTo: .started)
        XCTAssertEqual(undi.open(filter: [.directed], multicast: []), .undiInvalidState)
        XCTAssertFalse(driver.isOpen)
    }

    func testShutdownThenStartupAndInitializeBringsTheCardBack() {
        // iPXE's undionly.kpxe: SHUTDOWN the ROM's NIC, then STARTUP,
        // INITIALIZE and OPEN it again as its own network device.
        let (undi, driver) = makeUNDI(upTo: .opened)
        XCTAssertEqual(undi.shutdown(), .success)
        XCTAssertEqual(undi.startup(), .success)
        XCTAssertEqual(undi.initialize(), .success)
        XCTAssertEqual(undi.open(filter: [.directed, .broadcast], multicast: []), .success)
        XCTAssertTrue(driver.isOpen)
    }

    func testStartUNDITwiceIsInvalidState() {
        let (undi, _) = makeUNDI(upTo: .started)
        XCTAssertEqual(undi.startUNDI(), .undiInvalidState)
    }

    func testCloseReturnsToInitializedAndStopsTheCard() {
        let (undi, driver) = makeUNDI(upTo: .opened)
        XCTAssertEqual(undi.close(), .success)
        XCTAssertEqual(undi.state, .initialized)
        XCTAssertFalse(driver.isOpen)
        XCTAssertEqual(undi.close(), .undiInvalidState)
    }

    func testShutdownFromOpenedClosesAndResetsTheCard() {
        let (undi, driver) = makeUNDI(upTo: .opened)
        XCTAssertEqual(undi.shutdown(), .success)
        XCTAssertEqual(undi.state, .started)
        XCTAssertEqual(Array(driver.calls.suffix(2)), ["close", "shutdown"])
    }

    func testInitializeAfterShutdownProbesTheCardAgain() {
        let (undi, driver) = makeUNDI(upTo: .initialized)
        XCTAssertEqual(undi.shutdown(), .success)
        XCTAssertEqual(undi.initialize(), .success)
        XCTAssertEqual(driver.calls.last, "probe")
        XCTAssertEqual(driver.calls.filter { $0 == "probe" }.count, 2)
    }

    func testCleanupRequiresShutdownFirst() {
        let (undi, _) = makeUNDI(upTo: .initialized)
        XCTAssertEqual(undi.cleanup(), .undiInvalidState)
        XCTAssertEqual(undi.shutdown(), .success)
        XCTAssertEqual(undi.cleanup(), .success)
        XCTAssertEqual(undi.state, .started)
    }

    func testStopUNDIWhileOpenIsInvalidState() {
        let (undi, _) = makeUNDI(upTo: .opened)
        XCTAssertEqual(undi.stopUNDI(), .undiInvalidState)
        XCTAssertEqual(undi.state, .opened)
    }

    func testTearDownInPXEOrderEndsStopped() {
        let (undi, _) = makeUNDI(upTo: .opened)
        XCTAssertEqual(undi.close(), .success)
        XCTAssertEqual(undi.shutdown(), .success)
        XCTAssertEqual(undi.cleanup(), .success)
        XCTAssertEqual(undi.stopUNDI(), .success)
        XCTAssertEqual(undi.state, .stopped)
        XCTAssertEqual(undi.startUNDI(), .success)
    }

    func testResetAdapterReopensAnOpenCardAndKeepsTheStationAddress() {
        let (undi, driver) = makeUNDI(upTo: .opened)
        let address = MACAddress(0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE)
        XCTAssertEqual(undi.setStationAddress(address), .success)
        let group = MACAddress(0x01, 0x00, 0x5E, 0x00, 0x00, 0x01)
        XCTAssertEqual(undi.resetAdapter(multicast: [group]), .success)
        XCTAssertEqual(undi.state, .opened)
        XCTAssertTrue(driver.isOpen)
        XCTAssertEqual(driver.stationAddress, address)
        XCTAssertEqual(driver.multicast, [group])
        XCTAssertEqual(Array(driver.calls.suffix(4)), ["close", "probe", "setStationAddress", "open"])
    }

    func testResetAdapterBeforeInitializeIsInvalidState() {
        let (undi, _) = makeUNDI(upTo: .started)
        XCTAssertEqual(undi.resetAdapter(multicast: []), .undiInvalidState)
    }

    func testOpenWithMoreThanEightMulticastAddressesIsInvalidParameter() {
        // MAXNUM_MCADDR is 8.
        let (undi, _) = makeUNDI(upTo: .initialized)
        let many = (0..<9).map { MACAddress(0x01, 0, 0x5E, 0, 0, UInt8($0)) }
        XCTAssertEqual(undi.open(filter: [.directed], multicast: many), .undiInvalidParameter)
        XCTAssertEqual(undi.state, .initialized)
    }

    func testSetMulticastAddressOnAnOpenCardReprogramsTheFilter() {
        let (undi, driver) = makeUNDI(upTo: .opened)
        let group = MACAddress(0x01, 0x00, 0x5E, 0x01, 0x02, 0x03)
        XCTAssertEqual(undi.setMulticastAddresses([group]), .success)
        XCTAssertEqual(driver.multicast, [group])
        XCTAssertEqual(undi.multicastList, [group])
    }

    func testSetMulticastAddressRefusesUnicastEntries() {
        let (undi, _) = makeUNDI(upTo: .opened)
        XCTAssertEqual(undi.setMulticastAddresses([MACAddress(0x02, 0, 0, 0, 0, 1)]), .undiInvalidParameter)
    }

    func testSetStationAddressRefusesAGroupAddress() {
        let (undi, driver) = makeUNDI(upTo: .initialized)
        XCTAssertEqual(undi.setStationAddress(.broadcast), .undiBadMACAddress)
        XCTAssertEqual(driver.stationAddress, driver.permanentAddress)
    }

    func testSetStationAddressBeforeInitializeIsInvalidState() {
        let (undi, _) = makeUNDI(upTo: .started)
        XCTAssertEqual(undi.setStationAddress(MACAddress(0x02, 0, 0, 0, 0, 9)), .undiInvalidState)
    }

    func testSetPacketFilterChangesTheCardFilterOnlyWhenOpen() {
        let (undi, driver) = makeUNDI(upTo: .initialized)
        XCTAssertEqual(undi.setPacketFilter(.promiscuous), .undiInvalidState)
        XCTAssertEqual(undi.open(filter: [.directed], multicast: []), .success)
        XCTAssertEqual(undi.setPacketFilter([.directed, .promiscuous]), .success)
        XCTAssertEqual(driver.filter, [.directed, .promiscuous])
    }

    func testSetPacketFilterRefusesUndefinedBits() {
        // Only FLTR_DIRECTED, FLTR_BRDCST, FLTR_PRMSCS and FLTR_SRC_RTG exist.
        let (undi, _) = makeUNDI(upTo: .opened)
        XCTAssertEqual(undi.setPacketFilter(ReceiveFilter(rawValue: 0x10)), .undiInvalidParameter)
    }

    func testInitiateDiagsPassesWithCarrierAndFailsTheMediaTestWithout() {
        let (undi, driver) = makeUNDI(upTo: .initialized)
        XCTAssertEqual(undi.initiateDiagnostics(), .success)
        driver.linkUp = false
        XCTAssertEqual(undi.initiateDiagnostics(), .undiMediaTestFailed)
    }

    func testInitiateDiagsOnAnOpenCardIsInvalidState() {
        let (undi, _) = makeUNDI(upTo: .opened)
        XCTAssertEqual(undi.initiateDiagnostics(), .undiInvalidState)
    }

    func testClearStatisticsZeroesTheDriverCounters() throws {
        let (undi, driver) = makeUNDI(upTo: .opened)
        driver.deliver(ethernetFrame(to: driver.stationAddress, type: 0x0800))
        XCTAssertEqual(try undi.statistics().receiveGoodFrames, 1)
        XCTAssertEqual(undi.clearStatistics(), .success)
        XCTAssertEqual(try undi.statistics(), UNDIStatistics(transmitGoodFrames: 0, receiveGoodFrames: 0, receiveCRCErrors: 0, receiveResourceErrors: 0))
    }

    func testForceInterruptOnlyWhenOpen() {
        let (undi, _) = makeUNDI(upTo: .initialized)
        XCTAssertEqual(undi.forceInterrupt(), .undiInvalidState)
    }
}
