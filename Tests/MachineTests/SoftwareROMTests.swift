import Board
import BootServer
import Bridge
import Foundation
import Machine
import NICCore
import OptionROM
import PXE
import RTL8139
import NE2000
import VirtioNet
import UNDI
import Wire
import XCTest

/// nicsim's own PXE option ROM on the machine: POST, BEV, DHCP and TFTP
/// through the Swift base code, then real NBPs from Debian (pxelinux.0,
/// undionly.kpxe) over the Swift PXE API, with the embedded BootServer on
/// a virtual switch.
final class SoftwareROMTests: XCTestCase {
    static let slot = PCIAddress(device: 3)

    struct Run {
        let machine: Machine
        let rom: SoftwarePXEROM
        let stop: MachineStop
        let events: [BootServerEvent]
        var console: String { machine.bios.console }
    }

    enum Model { case rtl8139, ne2000, virtio }

    func boot(_ model: Model, files: [String: [UInt8]], bootFile: String, ipxeBootFile: String? = nil, until text: String,
              timeout: UInt64 = 60 * VirtualClock.second) throws -> Run {
        let board = Board(memorySize: 64 << 20)
        let mac = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
        let port: FramePort
        let driver: NICDriver
        switch model {
        case .rtl8139:
            let nic = RTL8139(macAddress: mac, memory: board.memory, clock: board.clock)
            board.attach(nic, at: Self.slot)
            port = nic.port
            driver = RTL8139Driver(bus: DriverBus(board: board))
        case .ne2000:
            let nic = RTL8029(macAddress: mac, memory: board.memory, clock: board.clock)
            board.attach(nic, at: Self.slot)
            port = nic.port
            driver = NE2000Driver(bus: DriverBus(board: board), location: .pci())
        case .virtio:
            let nic = VirtioNet(configuration: VirtioNetConfiguration(macAddress: mac), memory: board.memory, clock: board.clock)
            board.attach(nic, at: Self.slot)
            port = nic.port
            driver = VirtioNetDriver(bus: DriverBus(board: board))
        }
        board.add(port: port)
        let network = try EmbeddedNetwork(board: board, port: port, files: files, bootFile: bootFile, ipxeBootFile: ipxeBootFile)
        board.assignResources()

        let m = try Machine(board: board)
        let rom = try SoftwarePXEROM(machine: m, driver: driver, at: Self.slot)
        let stop = try rom.boot(until: m.consoleShows(text), timeout: timeout)
        return Run(machine: m, rom: rom, stop: stop, events: network.events)
    }

    static func file(_ path: String) throws -> [UInt8] {
        [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: path), "\(path) is missing"))
    }

    /// pxelinux's configuration search (PXELINUX documentation): the
    /// client UUID when it has one, the MAC as 01-xx-..., the address in
    /// hex shortened a digit at a time, then "default".
    static let searchOrder = ["pxelinux.cfg/01-52-54-00-12-34-56", "pxelinux.cfg/0A000264", "pxelinux.cfg/0A00026",
                              "pxelinux.cfg/0A0002", "pxelinux.cfg/0A000", "pxelinux.cfg/0A00", "pxelinux.cfg/0A0",
                              "pxelinux.cfg/0A", "pxelinux.cfg/0", "pxelinux.cfg/default"]

    /// Target 2: Debian's pxelinux.0 on our ROM, over our PXE API (UDP
    /// calls, cached DHCP packets): it downloads ldlinux.c32, walks its
    /// search order to pxelinux.cfg/default and runs it (the SAY line).
    func pxelinux(_ model: Model) throws {
        let files = [
            "pxelinux.0": try Self.file("/usr/lib/PXELINUX/pxelinux.0"),
            "ldlinux.c32": try Self.file("/usr/lib/syslinux/modules/bios/ldlinux.c32"),
            "pxelinux.cfg/default": Array("SAY nicsim-pxelinux-config-read\nDEFAULT nicsim\nLABEL nicsim\n  KERNEL vmlinuz\n".utf8),
        ]
        let run = try boot(model, files: files, bootFile: "pxelinux.0", until: "nicsim-pxelinux-config-read",
                           timeout: 20 * VirtualClock.second)
        XCTAssertEqual(run.stop, .condition, run.console)
        XCTAssertTrue(run.console.contains("PXELINUX 6.04 PXE"), run.console)
        let requested = run.events.compactMap { event -> String? in
            switch event {
            case let .transferStarted(_, file, _, _, _): file
            case let .transferFailed(_, file, _): file
            default: nil
            }
        }
        XCTAssertEqual(requested, ["pxelinux.0", "ldlinux.c32"] + Self.searchOrder)
    }

    func testPxelinuxOnRTL8139WalksItsConfigSearch() throws { try pxelinux(.rtl8139) }
    func testPxelinuxOnNE2000WalksItsConfigSearch() throws { try pxelinux(.ne2000) }
    func testPxelinuxOnVirtioNetWalksItsConfigSearch() throws { try pxelinux(.virtio) }

    /// Target 1: Debian's undionly.kpxe as the NBP: iPXE takes over our
    /// UNDI (SHUTDOWN, STARTUP, INITIALIZE, OPEN), drives it through
    /// TRANSMIT and the interrupt-driven ISR calls, does DHCP itself and
    /// runs the script the server gives a client whose user class is iPXE.
    func undionly(_ model: Model) throws {
        let files = [
            "undionly.kpxe": try Self.file("/usr/lib/ipxe/undionly.kpxe"),
            "boot.ipxe": Array("#!ipxe\necho nicsim-undionly ${net0/ip}\n".utf8),
        ]
        let run = try boot(model, files: files, bootFile: "undionly.kpxe", ipxeBootFile: "boot.ipxe",
                           until: "nicsim-undionly 10.0.2.100")
        XCTAssertEqual(run.stop, .condition, run.console)
        let opcodes = Set(run.rom.client.api.callLog.map(\.opcode))
        // TRANSMIT (0008h) and ISR (0014h): iPXE's traffic went through our UNDI.
        XCTAssertTrue(opcodes.isSuperset(of: [0x0008, 0x0014]), "\(opcodes)")
    }

    func testUndionlyOnRTL8139RunsItsScript() throws { try undionly(.rtl8139) }
    func testUndionlyOnNE2000RunsItsScript() throws { try undionly(.ne2000) }
    func testUndionlyOnVirtioNetRunsItsScript() throws { try undionly(.virtio) }
}
