import CNICSim
import NICSimC
import XCTest

/// The C ABI called from Swift exactly as C calls it: an emulator's RAM
/// behind dma_read/dma_write, and the callbacks counting what they see.
final class CABITests: XCTestCase {
    /// What the callbacks record; passed as `opaque`.
    final class Host {
        var ram = [UInt8](repeating: 0, count: 1 << 20)
        var irqLevel: Int32 = 0
        var messages: [(UInt64, UInt32)] = []
        var frames: [[UInt8]] = []
    }

    private var host = Host()

    private func callbacks() -> nicsim_host {
        var h = nicsim_host()
        h.opaque = Unmanaged.passUnretained(host).toOpaque()
        h.dma_read = { opaque, addr, buf, len in
            let host = Unmanaged<Host>.fromOpaque(opaque!).takeUnretainedValue()
            guard addr < UInt64(host.ram.count), UInt64(host.ram.count) - addr >= UInt64(len) else { return -1 }
            host.ram.withUnsafeBytes { buf!.copyMemory(from: $0.baseAddress! + Int(addr), byteCount: len) }
            return 0
        }
        h.dma_write = { opaque, addr, buf, len in
            let host = Unmanaged<Host>.fromOpaque(opaque!).takeUnretainedValue()
            guard addr < UInt64(host.ram.count), UInt64(host.ram.count) - addr >= UInt64(len) else { return -1 }
            host.ram.withUnsafeMutableBytes { ($0.baseAddress! + Int(addr)).copyMemory(from: buf!, byteCount: len) }
            return 0
        }
        h.set_irq = { opaque, level in Unmanaged<Host>.fromOpaque(opaque!).takeUnretainedValue().irqLevel = level }
        h.msi = { opaque, address, data in Unmanaged<Host>.fromOpaque(opaque!).takeUnretainedValue().messages.append((address, data)) }
        h.transmit = { opaque, frame, len in
            Unmanaged<Host>.fromOpaque(opaque!).takeUnretainedValue().frames.append(Array(UnsafeRawBufferPointer(start: frame, count: len)))
        }
        return h
    }

    private func create(_ model: String, _ options: String = "") throws -> OpaquePointer {
        var h = callbacks()
        var error = [CChar](repeating: 0, count: 128)
        let dev = nicsimCreate(model, options, &h, &error, error.count)
        return try XCTUnwrap(dev, error.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
    }

    func testVersionIsTheHeadersVersion() {
        XCTAssertEqual(nicsimVersion(), UInt32(NICSIM_API_VERSION_MAJOR) << 16 | UInt32(NICSIM_API_VERSION_MINOR))
    }

    func testBadModelReturnsNULLWithOneLine() {
        var h = callbacks()
        var error = [CChar](repeating: 0x41, count: 32)
        XCTAssertNil(nicsimCreate("e1000", "", &h, &error, error.count))
        let text = error.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        XCTAssertTrue(text.hasPrefix("unknown model 'e1000'"), text)
        XCTAssertEqual(text.utf8.count, 31, "truncated to the buffer, NUL included")
        XCTAssertNil(nicsimCreate(nil, nil, &h, nil, 0))
        XCTAssertNil(nicsimCreate("rtl8139", "bogus=1", nil, nil, 0))
    }

    func testConfigSpaceShowsEachModelsIdentity() throws {
        for (model, ids) in [("rtl8139", 0x8139_10EC), ("ne2k_pci", 0x8029_10EC), ("virtio-net-pci", 0x1000_1AF4),
                             ("virtio-net-pci,disable-legacy=on", 0x1041_1AF4)] as [(String, UInt32)] {
            let parts = model.split(separator: ",", maxSplits: 1).map(String.init)
            let dev = try create(parts[0], parts.count > 1 ? parts[1] : "")
            defer { nicsimDestroy(dev) }
            XCTAssertEqual(nicsimConfigRead(dev, 0, 4), ids, model)
        }
    }

    /// Bad input is answered as the bus answers it: all ones, writes dropped.
    func testBadAccessesReadAllOnesAndNeverTrap() throws {
        let dev = try create("rtl8139")
        defer { nicsimDestroy(dev) }
        XCTAssertEqual(nicsimConfigRead(dev, 0, 3), ~0)
        XCTAssertEqual(nicsimConfigRead(dev, 255, 4), ~0)
        XCTAssertEqual(nicsimConfigRead(dev, 0xFFFF_FFFF, 2), 0xFFFF)
        XCTAssertEqual(nicsimBarRead(dev, 0, 0x1000, 1), 0xFF)
        XCTAssertEqual(nicsimBarRead(dev, 0, UInt64.max, 4), 0xFFFF_FFFF)
        XCTAssertEqual(nicsimBarRead(dev, 6, 0, 1), 0xFF)
        XCTAssertEqual(nicsimBarRead(dev, -1, 0, 1), 0xFF)
        XCTAssertEqual(nicsimBarRead(dev, 5, 0, 4), 0xFFFF_FFFF)
        nicsimBarWrite(dev, 0, UInt64.max - 1, 4, 0)
        nicsimConfigWrite(dev, 4, 7, 0xFFFF)
        XCTAssertEqual(nicsimReceive(dev, nil, 60), 0)
        let huge = [UInt8](repeating: 0xFF, count: 1 << 20)
        XCTAssertEqual(nicsimReceive(dev, huge, huge.count), 0)
        XCTAssertEqual(nicsimReceive(dev, huge, 0), 0)
        XCTAssertEqual(nicsimConfigRead(nil, 0, 4), ~0)
        XCTAssertEqual(nicsimBarRead(nil, 0, 0, 2), 0xFFFF)
        XCTAssertEqual(nicsimAdvance(nil, 5), -1)
        nicsimDestroy(nil)
    }

    /// The ISA NE2000's ports are BAR 0: the PROM holds the MAC (doubled bytes in word mode).
    func testISACardPortsAreBarZero() throws {
        let dev = try create("ne2k_isa", "mac=02:11:22:33:44:55")
        defer { nicsimDestroy(dev) }
        XCTAssertEqual(nicsimConfigRead(dev, 0, 4), ~0)
        // CR: page 0, stop; remote read of 6 PROM bytes in byte mode (DCR.WTS=0).
        nicsimBarWrite(dev, 0, 0x00, 1, 0x21)
        nicsimBarWrite(dev, 0, 0x0E, 1, 0x48)
        nicsimBarWrite(dev, 0, 0x0A, 1, 12)
        nicsimBarWrite(dev, 0, 0x0B, 1, 0)
        nicsimBarWrite(dev, 0, 0x08, 1, 0)
        nicsimBarWrite(dev, 0, 0x09, 1, 0)
        nicsimBarWrite(dev, 0, 0x00, 1, 0x0A)
        var prom: [UInt8] = []
        for _ in 0..<12 { prom.append(UInt8(nicsimBarRead(dev, 0, 0x10, 1))) }
        XCTAssertEqual(stride(from: 0, to: 12, by: 2).map { prom[$0] }, [0x02, 0x11, 0x22, 0x33, 0x44, 0x55])
    }

    /// RST# returns configuration space to power-on: command, BARs and the MSI-X enable.
    func testResetClearsConfigurationSpace() throws {
        let dev = try create("virtio-net-pci")
        defer { nicsimDestroy(dev) }
        nicsimConfigWrite(dev, 0x04, 2, 0x0007)
        nicsimConfigWrite(dev, 0x10, 4, 0xC000)
        let cap = nicsimConfigRead(dev, 0x34, 1)
        XCTAssertEqual(nicsimConfigRead(dev, cap, 1), 0x11, "MSI-X first in the chain")
        nicsimConfigWrite(dev, cap + 2, 2, 0x8000)
        XCTAssertEqual(nicsimConfigRead(dev, cap + 2, 2) & 0x8000, 0x8000)
        nicsimReset(dev)
        XCTAssertEqual(nicsimConfigRead(dev, 0x04, 2), 0)
        XCTAssertEqual(nicsimConfigRead(dev, 0x10, 4), 1, "I/O BAR type bit only")
        XCTAssertEqual(nicsimConfigRead(dev, cap + 2, 2) & 0x8000, 0)
    }

    /// can_receive: 0 until the driver starts the receiver, then 1; 0 again with the link down.
    func testCanReceiveFollowsTheReceiver() throws {
        let dev = try create("rtl8139")
        defer { nicsimDestroy(dev) }
        XCTAssertEqual(nicsimCanReceive(dev), 0)
        nicsimConfigWrite(dev, 0x04, 2, 0x0007)
        nicsimBarWrite(dev, 0, 0x37, 1, 0x08)   // CR.RE
        XCTAssertEqual(nicsimCanReceive(dev), 1)
        nicsimSetLink(dev, 0)
        XCTAssertEqual(nicsimCanReceive(dev), 0)
        XCTAssertEqual(nicsimCanReceive(nil), 0)
    }

    /// A card with no timer armed has no deadline to report.
    func testAdvanceReturnsNoDeadlineWhenIdle() throws {
        let dev = try create("rtl8139")
        defer { nicsimDestroy(dev) }
        XCTAssertEqual(nicsimAdvance(dev, 1_000_000), -1)
    }
}
