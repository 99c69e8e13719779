import ArgumentParser
import Foundation
import Machine

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
