import ArgumentParser
import Board
import BootServer
import Bridge
import Foundation
import NICCore
import NICSim
import PXE
import UNDI
import Wire

/// `nicsim boot`: PXE-boot a simulated PC. The card's UNDI driver, the PXE
/// ROM in software and the built-in pxelinux run on the chosen model, or,
/// with `--rom FILE`, a real option ROM image runs on the x86 machine
/// (Boot+ROM.swift); the network is the embedded BootServer on a virtual
/// switch, a host interface, or a QEMU stream socket (`BootNetwork`).
struct Boot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot",
        abstract: "PXE-boot a simulated client (the embedded server and switch by default)."
    )

    @Option(help: "NIC model: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ModelName = .rtl8139

    @OptionGroup(title: "Host network (instead of the embedded server)")
    var host: HostNetworkOptions

    @Option(name: .customLong("qemu-socket"), help: "Join a QEMU stream netdev at this UNIX socket path (e.g. one `nicsim serve` listens on).")
    var qemuSocket: String?

    @Option(help: "Client MAC address (aa:bb:cc:dd:ee:ff).")
    var mac: String?

    @Option(help: "Client UUID for DHCP option 97 (8-4-4-4-12 hex digits).")
    var uuid: String?

    @Option(help: "Write every frame to this pcapng file.")
    var capture: String?

    @Flag(help: "Print one JSON object instead of the summary.")
    var json = false

    @Option(help: "Guest RAM in MiB (the kernel and initrd must fit).")
    var memory: Int = 64

    @Option(help: "TFTP root of the embedded server (default: fixtures/tftpboot in the checkout, else the installed share/nicsim/tftpboot).")
    var dir: String?

    @Option(help: "Fault injection on the virtual switch: probability a frame is lost (0...1).")
    var loss: Double = 0

    @Option(help: "Fault injection: probability a frame is duplicated (0...1).")
    var duplication: Double = 0

    @Option(help: "Fault injection: frames reordered in windows of this many (0: none).")
    var reorder: Int = 0

    @Option(help: "Seed for fault injection and the default MAC.")
    var seed: UInt64 = 1

    @Option(help: "The NBP: exec (run it on the x86 machine over nicsim's PXE ROM), builtin (nicsim's Swift pxelinux), auto (exec when the boot file is x86 code, builtin otherwise).")
    var nbp: NBPMode = .auto

    @Option(help: "With exec or --rom: stop as soon as the console shows this text (exit 1 if it never does).")
    var until: String?

    @Option(help: "With exec or --rom: stop after this many seconds of virtual time.")
    var timeout: Double = 120

    @Option(help: "Run this real option ROM image (e.g. iPXE's pxe-rtl8139.rom; with --firmware uefi its EFI driver, e.g. efi-rtl8139.rom) on the x86 machine instead of nicsim's PXE ROM.")
    var rom: String?

    @Option(name: .customLong("boot-file"), help: "With --rom: the embedded server's DHCP boot file (default boot.ipxe); with --firmware uefi: its boot file for UEFI clients (default snponly.efi, then boot.ipxe for iPXE).")
    var bootFile: String?

    @Option(help: "The PC's firmware: bios (nicsim's PXE option ROM) or uefi (UEFI firmware; the boot file is an EFI application on the Simple Network Protocol).")
    var firmware: FirmwareKind = .bios

    @OptionGroup(title: "Embedded server")
    var served: EmbeddedServerOptions

    func validate() throws {
        if served.isRequested && (host.isRequested || qemuSocket != nil) {
            throw ValidationError("--efi-boot-file, --ipxe-boot-file, --boot-file-for and --http-port are for the embedded server")
        }
        if host.isRequested && qemuSocket != nil {
            throw ValidationError("--qemu-socket can't be used with --bridge or --tap")
        }
        if let mac, MACAddress(mac) == nil { throw ValidationError("--mac must look like 52:54:00:12:34:56") }
        if let uuid, Self.parseUUID(uuid) == nil { throw ValidationError("--uuid must be 32 hex digits, e.g. 8-4-4-4-12") }
        guard (0...1).contains(loss), (0...1).contains(duplication) else { throw ValidationError("--loss and --duplication are probabilities 0...1") }
        guard (0...64).contains(reorder) else { throw ValidationError("--reorder must be 0...64") }
        guard (16...4096).contains(memory) else { throw ValidationError("--memory must be 16 to 4096 MiB") }
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be 0 to 3600 seconds") }
        if until != nil, nbp == .builtin { throw ValidationError("--until needs --nbp exec or auto (the built-in pxelinux prints nothing)") }
        if firmware == .uefi {
            if rom != nil, uuid != nil { throw ValidationError("--uuid is for the firmware's own DHCP; a --rom boots on its own") }
            if nbp != .auto { throw ValidationError("--nbp is for nicsim's PXE ROM; under --firmware uefi the boot file always runs on the CPU") }
        } else if rom == nil {
            if bootFile != nil { throw ValidationError("--boot-file needs --rom or --firmware uefi") }
        } else {
            if nbp != .auto { throw ValidationError("--nbp is for nicsim's PXE ROM; a --rom boots on its own") }
            if uuid != nil { throw ValidationError("--uuid is for nicsim's PXE ROM; a --rom sends its own DHCP options") }
        }
    }

    static func parseUUID(_ text: String) -> [UInt8]? {
        let hex = text.filter { $0 != "-" }
        guard hex.count == 32 else { return nil }
        var bytes: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            guard let b = UInt8(hex[i..<j], radix: 16) else { return nil }
            bytes.append(b)
            i = j
        }
        return bytes
    }

    func run() throws {
        let wall = MonotonicClock()
        let macAddress = mac.flatMap(MACAddress.init) ?? MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
        // Parse the ROM before building anything, so a bad file is one line.
        let image = try rom.map(ROMBoot.load)
        let pc = SimulatedPC(model: model, mac: macAddress, memorySize: memory << 20)

        let board = pc.board
        let faults = FaultProfile(lossRate: loss, duplicationRate: duplication, reorderWindow: reorder)

        // The far side: the embedded server, a host interface or a QEMU socket.
        let peer: BootNetwork.Peer = if host.isRequested {
            .host(host.link)
        } else if let qemuSocket {
            .qemuSocket(qemuSocket)
        } else {
            .embedded(directory: dir ?? DefaultTFTPTree.resolve(), bootFile: image == nil ? nil : (bootFile ?? "boot.ipxe"),
                      hint: "run from the nicsim checkout, install with make install, or give --dir")
        }
        let network = try BootNetwork(board: board, device: pc.port, macAddress: macAddress, peer: peer,
                                      follow: pc.stationFilter, faults: faults, seed: seed, capture: capture, advise: warn,
                                      uefiBootFiles: firmware == .uefi && image == nil ? (bootFile ?? "snponly.efi", "boot.ipxe") : nil,
                                      configure: served.apply)
        defer { network.close() }
        try host.dropPrivileges()
        if firmware == .uefi {
            if let image { try bootUEFIROM(image, pc: pc, network: network, wall: wall) } else { try runUEFI(pc: pc, network: network, wall: wall) }
            return
        }
        if let image {
            try bootROM(image, pc: pc, network: network, wall: wall)
            return
        }

        let identity = PXEClientIdentity(uuid: uuid.flatMap(Self.parseUUID))
        let start = board.clock.now
        if nbp != .builtin {
            // nicsim's PXE ROM on the x86 machine; the NBP runs there unless
            // auto finds it is not x86 code.
            guard let handover = try runOnMachine(pc: pc, identity: identity, network: network, wall: wall) else {
                return
            }
            try finishBuiltin(pc: pc, client: handover.client, dhcp: handover.dhcp, network: network, start: start, wall: wall)
            return
        }

        let report = try BuiltinBoot.run(pc: pc, network: network, identity: identity, wall: wall) { client in
            TransferProgress.attach(to: client, on: network.fabric, enabled: !json)
        }
        print(report)
    }

    /// The NBP as nicsim's built-in pxelinux after the ROM on the machine
    /// handed its client over, and the report.
    func finishBuiltin(pc: SimulatedPC, client: PXEClient, dhcp: DHCPResult, network: BootNetwork,
                       start: UInt64, wall: MonotonicClock) throws {
        print(try BuiltinBoot.finish(pc: pc, client: client, dhcp: dhcp, network: network, start: start, wall: wall))
    }

    func print(_ report: BootReport) {
        if json {
            emit(report.json())
        } else {
            for line in report.summary() { emit(line) }
        }
    }
}
