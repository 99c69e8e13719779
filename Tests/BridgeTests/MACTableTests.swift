import NICCore
import XCTest

@testable import Bridge

/// The switch's MAC table under a flood of new source addresses (a MAC
/// flooding attack, or a trace with thousands of stations): learning costs
/// the same per frame however full the table is, and its memory is bounded
/// by macTableCapacity.
final class MACTableTests: XCTestCase {
    private func address(_ i: Int) -> MACAddress {
        MACAddress(0x02, 0x00, 0x00, UInt8(truncatingIfNeeded: i >> 16), UInt8(truncatingIfNeeded: i >> 8), UInt8(truncatingIfNeeded: i))
    }

    private func send(from source: MACAddress, on station: TestStation) {
        TestStation.frame(from: source, to: .broadcast, tag: 0).withUnsafeBytes { station.port.transmit($0) }
    }

    /// With the table full of live entries, each new source looks at one
    /// entry (the oldest, to see whether it has aged out) instead of
    /// sweeping the whole table, and is not learned.
    func testNewSourceOnAFullTableLooksAtOneEntry() {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock, configuration: .init(macTableCapacity: 64))
        let a = TestStation(1), b = TestStation(2)
        sw.connect(device: a.port)
        sw.connect(device: b.port)
        for i in 0..<64 { send(from: address(i), on: a) }
        let examined = sw.macTableEntriesExamined
        for i in 64..<1064 { send(from: address(i), on: a) }
        XCTAssertLessThanOrEqual(sw.macTableEntriesExamined - examined, 1000)
        XCTAssertEqual(sw.counters.tableFull, 1000)
        XCTAssertEqual(sw.learnedAddressCount, 64)
    }

    /// 802.1D ageing: once the oldest entry has aged out, a new source takes
    /// its place; entries still live are kept.
    func testNewSourceReplacesTheOldestAgedOutEntry() {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock, configuration: .init(agingTime: 10 * VirtualClock.second, macTableCapacity: 2))
        let a = TestStation(1), b = TestStation(2)
        sw.connect(device: a.port)
        sw.connect(device: b.port)
        send(from: address(1), on: a)
        clock.advance(by: 6 * VirtualClock.second)
        send(from: address(2), on: b)
        clock.advance(by: 6 * VirtualClock.second)  // address 1 aged out, address 2 not
        send(from: address(3), on: b)
        XCTAssertNil(sw.port(for: address(1)))
        XCTAssertEqual(sw.port(for: address(2)), 1)
        XCTAssertEqual(sw.port(for: address(3)), 1)
        XCTAssertEqual(sw.counters.tableFull, 0)
    }

    /// A refreshed entry becomes the newest: the one not heard from longest
    /// is the one that ages out first.
    func testRefreshMovesAnEntryToTheBackOfTheAgeingOrder() {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock, configuration: .init(agingTime: 10 * VirtualClock.second, macTableCapacity: 2))
        let a = TestStation(1)
        sw.connect(device: a.port)
        send(from: address(1), on: a)
        clock.advance(by: 4 * VirtualClock.second)
        send(from: address(2), on: a)
        clock.advance(by: 4 * VirtualClock.second)
        send(from: address(1), on: a)  // refreshed: address 2 is now the oldest
        clock.advance(by: 4 * VirtualClock.second)  // address 2 is 8 s old, address 1 is 4 s
        XCTAssertEqual(sw.learnedAddressCount, 2)
        clock.advance(by: 3 * VirtualClock.second)  // address 2 is 11 s old
        send(from: address(3), on: a)
        XCTAssertNotNil(sw.port(for: address(1)))
        XCTAssertNil(sw.port(for: address(2)))
        XCTAssertNotNil(sw.port(for: address(3)))
    }
}
