import NICSimTestSupport
import Board
import NICCore
import XCTest

@testable import UNDI

/// An UNDI over the test double, brought to `state` the way an NBP would.
func makeUNDI(upTo state: UNDIState = .opened, driver: TestNICDriver = TestNICDriver()) -> (UNDI, TestNICDriver) {
    let undi = UNDI(driver: driver, bus: DriverBus(board: Board(memorySize: 1 << 20)))
    if state.rawValue >= UNDIState.started.rawValue {
        XCTAssertEqual(undi.startUNDI(), .success)
        XCTAssertEqual(undi.startup(), .success)
    }
    if state.rawValue >= UNDIState.initialized.rawValue { XCTAssertEqual(undi.initialize(), .success) }
    if state.rawValue >= UNDIState.opened.rawValue { XCTAssertEqual(undi.open(filter: [.directed, .broadcast], multicast: []), .success) }
    return (undi, driver)
}

/// An Ethernet II frame to `destination` of EtherType `type`, `length` bytes long.
func ethernetFrame(to destination: MACAddress, from source: MACAddress = MACAddress(0x02, 0, 0, 0, 0, 1),
                   type: UInt16, length: Int = 64) -> [UInt8] {
    var f = destination.bytes + source.bytes + [UInt8(type >> 8), UInt8(type & 0xFF)]
    while f.count < length { f.append(UInt8(truncatingIfNeeded: f.count)) }
    return f
}
