import NICCore
import Wire
import XCTest
@testable import BootServer

/// The DHCP address pool (RFC 2131 §4.3.1) under load: an exhausted pool
/// answers without scanning, and allocation stays cheap however many
/// addresses are taken.
final class LeasePoolTests: XCTestCase {
    private let lease: UInt64 = 3600 * VirtualClock.second

    private func mac(_ i: Int) -> MACAddress {
        MACAddress(0x52, 0x54, 0x00, UInt8(truncatingIfNeeded: i >> 16), UInt8(truncatingIfNeeded: i >> 8), UInt8(truncatingIfNeeded: i))
    }

    /// A /16 pool with every address bound: a thousand DISCOVERs from new
    /// clients each find no address, looking at a bounded number of
    /// addresses, not all 65536.
    func testExhaustedPoolIsAnsweredWithoutAScan() {
        var pool = LeasePool(range: IPv4Address(10, 1, 0, 0)...IPv4Address(10, 1, 255, 255))
        for i in 0..<65536 {
            guard let ip = pool.choose(for: mac(i), requested: nil, now: 0) else { return XCTFail("pool full at \(i)") }
            pool.hold(ip, for: mac(i), until: lease, bound: true)
        }
        let before = pool.addressesExamined
        for i in 0..<1000 { XCTAssertNil(pool.choose(for: mac(100_000 + i), requested: nil, now: 1)) }
        XCTAssertLessThanOrEqual(pool.addressesExamined - before, 1000)
    }

    /// Filling the pool address by address costs about one look per
    /// address, not a scan from the bottom each time.
    func testFillingThePoolLooksAtEachAddressAboutOnce() {
        var pool = LeasePool(range: IPv4Address(10, 1, 0, 0)...IPv4Address(10, 1, 15, 255))
        for i in 0..<4096 {
            guard let ip = pool.choose(for: mac(i), requested: nil, now: 0) else { return XCTFail("pool full at \(i)") }
            pool.hold(ip, for: mac(i), until: lease, bound: true)
        }
        XCTAssertLessThanOrEqual(pool.addressesExamined, 3 * 4096)
    }

    /// Addresses are handed out lowest first on a fresh pool.
    func testFreshPoolHandsOutTheLowestAddressFirst() {
        var pool = LeasePool(range: IPv4Address(10, 0, 2, 100)...IPv4Address(10, 0, 2, 102))
        let first = pool.choose(for: mac(1), requested: nil, now: 0)
        XCTAssertEqual(first, IPv4Address(10, 0, 2, 100))
        pool.hold(IPv4Address(10, 0, 2, 100), for: mac(1), until: lease, bound: true)
        XCTAssertEqual(pool.choose(for: mac(2), requested: nil, now: 0), IPv4Address(10, 0, 2, 101))
    }

    /// A released address is offered again once the pool is full otherwise.
    func testReleasedAddressIsReusedWhenThePoolIsFull() {
        var pool = LeasePool(range: IPv4Address(10, 0, 2, 100)...IPv4Address(10, 0, 2, 102))
        for i in 0..<3 {
            let ip = pool.choose(for: mac(i), requested: nil, now: 0)!
            pool.hold(ip, for: mac(i), until: lease, bound: true)
        }
        XCTAssertNil(pool.choose(for: mac(9), requested: nil, now: 0))
        pool.release(mac(1))
        XCTAssertEqual(pool.choose(for: mac(9), requested: nil, now: 0), IPv4Address(10, 0, 2, 101))
    }

    /// An expired lease frees its address; a renewed one does not.
    func testExpiredLeaseIsReusedAndRenewedOneIsNot() {
        var pool = LeasePool(range: IPv4Address(10, 0, 2, 100)...IPv4Address(10, 0, 2, 101))
        pool.hold(IPv4Address(10, 0, 2, 100), for: mac(0), until: 10, bound: true)
        pool.hold(IPv4Address(10, 0, 2, 101), for: mac(1), until: 10, bound: true)
        XCTAssertNil(pool.choose(for: mac(9), requested: nil, now: 5))
        pool.hold(IPv4Address(10, 0, 2, 100), for: mac(0), until: 100, bound: true)  // renewed
        XCTAssertEqual(pool.choose(for: mac(9), requested: nil, now: 20), IPv4Address(10, 0, 2, 101))
        pool.hold(IPv4Address(10, 0, 2, 101), for: mac(9), until: 200, bound: true)
        XCTAssertNil(pool.choose(for: mac(8), requested: nil, now: 50))
        XCTAssertEqual(pool.choose(for: mac(8), requested: nil, now: 150), IPv4Address(10, 0, 2, 100))
    }

    /// A declined address (DHCPDECLINE) stays out of the pool until its
    /// hold-off ends, then comes back.
    func testDeclinedAddressComesBackAfterItsHoldOff() {
        var pool = LeasePool(range: IPv4Address(10, 0, 2, 100)...IPv4Address(10, 0, 2, 100))
        pool.hold(IPv4Address(10, 0, 2, 100), for: mac(0), until: lease, bound: false)
        pool.decline(IPv4Address(10, 0, 2, 100), by: mac(0), until: 600)
        XCTAssertNil(pool.choose(for: mac(1), requested: nil, now: 100))
        XCTAssertEqual(pool.choose(for: mac(1), requested: nil, now: 700), IPv4Address(10, 0, 2, 100))
    }
}
