import ArgumentParser
import Board
import BootServer
import Bridge
import Foundation
import Machine
import NICCore
import NICSim
import OptionROM
import VirtioNet
import Wire

/// `nicsim rom`: PCI expansion ROM images.
struct Rom: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rom",
        abstract: "PCI expansion ROM images: inspect them (legacy PXE, $PnP, UNDI, EFI), run real ones on a model, build nicsim's own PXE ROM.",
        subcommands: [Inspect.self, Run.self, Build.self]
    )

    /// `nicsim rom inspect FILE`: parse, validate and print the structure.
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect",
            abstract: "Print a ROM's images, PCIR, $PnP (BCV/BEV), UNDI ROM ID and EFI headers; exit 1 on any problem."
        )

        @Argument(help: "The ROM image file.")
        var file: String

        func run() throws {
            let bytes = try Rom.load(file)
            let rom: ExpansionROM
            do {
                rom = try ExpansionROM(bytes: bytes)
            } catch {
                throw CLIError(description: "\(file): \(error)")
            }
            for line in rom.report { print(line) }
            if let first = rom.issues.first {
                throw CLIError(description: "\(file): \(first)")
            }
        }
    }

    /// `nicsim rom run FILE`: a real option ROM on one of our models, as a
    /// PC BIOS runs it: POST (shadow, INIT), then boot through its BEV.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a real x86 option ROM (e.g. iPXE's) on a NIC model: INIT, then BEV; print its console. With --serve, on a network with the embedded boot server; with --bridge, on a host interface."
        )

        @Argument(help: "The option ROM image file.")
        var file: String

        @Option(help: "NIC model at 00:03.0: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")).")
        var model: ModelName = .rtl8139

        @Option(help: "virtio-net PCI interface: legacy, transitional or modern.")
        var virtio: VirtioInterface = .transitional

        @Option(help: "Client MAC address (aa:bb:cc:dd:ee:ff).")
        var mac: String = "52:54:00:12:34:56"

        @Option(help: "Stop after this many seconds of virtual time.")
        var timeout: Double = 60

        @Option(help: "Stop as soon as the console shows this text.")
        var until: String?

        @Flag(help: "Print one JSON object (console, stop reason, times, frames) instead of the live console.")
        var json = false

        @Option(help: "Put the NIC on a virtual switch with the embedded boot server (DHCP 10.0.2.100-199 from 10.0.2.2), serving this directory over TFTP.")
        var serve: String?

        @Option(name: .customLong("boot-file"), help: "With --serve: the DHCP boot file name.")
        var bootFile: String = "boot.ipxe"

        @OptionGroup(title: "Host network (virtual time is then paced to real time)")
        var host: HostNetworkOptions

        func validate() throws {
            guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be 0 to 3600 seconds") }
            guard Rom.parseMAC(mac) != nil else { throw ValidationError("--mac must look like 52:54:00:12:34:56") }
            if serve != nil && host.isRequested { throw ValidationError("--serve can't be used with --bridge or --tap") }
        }

        func run() throws {
            let wall = MonotonicClock()
            let rom = try ROMBoot.load(file)
            let macAddress = Rom.parseMAC(mac) ?? MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
            // The card at 00:03.0, resources assigned as firmware would.
            let pc = SimulatedPC(model: model, mac: macAddress, virtio: virtio)
            let board = pc.board
            let address = PCIAddress(device: 3)
            let port = pc.port
            // The wire: the embedded server, a host interface, or nothing.
            let peer: BootNetwork.Peer? = if let serve {
                .embedded(directory: serve, bootFile: bootFile, hint: "give an existing directory with --serve")
            } else if host.isRequested {
                .host(host.link)
            } else {
                nil
            }
            var network: BootNetwork?
            if let peer { network = try BootNetwork(board: board, device: port, macAddress: macAddress, peer: peer, follow: pc.stationFilter,
                                                       advise: warn) }
            defer { network?.close() }
            try host.dropPrivileges()
            if !json {
                network?.server?.onEvent = { event in
                    var err = StandardError()
                    print("\nnicsim: \(event)", to: &err)
                }
            }
            let run = try ROMBoot.run(rom, on: board, slot: address, until: until, timeout: UInt64(timeout * 1e9), live: !json)
            let machine = run.machine
            var report = ROMRunReport(
                model: model.rawValue, rom: file, stop: "\(run.stop)", virtualTimeNs: board.clock.now,
                wallSeconds: Double(wall.elapsed) / 1e9, instructions: machine.instructionsExecuted,
                framesTransmitted: port.counters.transmittedFrames, framesReceived: port.counters.deliveredFrames,
                console: run.console)
            if let server = network?.server {
                report.dhcpReplies = server.counters.dhcpReplies
                report.tftpTransfersCompleted = server.tftp?.counters.completed ?? 0
            }
            if let network {
                report.network = network.name
                // Every file the ROM's client fetched over TFTP, as `boot` reports it.
                let fetched = TransferReport.finish(network.transfers)
                report.files = fetched.files
                report.failed = fetched.failed
                if !json {
                    var err = StandardError()
                    for f in fetched.files { print("nicsim: fetched \(f.name) (\(f.size) bytes, sha256 \(f.sha256)) from \(f.server)", to: &err) }
                    for f in fetched.failed { print("nicsim: failed \(f.name) from \(f.server): \(f.error)", to: &err) }
                }
            }
            report.host = network?.hostLink.map(HostLinkReport.init)
            if json {
                print(report.json())
            } else {
                var err = StandardError()
                print("\nnicsim: \(run.stop) after \(Double(board.clock.now) / 1e9) s virtual, \(Double(wall.elapsed) / 1e9) s wall, "
                      + "\(machine.instructionsExecuted) instructions, \(port.counters.transmittedFrames) frames sent", to: &err)
                if let host = report.host { print("nicsim: \(host.summary)", to: &err) }
            }
            if let until, !run.shows(until) {
                throw CLIError(description: "the console never showed \"\(until)\" (stopped: \(run.stop))")
            }
        }
    }

    static func parseMAC(_ s: String) -> MACAddress? {
        let parts = s.split(separator: ":")
        guard parts.count == 6 else { return nil }
        let bytes = parts.compactMap { UInt8($0, radix: 16) }
        guard bytes.count == 6 else { return nil }
        return MACAddress(bytes: bytes)
    }

    /// The file's bytes, or one clear line if it cannot be read.
    static func load(_ path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw CLIError(description: "\(path): no such file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError(description: "\(path): cannot read it (check permissions)")
        }
        guard data.count <= 16 << 20 else {
            throw CLIError(description: "\(path): \(data.count) bytes is larger than any expansion ROM (16 MiB)")
        }
        return [UInt8](data)
    }
}
