import Board
import BootServer
import Foundation
import Machine
import NE2000
import NICCore
import OptionROM
import RTL8139
import VirtioNet
import Wire
import XCTest

/// UEFI option ROMs: the EFI driver in QEMU's iPXE ROMs (ipxe-qemu's
/// efi-*.rom) loaded from the ROM's EFI image, started as a boot service
/// driver, bound to our card by ConnectController through PCI I/O and the
/// root bridge, then booted through the Load File protocol it installs on
/// its network handle, as a boot manager does. iPXE's own driver for the
/// card leases an address from the embedded server and runs boot.ipxe.
final class UEFIOptionROMTests: XCTestCase {
    static let mac = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
    static let slot = PCIAddress(device: 3)

    func boot(_ romName: String, _ make: (Board) -> (PCIFunction, FramePort)) throws -> UEFIMachine {
        let path = "/usr/lib/ipxe/qemu/\(romName)"
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path), "\(path) missing: apt install ipxe-qemu")
        let rom = try ExpansionROM(bytes: [UInt8](data))
        let board = Board(memorySize: 64 << 20)
        let (nic, port) = make(board)
        board.attach(nic, at: Self.slot)
        board.add(port: port)
        let network = try EmbeddedNetwork(board: board, port: port, files: ["boot.ipxe": Array("#!ipxe\necho efi-rom-ok ${net0/ip}\n".utf8)],
                                          bootFile: "boot.ipxe")
        board.assignResources()
        let m = try UEFIMachine(board: board)
        let pci = m.addPCIDevice(slot: Self.slot)
        let driver = try m.loadOptionROMDriver(rom, device: pci)
        try m.start(image: driver)
        XCTAssertEqual(try m.run(timeout: 5 * VirtualClock.second), .returned)
        XCTAssertEqual(m.lastExitStatus, 0, "driver entry: \(m.log)")
        try m.connect(controller: pci)
        XCTAssertEqual(try m.run(timeout: 5 * VirtualClock.second), .returned)
        XCTAssertEqual(m.lastExitStatus, 0, "ConnectController: \(m.log)")
        let child = try XCTUnwrap(m.loadFileHandles.first, "the driver installed no network handle: \(m.log)")
        try m.bootLoadFile(on: child)
        let stop = try m.run(until: m.consoleShows("efi-rom-ok 10.0.2.100"), timeout: 20 * VirtualClock.second)
        XCTAssertEqual(stop, .condition, "console:\n\(m.console)\nlog: \(m.log)")
        XCTAssertGreaterThan(network.server.counters.routerAdvertisements, 0)
        return m
    }

    func testEFIRTL8139ROMDrivesTheCardAndRunsTheScript() throws {
        let m = try boot("efi-rtl8139.rom") { b in
            let nic = RTL8139(macAddress: Self.mac, memory: b.memory, clock: b.clock)
            return (nic, nic.port)
        }
        XCTAssertTrue(m.console.contains("using rtl8139 on"), m.console)
    }

    func testEFINE2000ROMDrivesTheCardAndRunsTheScript() throws {
        let m = try boot("efi-ne2k_pci.rom") { b in
            let nic = RTL8029(macAddress: Self.mac, memory: b.memory, clock: b.clock)
            return (nic, nic.port)
        }
        XCTAssertTrue(m.console.contains("using rtl8029 on"), m.console)
    }

    func testEFIVirtioROMDrivesTheCardAndRunsTheScript() throws {
        let m = try boot("efi-virtio.rom") { b in
            let nic = VirtioNet(configuration: VirtioNetConfiguration(macAddress: Self.mac), memory: b.memory, clock: b.clock)
            return (nic, nic.port)
        }
        XCTAssertTrue(m.console.contains("using virtio-net on"), m.console)
    }
}
