import NICSimTestSupport
import Board
import NICCore
import XCTest

@testable import UNDI

/// GET_INFORMATION, GET_STATISTICS, GET_MCAST_ADDRESS, GET_NIC_TYPE,
/// GET_IFACE_INFO and GET_STATE.
final class UNDIInformationTests: XCTestCase {
    func testGetInformationReportsTheCardAndEthernetMTU() throws {
        let (undi, driver) = makeUNDI(upTo: .initialized)
        undi.romSegment = 0xC800
        let info = try undi.information()
        XCTAssertEqual(info.baseIO, 0xC000)
        XCTAssertEqual(info.interruptNumber, 11)
        XCTAssertEqual(info.maxTransmissionUnit, 1500)
        XCTAssertEqual(info.hardwareType, 1)  // ETHER_TYPE
        XCTAssertEqual(info.hardwareAddressLength, 6)
        XCTAssertEqual(info.currentAddress, driver.stationAddress)
        XCTAssertEqual(info.permanentAddress, driver.permanentAddress)
        XCTAssertEqual(info.romSegment, 0xC800)
    }

    func testGetInformationShowsANewStationAddressButTheSamePermanentOne() throws {
        let (undi, driver) = makeUNDI(upTo: .initialized)
        let address = MACAddress(0x02, 1, 2, 3, 4, 5)
        XCTAssertEqual(undi.setStationAddress(address), .success)
        let info = try undi.information()
        XCTAssertEqual(info.currentAddress, address)
        XCTAssertEqual(info.permanentAddress, driver.permanentAddress)
    }

    func testGetInformationBeforeStartupIsInvalidState() {
        let (undi, _) = makeUNDI(upTo: .stopped)
        XCTAssertThrowsError(try undi.information()) { XCTAssertEqual($0 as? PXEStatus, .undiInvalidState) }
    }

    func testGetMulticastAddressMapsTheLow23Bits() throws {
        // RFC 1112: 224.1.130.7 -> 01:00:5e:01:82:07 (the 24th bit is dropped).
        let (undi, _) = makeUNDI(upTo: .started)
        XCTAssertEqual(try undi.multicastAddress(forIPv4: 0xE081_8207), MACAddress(0x01, 0x00, 0x5E, 0x01, 0x82, 0x07))
    }

    func testGetMulticastAddressRefusesAUnicastIP() {
        let (undi, _) = makeUNDI(upTo: .started)
        XCTAssertThrowsError(try undi.multicastAddress(forIPv4: 0x0A00_0001)) { XCTAssertEqual($0 as? PXEStatus, .undiInvalidParameter) }
    }

    func testGetNICTypeReportsPCIIDsAndBusDevFunc() throws {
        let (undi, _) = makeUNDI(upTo: .started)
        let type = try undi.nicType()
        XCTAssertEqual(type.nicType, 2)  // PCI_NIC
        XCTAssertEqual(type, .pci(vendor: 0x10EC, device: 0x8139, baseClass: 2, subClass: 0, programmingInterface: 0,
                                  revision: 0x20, busDevFunc: 0x0018, subsystemVendor: 0x1AF4, subsystemDevice: 0x1100))
    }

    func testGetNICTypeForAnISACardIsPnP() throws {
        let driver = TestNICDriver()
        driver.info = NICInfo(bus: .isa(ioBase: 0x300), vendorID: 0, deviceID: 0, ioBase: 0x300, irq: 9)
        let (undi, _) = makeUNDI(upTo: .started, driver: driver)
        XCTAssertEqual(try undi.nicType().nicType, 3)  // PnP_NIC
    }

    func testGetIfaceInfoIsDIXWithLinkSpeedAndIRQFlag() throws {
        let (undi, _) = makeUNDI(upTo: .started)
        let iface = try undi.interfaceInfo()
        XCTAssertEqual(iface.interfaceType, "DIX+802.3")
        XCTAssertEqual(iface.linkSpeed, 100_000_000)  // 10EC:8139 is a 100 Mb/s part
        XCTAssertTrue(iface.serviceFlags.contains([.broadcast, .multicast, .openClose, .reset, .irq]))
    }

    func testGetIfaceInfoWithoutAnIRQLeavesTheIRQFlagClear() throws {
        let driver = TestNICDriver()
        driver.info.irq = 0
        let (undi, _) = makeUNDI(upTo: .started, driver: driver)
        XCTAssertFalse(try undi.interfaceInfo().serviceFlags.contains(.irq))
    }

    func testGetStateFollowsTheBringUp() {
        let (undi, _) = makeUNDI(upTo: .stopped)
        XCTAssertEqual(undi.state.rawValue, 0)
        undi.startUNDI()
        undi.startup()
        XCTAssertEqual(undi.state.rawValue, 1)  // PXE_UNDI_GET_STATE_STARTED
        undi.initialize()
        XCTAssertEqual(undi.state.rawValue, 2)  // _INITIALIZED
        undi.open(filter: [.directed], multicast: [])
        XCTAssertEqual(undi.state.rawValue, 3)  // _OPENED
    }
}
