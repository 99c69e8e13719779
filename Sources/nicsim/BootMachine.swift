import ArgumentParser
import Board
import Bridge
import Foundation
import Machine
import NICCore
import NICSim
import PXE
import Wire

/// How `nicsim boot` runs the NBP.
enum NBPMode: String, ExpressibleByArgument, CaseIterable {
    /// On the x86 machine, entered by nicsim's PXE ROM.
    case exec
    /// As nicsim's Swift pxelinux, through the PXE API.
    case builtin
    /// exec when the boot file is x86 code, builtin otherwise.
    case auto

    /// True when `bytes` can be an x86 NBP: not empty and not text (an
    /// iPXE script, a configuration file or a placeholder is text).
    static func isX86Code(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 2 else { return false }
        if bytes[0] == 0x23, bytes[1] == 0x21 { return false }  // "#!"
        return bytes.prefix(512).contains { b in b < 0x09 || (b > 0x0D && b < 0x20) || b >= 0x7F }
    }
}

extension Boot {
    /// The PXE client the ROM handed over to the built-in pxelinux (auto
    /// mode, a boot file that is not x86 code).
    struct Handover {
        /// The machine stays with the client: its timers are on the board.
        let machine: Machine
        let client: PXEClient
        let dhcp: DHCPResult
    }

    /// Boots the PC through nicsim's PXE option ROM on the x86 machine:
    /// POST, BEV, DHCP and TFTP in the ROM, then the NBP runs on the CPU,
    /// its console printed live. Returns a handover when auto mode found
    /// the NBP is not x86 code; nil when the run is complete (reported).
    func runOnMachine(pc: SimulatedPC, identity: PXEClientIdentity, network: BootNetwork,
                      wall: MonotonicClock) throws -> Handover? {
        let board = pc.board
        let start = board.clock.now
        let machine: Machine
        let rom: SoftwarePXEROM
        do {
            machine = try Machine(board: board)
            machine.reservedRAM = [pc.dmaRegion]
            rom = try SoftwarePXEROM(machine: machine, driver: pc.driver, at: SimulatedPC.slot, identity: identity)
        } catch { throw CLIError(description: "\(error)") }
        TransferProgress.attach(to: rom.client, on: network.fabric, enabled: !json)
        let mode = nbp
        rom.shouldExecute = { _, bytes in mode == .exec || NBPMode.isX86Code(bytes) }
        if !json {
            machine.bios.onConsole = echoToStandardOutput
        }
        let stop: MachineStop
        do {
            stop = try rom.boot(until: until.map(machine.consoleShows) ?? { false }, timeout: UInt64(timeout * 1e9))
        } catch {
            throw CLIError(description: "\(error)")
        }
        guard let dhcp = rom.dhcp, rom.nbp != nil else {
            throw CLIError(description: rom.failure ?? "the PXE ROM did not boot (\(stop))")
        }
        if rom.handedOver {
            return Handover(machine: machine, client: rom.client, dhcp: dhcp)
        }
        // What the ROM and the NBP fetched, from the frames on the card's port.
        let fetched = TransferReport.finish(network.transfers)
        if !json, !machine.bios.console.hasSuffix("\n") { emit("") }
        let report = BootReport(
            model: model.rawValue, device: pc.modelName, mac: pc.mac.description, network: network.name,
            lease: BootReport.Lease(dhcp), nbp: "exec",
            files: fetched.files, failed: fetched.failed, tftpProbes: fetched.probes, transfersNotListed: fetched.notListed,
            frames: .init(tx: pc.port.counters.transmittedFrames, rx: pc.port.counters.deliveredFrames),
            virtualSeconds: Double(board.clock.now - start) / 1e9, wallSeconds: Double(wall.elapsed) / 1e9,
            stop: "\(stop)", console: machine.bios.console, host: network.hostLink.map(HostLinkReport.init))
        print(report)
        if let until, stop != .condition {
            throw CLIError(description: "the console never showed \"\(until)\" (the machine stopped: \(stop))")
        }
        return nil
    }
}
