import Board
import BootServer
import Bridge
import Foundation
import Machine
import NE2000
import NICCore
import RTL8139
import UNDI
import VirtioNet
import Wire
import XCTest

/// Debian's iPXE EFI builds as network boot programs on the UEFI machine,
/// against the embedded server, on all three models. The firmware's PXE
/// base code asks for a boot file as an x64 UEFI client (the server's
/// BIOS file does not exist, so only an arch-7 request can succeed),
/// then starts it. `snponly.efi` drives the card only through the
/// firmware's Simple Network Protocol (nicsim's UNDI driver underneath);
/// `ipxe.efi` disconnects the firmware's network driver and drives the
/// card with its own driver through PCI I/O and the root bridge. Both
/// lease an address with their own DHCP and run the script the server
/// hands iPXE; its echo of `${net0/ip}` is on our console.
final class UEFINetworkBootTests: XCTestCase {
    static let mac = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
    static let slot = PCIAddress(device: 3)
    static let scriptOutput = "nicsim efi script ok"

    struct Run {
        let firmware: UEFINetworkBoot
        let stop: MachineStop
        let server: BootServer
        var console: String { firmware.machine.console }
    }

    enum Model { case rtl8139, ne2000, virtio }

    func boot(_ nbp: String, on model: Model, until text: String? = nil, timeout: UInt64 = 20 * VirtualClock.second) throws -> Run {
        let path = "/usr/lib/ipxe/\(nbp)"
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path), "\(path) missing: apt install ipxe")
        let board = Board(memorySize: 64 << 20)
        let port: FramePort
        let driver: NICDriver
        let bus = DriverBus(board: board)
        switch model {
        case .rtl8139:
            let nic = RTL8139(macAddress: Self.mac, memory: board.memory, clock: board.clock)
            board.attach(nic, at: Self.slot)
            port = nic.port
            driver = RTL8139Driver(bus: bus)
        case .ne2000:
            let nic = RTL8029(macAddress: Self.mac, memory: board.memory, clock: board.clock)
            board.attach(nic, at: Self.slot)
            port = nic.port
            driver = NE2000Driver(bus: bus, location: .pci())
        case .virtio:
            let nic = VirtioNet(configuration: VirtioNetConfiguration(macAddress: Self.mac, msixVectors: 0), memory: board.memory, clock: board.clock)
            board.attach(nic, at: Self.slot)
            port = nic.port
            driver = VirtioNetDriver(bus: bus)
        }
        board.add(port: port)
        let network = try EmbeddedNetwork(board: board, port: port,
                                          files: [nbp: [UInt8](data), "boot.ipxe": Array("#!ipxe\necho \(Self.scriptOutput) ${net0/ip}\n".utf8)],
                                          bootFile: "no-bios-file.0", ipxeBootFile: "boot.ipxe", efiBootFile: nbp)
        board.assignResources()
        let firmware = try UEFINetworkBoot(board: board, driver: driver, slot: Self.slot)
        let wanted = text ?? "\(Self.scriptOutput) 10.0.2.100"
        let stop: MachineStop
        do {
            stop = try firmware.boot(until: firmware.machine.consoleShows(wanted), timeout: timeout)
        } catch {
            XCTFail("\(error)\nconsole:\n\(firmware.machine.console)\nlog: \(firmware.machine.log)")
            throw error
        }
        XCTAssertNil(firmware.failure)
        XCTAssertEqual(firmware.nbp?.name, nbp)
        XCTAssertEqual(firmware.nbp?.size, data.count)
        return Run(firmware: firmware, stop: stop, server: network.server)
    }

    func assertScriptRan(_ r: Run, driver: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.stop, .condition, "console:\n\(r.console)\nlog: \(r.firmware.machine.log)", file: file, line: line)
        XCTAssertTrue(r.console.contains("using \(driver) on"), r.console, file: file, line: line)
        XCTAssertTrue(r.console.contains("net0: 10.0.2.100/255.255.255.0"), r.console, file: file, line: line)
        XCTAssertTrue(r.console.contains("boot.ipxe : "), r.console, file: file, line: line)
        // The firmware's lease and iPXE's are the same address: one client, one MAC.
        XCTAssertEqual(r.firmware.dhcp?.address, IPv4Address(10, 0, 2, 100), file: file, line: line)
    }

    func testSNPOnlyOnRTL8139RunsTheScript() throws {
        let r = try boot("snponly.efi", on: .rtl8139)
        assertScriptRan(r, driver: "SNP")
        // Under about 2.1 s of virtual time from power-on, 2 s of it iPXE's Ctrl-B prompt.
        XCTAssertLessThan(r.firmware.machine.board.clock.now, 3 * VirtualClock.second)
    }

    func testSNPOnlyOnNE2000RunsTheScript() throws {
        assertScriptRan(try boot("snponly.efi", on: .ne2000), driver: "SNP")
    }

    func testSNPOnlyOnVirtioNetRunsTheScript() throws {
        assertScriptRan(try boot("snponly.efi", on: .virtio), driver: "SNP")
    }

    /// ipxe.efi's own rtl8139 driver over PCI I/O, not our SNP.
    func testIPXEEFIDrivesTheRTL8139ItselfAndRunsTheScript() throws {
        assertScriptRan(try boot("ipxe.efi", on: .rtl8139), driver: "rtl8139")
    }

    func testIPXEEFIDrivesTheNE2000ItselfAndRunsTheScript() throws {
        assertScriptRan(try boot("ipxe.efi", on: .ne2000), driver: "rtl8029")
    }

    func testIPXEEFIDrivesVirtioNetItselfAndRunsTheScript() throws {
        assertScriptRan(try boot("ipxe.efi", on: .virtio), driver: "virtio-net")
    }
}
