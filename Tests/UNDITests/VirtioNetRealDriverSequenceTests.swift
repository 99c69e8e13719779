import Board
import NICCore
import VirtioNet
import XCTest

@testable import UNDI

/// The checks real drivers make before they use a virtio-net function,
/// replayed through configuration cycles and the buses only.
final class VirtioNetRealDriverSequenceTests: XCTestCase {
    private func board(_ variant: VirtioPCIVariant) -> (Board, DriverBus, PCIAddress) {
        let board = Board(memorySize: 48 << 20)
        let card = VirtioNet(configuration: VirtioNetConfiguration(macAddress: VirtioNetDriverBench.mac, variant: variant),
                             memory: board.memory, clock: board.clock)
        let address = PCIAddress(device: 4)
        board.attach(card, at: address)
        board.assignResources()
        return (board, DriverBus(board: board), address)
    }

    /// iPXE's modern probe (virtio-net.c, virtio-pci.c): common, ISR and
    /// notify capabilities and VIRTIO_PCI_CAP_PCI_CFG must all exist (it
    /// refuses the device otherwise, with no legacy fallback); each queue's
    /// size is a power of two no larger than 256; the notify offset lies
    /// inside the notify capability; the MAC can be read through the
    /// PCI_CFG window when a BAR is not mapped.
    func testIPXEModernProbeChecks() throws {
        let (_, bus, a) = board(.transitional)
        var caps: [UInt8: Int] = [:]
        var p = Int(bus.configRead8(a, 0x34))
        var steps = 0
        while p != 0 && steps < 48 {
            steps += 1
            if bus.configRead8(a, p) == 0x09, bus.configRead8(a, p + 4) <= 5 {
                caps[bus.configRead8(a, p + 3)] = caps[bus.configRead8(a, p + 3)] ?? p
            }
            p = Int(bus.configRead8(a, p + 1))
        }
        let common = try XCTUnwrap(caps[1]), notify = try XCTUnwrap(caps[2]), window = try XCTUnwrap(caps[5])
        XCTAssertNotNil(caps[3])
        XCTAssertNotNil(caps[4])
        // The common structure fits in its BAR (virtio_pci_map_capability).
        XCTAssertGreaterThanOrEqual(bus.configRead32(a, common + 12), 0x38)
        let commonBase = bus.barBase(a, Int(bus.configRead8(a, common + 4))) + UInt64(bus.configRead32(a, common + 8))
        let multiplier = bus.configRead32(a, notify + 16)
        XCTAssertGreaterThanOrEqual(bus.readw(commonBase + 0x12), 2)
        for q in 0..<2 as Range<UInt16> {
            bus.writew(commonBase + 0x16, q)
            let size = bus.readw(commonBase + 0x18)
            XCTAssertTrue(size > 0 && size & (size - 1) == 0 && size <= 256)
            let off = UInt32(bus.readw(commonBase + 0x1E))
            XCTAssertLessThan(off * multiplier + 2, bus.configRead32(a, notify + 12) + 1)
        }
        // vpm_get through the window: bar, length 1, offset, then the data byte.
        let device = try XCTUnwrap(caps[4])
        var mac: [UInt8] = []
        for i in 0..<6 {
            bus.configWrite8(a, window + 4, bus.configRead8(a, device + 4))
            bus.configWrite32(a, window + 12, 1)
            bus.configWrite32(a, window + 8, bus.configRead32(a, device + 8) + UInt32(i))
            mac.append(bus.configRead8(a, window + 16))
        }
        XCTAssertEqual(mac, VirtioNetDriverBench.mac.bytes)
    }

    /// iPXE's legacy probe (vp_find_vq): queue size nonzero and at most 256,
    /// and the queue not already active (PFN reads 0) after a reset.
    func testIPXELegacyQueueChecks() {
        let (_, bus, a) = board(.legacy)
        let io = UInt16(truncatingIfNeeded: bus.configRead32(a, 0x10) & ~3)
        bus.outb(io + 0x12, 0)
        for q in 0..<2 as Range<UInt16> {
            bus.outw(io + 0x0E, q)
            let size = bus.inw(io + 0x0C)
            XCTAssertTrue(size > 0 && size <= 256)
            XCTAssertEqual(bus.inl(io + 0x08), 0)
        }
    }

    /// Linux's legacy probe (virtio_pci_legacy_dev.c): ABI revision 0, the
    /// device type in the subsystem ID; without MSI-X the device config is
    /// at 0x14 and holds the MAC.
    func testLinuxLegacyProbeChecks() {
        let (_, bus, a) = board(.transitional)
        XCTAssertEqual(bus.configRead8(a, 0x08), 0)
        XCTAssertEqual(bus.configRead16(a, 0x2E), 1)
        let io = UInt16(truncatingIfNeeded: bus.configRead32(a, 0x10) & ~3)
        XCTAssertEqual((0..<6).map { bus.inb(io + 0x14 + UInt16($0)) }, VirtioNetDriverBench.mac.bytes)
    }

    /// Linux's modern probe (virtio_pci_modern_dev.c): device ID 0x1041 is
    /// type 1 by arithmetic; VERSION_1 must be offered; writing status 0
    /// reads back 0 at once.
    func testLinuxModernProbeChecks() {
        let (_, bus, a) = board(.modern)
        XCTAssertEqual(bus.configRead16(a, 0x02) - 0x1040, 1)
        XCTAssertGreaterThanOrEqual(bus.configRead8(a, 0x08), 1)
        let driver = VirtioNetDriver(bus: bus, address: a)
        XCTAssertNoThrow(try driver.probe())
        XCTAssertTrue(driver.usesModernInterface)
        guard let transport = driver.transport else { return XCTFail("no transport") }
        XCTAssertNotEqual(transport.deviceFeatures() & (1 << 32), 0)
        transport.writeStatus(0)
        XCTAssertEqual(transport.readStatus(), 0)
    }
}
