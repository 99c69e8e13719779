import Board
import NICCore
import XCTest

final class BusTests: XCTestCase {
    func testOverlappingMappingsAreRefused() throws {
        let bus = Bus(name: "io", limit: 0x10000)
        try bus.map(ScratchRegisters(size: 0x20, marker: 0), at: 0x300, name: "a")
        XCTAssertThrowsError(try bus.map(ScratchRegisters(size: 0x10, marker: 0), at: 0x310, name: "b")) {
            XCTAssertEqual($0 as? BusError, .overlap(name: "b", existing: "a", base: 0x300))
        }
        XCTAssertThrowsError(try bus.map(ScratchRegisters(size: 0x20, marker: 0), at: 0x2F0, name: "c"))
        XCTAssertThrowsError(try bus.map(ScratchRegisters(size: 0x200, marker: 0), at: 0x200, name: "d"))  // swallows "a"
        try bus.map(ScratchRegisters(size: 0x100, marker: 0), at: 0x200, name: "below")  // ends where "a" starts
        try bus.map(ScratchRegisters(size: 0x10, marker: 0), at: 0x320, name: "adjacent")
        XCTAssertEqual(bus.mappings.map(\.name), ["below", "a", "adjacent"])
    }

    func testMappingPastLimitIsRefused() {
        let bus = Bus(name: "io", limit: 0x10000)
        XCTAssertThrowsError(try bus.map(ScratchRegisters(size: 0x100, marker: 0), at: 0xFFF0, name: "x"))
        XCTAssertThrowsError(try bus.map(ScratchRegisters(size: 0, marker: 0), at: 0x100, name: "empty"))
    }

    /// Unclaimed and straddling accesses read all-ones of their width and drop writes.
    func testUnclaimedAndStraddlingAccesses() throws {
        let bus = Bus(name: "mmio", limit: .max)
        let r = ScratchRegisters(size: 16, marker: 0x40)
        try bus.map(r, at: 0x1000, name: "r")
        XCTAssertEqual(bus.read(0x0FFF, width: .byte), 0xFF)
        XCTAssertEqual(bus.read(0x100E, width: .dword), 0xFFFF_FFFF)  // straddles the end
        XCTAssertEqual(bus.read(0x100C, width: .dword), 0x4C)
        bus.write(0x100E, width: .dword, value: 1)
        XCTAssertNil(r.lastWrite)
        XCTAssertEqual(bus.read(UInt64.max, width: .qword), UInt64.max)
        XCTAssertEqual(bus.unclaimedAccesses, 4)
    }

    func testUnmapRemovesOnlyThatMapping() throws {
        let bus = Bus(name: "io", limit: 0x10000)
        let a = ScratchRegisters(size: 8, marker: 1)
        try bus.map(a, at: 0x10, name: "a")
        bus.unmap(a, at: 0x20)
        XCTAssertEqual(bus.read(0x10, width: .byte), 1)
        bus.unmap(a, at: 0x10)
        XCTAssertEqual(bus.read(0x10, width: .byte), 0xFF)
    }
}
