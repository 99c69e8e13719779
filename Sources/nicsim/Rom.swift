import ArgumentParser
import Board
import BootServer
import Bridge
import Foundation
import Machine
import NE2000
import NICCore
import OptionROM
import RTL8139
import VirtioNet
import Wire

/// `nicsim rom`: PCI expansion ROM images.
struct Rom: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rom",
        abstract: "Inspect PCI expansion ROM images (legacy PXE, $PnP, UNDI, EFI).",
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
            abstract: "Run a real x86 option ROM (e.g. iPXE's) on a NIC model: INIT, then BEV; print its console. With --serve, on a network with the embedded boot server."
        )

        enum VirtioInterface: String, ExpressibleByArgument, CaseIterable {
            case legacy, transitional, modern
        }

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

        func validate() throws {
            guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be 0 to 3600 seconds") }
            guard Rom.parseMAC(mac) != nil else { throw ValidationError("--mac must look like 52:54:00:12:34:56") }
        }

        func run() throws {
            let bytes = try Rom.load(file)
            let rom: ExpansionROM
            do { rom = try ExpansionROM(bytes: bytes) } catch { throw CLIError(description: "\(file): \(error)") }
            let board = Board(memorySize: 64 << 20)
            let address = PCIAddress(device: 3)
            let macAddress = Rom.parseMAC(mac) ?? MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
            let port: FramePort
            switch model {
            case .rtl8139:
                let nic = RTL8139(macAddress: macAddress, memory: board.memory, clock: board.clock)
                board.attach(nic, at: address)
                port = nic.port
            case .ne2000:
                let nic = RTL8029(macAddress: macAddress)
                board.attach(nic, at: address)
                port = nic.port
            case .virtioNet:
                let variant: VirtioPCIVariant = switch virtio {
                case .legacy: .legacy
                case .transitional: .transitional
                case .modern: .modern
                }
                let nic = VirtioNet(configuration: VirtioNetConfiguration(macAddress: macAddress, variant: variant),
                                    memory: board.memory, clock: board.clock)
                board.attach(nic, at: address)
                port = nic.port
            }
            board.add(port: port)
            let wire = FrameCounter()
            var server: BootServer?
            var network: VirtualSwitch?
            if let serve {
                var configuration = BootServerConfiguration(
                    mac: MACAddress(0x02, 0x6E, 0x69, 0x63, 0x73, 0x01), ip: IPv4Address(10, 0, 2, 2),
                    pool: IPv4Address(10, 0, 2, 100)...IPv4Address(10, 0, 2, 199), tftpRoot: serve)
                configuration.biosBootFile = bootFile
                let s: BootServer
                do { s = try BootServer(configuration: configuration, clock: board.clock) } catch {
                    throw CLIError(description: "\(error.description); give an existing directory with --serve")
                }
                if !json {
                    s.onEvent = { event in
                        var err = StandardError()
                        print("\nnicsim: \(event)", to: &err)
                    }
                }
                let sw = VirtualSwitch(clock: board.clock)
                sw.connect(device: port)
                sw.connect(device: s.port)
                sw.tap = wire
                board.add(port: s.port)
                server = s
                network = sw
            } else {
                port.transmitter = wire
            }
            board.assignResources()
            let machine: Machine
            do { machine = try Machine(board: board) } catch { throw CLIError(description: "\(error)") }
            if !json {
                machine.bios.onConsole = { c in
                    FileHandle.standardOutput.write(Data([c]))
                }
            }
            let budget = UInt64(timeout * 1e9)
            let needle = until
            let stop: MachineStop
            do {
                var shadowed = try machine.shadow(rom, for: address)
                let initStop = try machine.initialize(&shadowed, timeout: budget)
                if initStop != .returned {
                    stop = initStop
                } else {
                    stop = try machine.bootstrap(shadowed, until: { needle.map { machine.bios.console.contains($0) } ?? false },
                                                 timeout: budget)
                }
            } catch {
                throw CLIError(description: "\(error)")
            }
            var summary: [String: Any] = [
                "model": model.rawValue,
                "rom": file,
                "stop": "\(stop)",
                "virtualTimeNs": board.clock.now,
                "instructions": machine.instructionsExecuted,
                "framesTransmitted": wire.frames,
                "console": machine.bios.console,
            ]
            if let server {
                summary["dhcpReplies"] = server.counters.dhcpReplies
                summary["tftpTransfersCompleted"] = server.tftp.counters.completed
            }
            _ = network
            if json {
                let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                var err = StandardError()
                print("\nnicsim: \(stop) after \(Double(board.clock.now) / 1e9) s virtual, \(machine.instructionsExecuted) instructions, \(wire.frames) frames sent", to: &err)
            }
            if let needle, !machine.bios.console.contains(needle) {
                throw CLIError(description: "the console never showed \"\(needle)\" (stopped: \(stop))")
            }
        }
    }

    /// Counts what the NIC transmits: as its wire when there is no
    /// network, as a tap on the switch's NIC port (port 0) when there is.
    final class FrameCounter: FrameTransmitter, SwitchTap {
        var frames = 0
        func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) { frames += 1 }
        func switchPort(_ index: Int, saw frame: UnsafeRawBufferPointer, direction: TraceDirection, at time: UInt64) {
            if index == 0, direction == .inbound { frames += 1 }
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
