import ArgumentParser
import Foundation
import Machine
import NICSim
import OptionROM

/// The firmware `nicsim boot` gives the simulated PC.
enum FirmwareKind: String, ExpressibleByArgument, CaseIterable {
    /// Real-mode BIOS with nicsim's PXE option ROM.
    case bios
    /// x86-64 UEFI firmware: DHCP as arch 7, the boot file an EFI application over SNP.
    case uefi
}

extension Boot {
    /// Boots the PC with UEFI firmware: DHCP and TFTP in the firmware's
    /// PXE base code, then the EFI boot file on the CPU with the card on
    /// the Simple Network Protocol, its console printed live; then the
    /// same report as the BIOS path.
    func runUEFI(pc: SimulatedPC, network: BootNetwork, wall: MonotonicClock) throws {
        let board = pc.board
        let start = board.clock.now
        let firmware: UEFINetworkBoot
        do {
            firmware = try UEFINetworkBoot(board: board, driver: pc.driver, slot: SimulatedPC.slot, uuid: uuid.flatMap(Self.parseUUID))
        } catch { throw CLIError(description: "\(error)") }
        let machine = firmware.machine
        if !json {
            machine.onConsole = { text in FileHandle.standardOutput.write(Data(text.utf8)) }
        }
        let stop: MachineStop
        do {
            stop = try firmware.boot(until: until.map(machine.consoleShows) ?? { false }, timeout: UInt64(timeout * 1e9))
        } catch {
            throw CLIError(description: "\(error)")
        }
        guard let dhcp = firmware.dhcp, firmware.nbp != nil else {
            throw CLIError(description: firmware.failure ?? "the UEFI firmware did not boot (\(stop))")
        }
        let fetched = TransferReport.finish(network.transfers)
        if !json, !machine.console.hasSuffix("\n") { emit("") }
        let report = BootReport(
            model: model.rawValue, device: pc.modelName, mac: pc.mac.description, network: network.name,
            lease: BootReport.Lease(dhcp), nbp: "uefi",
            files: fetched.files, failed: fetched.failed, tftpProbes: fetched.probes, transfersNotListed: fetched.notListed,
            frames: .init(tx: pc.port.counters.transmittedFrames, rx: pc.port.counters.deliveredFrames),
            virtualSeconds: Double(board.clock.now - start) / 1e9, wallSeconds: Double(wall.elapsed) / 1e9,
            stop: "\(stop)", console: machine.console, host: network.hostLink.map(HostLinkReport.init))
        print(report)
        if let until, stop != .condition {
            throw CLIError(description: "the console never showed \"\(until)\" (the machine stopped: \(stop))")
        }
    }
}

extension Boot {
    /// `--firmware uefi --rom FILE`: the EFI driver in the card's option
    /// ROM (e.g. QEMU's efi-rtl8139.rom) loaded and started, bound to the
    /// card by ConnectController through PCI I/O, then booted through the
    /// Load File protocol it installs, as a boot manager's network boot
    /// option does. Reported like the BIOS `--rom` path.
    func bootUEFIROM(_ image: ExpansionROM, pc: SimulatedPC, network: BootNetwork, wall: MonotonicClock) throws {
        let board = pc.board
        let start = board.clock.now
        let budget = UInt64(timeout * 1e9)
        let machine: UEFIMachine
        do { machine = try UEFIMachine(board: board) } catch { throw CLIError(description: "\(error)") }
        if !json {
            machine.onConsole = { text in FileHandle.standardOutput.write(Data(text.utf8)) }
        }
        func remaining() -> UInt64 { let used = board.clock.now &- start; return used < budget ? budget - used : 1 }
        let stop: MachineStop
        do {
            let pci = machine.addPCIDevice(slot: SimulatedPC.slot)
            let driver = try machine.loadOptionROMDriver(image, device: pci)
            try machine.start(image: driver)
            guard try machine.run(timeout: remaining()) == .returned, machine.lastExitStatus == 0 else {
                throw CLIError(description: "the ROM's EFI driver did not start (status \(machine.lastExitStatus.map { "0x" + String($0, radix: 16) } ?? "none"))")
            }
            try machine.connect(controller: pci)
            guard try machine.run(timeout: remaining()) == .returned, let device = machine.loadFileHandles.first else {
                throw CLIError(description: "the ROM's EFI driver did not bind to the \(pc.modelName) (no network boot handle)")
            }
            try machine.bootLoadFile(on: device)
            stop = try machine.run(until: until.map(machine.consoleShows) ?? { false }, timeout: remaining())
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError(description: "\(error)")
        }
        network.close()
        let fetched = TransferReport.finish(network.transfers)
        let report = ROMBootReport(
            model: model.rawValue, device: pc.modelName, mac: pc.mac.description, network: network.name,
            rom: rom ?? "", stop: "\(stop)", console: machine.console,
            files: fetched.files, failed: fetched.failed, tftpProbes: fetched.probes, transfersNotListed: fetched.notListed,
            frames: .init(tx: pc.port.counters.transmittedFrames, rx: pc.port.counters.deliveredFrames),
            instructions: machine.instructionsExecuted,
            virtualSeconds: Double(board.clock.now - start) / 1e9, wallSeconds: Double(wall.elapsed) / 1e9,
            host: network.hostLink.map(HostLinkReport.init))
        if json {
            emit(report.json())
        } else {
            if !machine.console.isEmpty, !machine.console.hasSuffix("\n") { emit("") }
            for line in report.summary() { emit(line) }
        }
        if let until, stop != .condition {
            throw CLIError(description: "the console never showed \"\(until)\" (stopped: \(stop))")
        }
    }
}
