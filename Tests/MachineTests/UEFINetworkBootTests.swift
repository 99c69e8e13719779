import Board
import BootServer
import Bridge
import Foundation
import Machine
import NICCore
import RTL8139
import UNDI
import Wire
import XCTest

/// Debian's iPXE EFI builds running on the UEFI machine: `snponly.efi`
/// drives the card only through the firmware's Simple Network Protocol
/// (nicsim's UNDI driver underneath), gets a lease from the embedded
/// server and runs the iPXE script it hands out.
final class UEFINetworkBootTests: XCTestCase {
    static let mac = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
    static let slot = PCIAddress(device: 3)
    static let scriptOutput = "nicsim efi script ok"

    struct Run {
        let machine: UEFIMachine
        let stop: MachineStop
        let server: BootServer
    }

    func bootSNPOnly(until text: String, timeout: UInt64 = 20 * VirtualClock.second) throws -> Run {
        let path = "/usr/lib/ipxe/snponly.efi"
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path), "\(path) missing: apt install ipxe")
        let board = Board(memorySize: 64 << 20)
        let nic = RTL8139(macAddress: Self.mac, memory: board.memory, clock: board.clock)
        board.attach(nic, at: Self.slot)
        board.add(port: nic.port)
        let network = try EmbeddedNetwork(board: board, port: nic.port,
                                          files: ["boot.ipxe": Array("#!ipxe\necho \(Self.scriptOutput) ${net0/ip}\n".utf8)],
                                          bootFile: "snponly.efi", ipxeBootFile: "boot.ipxe")
        board.assignResources()
        let machine = try UEFIMachine(board: board)
        let device = try machine.addNetworkDevice(driver: RTL8139Driver(bus: DriverBus(board: board)), slot: Self.slot)
        let image = try machine.loadImage([UInt8](data), device: device, filePath: "snponly.efi")
        try machine.start(image: image)
        let stop: MachineStop
        do {
            stop = try machine.run(until: machine.consoleShows(text), timeout: timeout)
        } catch {
            XCTFail("\(error)\nconsole:\n\(machine.console)\nlog: \(machine.log)")
            throw error
        }
        return Run(machine: machine, stop: stop, server: network.server)
    }

    /// iPXE prints its banner through ConOut once the firmware has let it
    /// start: the system table, LoadedImage and the device path of the
    /// image's device, and its driver binding connected to our SNP handle.
    func testSNPOnlyPrintsTheIPXEBanner() throws {
        let r = try bootSNPOnly(until: "iPXE", timeout: 5 * VirtualClock.second)
        XCTAssertEqual(r.stop, .condition, "console:\n\(r.machine.console)\nlog: \(r.machine.log)")
    }

    /// The whole way: DHCP through SNP over the RTL8139's UNDI driver, the
    /// script over TFTP, and its echo with the leased address.
    func testSNPOnlyGetsALeaseAndRunsTheScript() throws {
        let r = try bootSNPOnly(until: "\(Self.scriptOutput) 10.0.2.100")
        XCTAssertEqual(r.stop, .condition, "console:\n\(r.machine.console)\nlog: \(r.machine.log)")
        XCTAssertTrue(r.machine.console.contains("net0: 10.0.2.100/255.255.255.0"), r.machine.console)
        print("CONSOLE>>>\(r.machine.console)<<<\nLOG \(r.machine.log)\nvirtual \(Double(r.machine.board.clock.now) / 1e9) s, \(r.machine.instructionsExecuted) instructions")
    }
}
