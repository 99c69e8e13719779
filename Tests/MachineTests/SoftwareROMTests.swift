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
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-swrom-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("pxelinux.cfg"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        for (name, bytes) in files { try Data(bytes).write(to: root.appendingPathComponent(name)) }
        var configuration = BootServerConfiguration(
            mac: MACAddress(0x02, 0x6E, 0x69, 0x63, 0x73, 0x01), ip: IPv4Address(10, 0, 2, 2),
            pool: IPv4Address(10, 0, 2, 100)...IPv4Address(10, 0, 2, 199), tftpRoot: root.path)
        configuration.biosBootFile = bootFile
        configuration.ipxeBootFile = ipxeBootFile
        let server = try BootServer(configuration: configuration, clock: board.clock)
        var events: [BootServerEvent] = []
        server.onEvent = { events.append($0) }
        let wire = VirtualSwitch(clock: board.clock)
        wire.connect(device: port)
        wire.connect(device: server.port)
        board.add(port: server.port)
        board.assignResources()
        let capture = ProcessInfo.processInfo.environment["NICSIM_CAPTURE"].flatMap { try? SwitchCapture(path: $0, switch: wire) }
        defer { try? capture?.close() }

        let m = try Machine(board: board)
        let rom = try SoftwarePXEROM(machine: m, driver: driver, at: Self.slot)
        rom.client.api.callLogLimit = 1 << 20
        var written = 0, searched = 0, found = false
        m.bios.onConsole = { c in written += 1; FileHandle.standardError.write(Data([c])) }
        let stop = try rom.boot(until: {
            guard written != searched else { return found }
            searched = written
            found = m.bios.console.contains(text)
            return found
        }, timeout: timeout)
        if ProcessInfo.processInfo.environment["NICSIM_TRACE"] != nil {
            print("stop \(stop) nbp \(String(describing: rom.nbp)) at \(board.clock.now) ns, \(m.instructionsExecuted) instructions")
            var last = "", count = 0
            var lines: [String] = []
            for c in rom.client.api.callLog {
                let k = "\(String(c.opcode, radix: 16)):\(String(c.status.rawValue, radix: 16))"
                if k == last { count += 1 } else { if count > 0 { lines.append("\(last)x\(count)") }; last = k; count = 1 }
            }
            lines.append("\(last)x\(count)")
            print("calls", lines.joined(separator: " "))
            print("cs:ip \(String(m[.cs], radix: 16)):\(String(m[.eip], radix: 16)) cr0 \(m[.cr0])")
        }
        return Run(machine: m, rom: rom, stop: stop, events: events)
    }

    static func file(_ path: String) throws -> [UInt8] {
        [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: path), "\(path) is missing"))
    }

    func testPxelinuxSearchesItsConfiguration() throws {
        let files = [
            "pxelinux.0": try Self.file("/usr/lib/PXELINUX/pxelinux.0"),
            "ldlinux.c32": try Self.file("/usr/lib/syslinux/modules/bios/ldlinux.c32"),
            "pxelinux.cfg/default": Array("DEFAULT nicsim\nSAY nicsim-pxelinux-config-read\nLABEL nicsim\n  KERNEL vmlinuz\n".utf8),
        ]
        let run = try boot(.rtl8139, files: files, bootFile: "pxelinux.0", until: "nicsim-pxelinux-config-read", timeout: UInt64(ProcessInfo.processInfo.environment["NICSIM_TIMEOUT"].flatMap(Double.init) ?? 60) * VirtualClock.second)
        print(run.stop, run.events.map(\.description).joined(separator: "\n"))
        XCTAssertEqual(run.stop, .condition)
    }

    func testUndionlyRunsItsScript() throws {
        let files = [
            "undionly.kpxe": try Self.file("/usr/lib/ipxe/undionly.kpxe"),
            "boot.ipxe": Array("#!ipxe\necho nicsim-undionly ${net0/ip}\n".utf8),
        ]
        let run = try boot(.rtl8139, files: files, bootFile: "undionly.kpxe", ipxeBootFile: "boot.ipxe", until: "nicsim-undionly 10.")
        print(run.stop, run.events.map(\.description).joined(separator: "\n"))
        XCTAssertEqual(run.stop, .condition)
    }
}
