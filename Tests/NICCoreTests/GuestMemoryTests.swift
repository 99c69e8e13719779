import NICCore
import XCTest

final class GuestMemoryTests: XCTestCase {
    func testScalarsAreLittleEndian() throws {
        let m = FlatMemory(size: 4096)
        try m.writeU32(0x100, 0x1122_3344)
        XCTAssertEqual(try m.readBytes(at: 0x100, count: 4), [0x44, 0x33, 0x22, 0x11])
        XCTAssertEqual(try m.readU16(0x101), 0x2233)
        try m.writeU64(0x200, 0x0102_0304_0506_0708)
        XCTAssertEqual(try m.readU64(0x200), 0x0102_0304_0506_0708)
    }

    /// An access that straddles the end of RAM throws and changes nothing.
    func testStraddlingWriteThrowsAndChangesNothing() throws {
        let m = FlatMemory(size: 4096)
        try m.fill(at: 4090, count: 6, with: 0xAA)
        XCTAssertThrowsError(try m.write(at: 4094, bytes: [1, 2, 3, 4])) { error in
            XCTAssertEqual(error as? DMAError, .outOfRange(address: 4094, length: 4))
        }
        XCTAssertEqual(try m.readBytes(at: 4090, count: 6), [0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA])
        XCTAssertThrowsError(try m.readU32(4094))
    }

    /// Addresses near 2^64 can't wrap around into RAM.
    func testAddressOverflowIsOutOfRange() {
        let m = FlatMemory(size: 4096)
        XCTAssertThrowsError(try m.readU8(UInt64.max))
        XCTAssertThrowsError(try m.write(at: UInt64.max - 1, bytes: [1, 2, 3, 4]))
        XCTAssertFalse(m.contains(address: UInt64.max - 1, length: 4))
        XCTAssertFalse(m.contains(address: 0, length: -1))
    }

    func testLastByteAndEmptyAccessAtEndAreInRange() throws {
        let m = FlatMemory(size: 4096)
        try m.writeU8(4095, 7)
        XCTAssertEqual(try m.readU8(4095), 7)
        try m.write(at: 4096, bytes: [])
    }

    /// No DMA without bus master: the function's view refuses every access until BME is set.
    func testBusMasterGatesDMA() throws {
        let ram = FlatMemory(size: 4096)
        let config = PCIConfigSpace(identity: PCIIdentity(vendorID: 0x10EC, deviceID: 0x8139, classCode: 0x020000))
        let dma = BusMasterMemory(ram: ram, config: config)
        XCTAssertThrowsError(try dma.writeU32(0, 1)) { XCTAssertEqual($0 as? DMAError, .busMasterDisabled) }
        config.write(offset: PCIConfigRegister.command, width: .word, value: UInt32(PCICommand.busMaster.rawValue))
        try dma.writeU32(0, 0xDEAD_BEEF)
        XCTAssertEqual(try ram.readU32(0), 0xDEAD_BEEF)
    }
}
