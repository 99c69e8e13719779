import Board
import NICCore
import XCTest

@testable import UNDI

final class DriverBusTests: XCTestCase {
    /// A driver finds the host bridge the way real drivers scan: through
    /// CONFIG_ADDRESS/CONFIG_DATA, with absent functions reading all-ones.
    func testConfigCyclesReachHostBridge() {
        let bus = DriverBus(board: Board(memorySize: 1 << 20))
        XCTAssertEqual(bus.configRead32(PCIAddress(device: 0), 0), 0x1237_8086)
        XCTAssertEqual(bus.configRead16(PCIAddress(device: 0), 2), 0x1237)
        XCTAssertEqual(bus.configRead32(PCIAddress(device: 5), 0), 0xFFFF_FFFF)
        XCTAssertEqual(bus.findPCI(vendor: 0x8086, device: 0x1237), [PCIAddress(device: 0)])
    }

    /// DMA allocations are aligned, disjoint, and refused past the region.
    func testDMAAllocationIsAlignedAndBounded() throws {
        let bus = DriverBus(board: Board(memorySize: 1 << 20), dmaRegion: 0x1000..<0x3000)
        let a = try bus.allocateDMA(size: 100, alignment: 256)
        let b = try bus.allocateDMA(size: 100, alignment: 256)
        XCTAssertEqual(a % 256, 0)
        XCTAssertEqual(b % 256, 0)
        XCTAssertGreaterThanOrEqual(b, a + 100)
        XCTAssertThrowsError(try bus.allocateDMA(size: 0x2000))
    }
}
