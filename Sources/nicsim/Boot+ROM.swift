import Board
import Foundation
import Machine
import NICCore
import NICSim
import OptionROM

/// `nicsim boot --rom FILE`: the chosen model's card, on `boot`'s network,
/// booted by a real option ROM image on the Machine (POST, then its BEV)
/// instead of nicsim's software ROM. The guest's console goes to standard
/// output as it prints; the summary (or one JSON object with the whole
/// console) follows.
extension Boot {
    func bootROM(_ image: ExpansionROM, pc: SimulatedPC, network: BootNetwork, wall: MonotonicClock) throws {
        let board = pc.board
        let start = board.clock.now
        let budget = UInt64(timeout * 1e9)
        let driver = pc.driver
        let run = try ROMBoot.run(image, on: board, slot: SimulatedPC.slot, until: until, timeout: budget, live: !json) { machine in
            // nicsim's own ROM image: its host calls reach the Swift UNDI and PXE API over the card's driver.
            try SoftwarePXEROM(machine: machine, driver: driver, at: SimulatedPC.slot)
        }
        network.close()
        let fetched = TransferReport.finish(network.transfers)
        let report = ROMBootReport(
            model: model.rawValue, device: pc.modelName, mac: pc.mac.description, network: network.name,
            rom: rom ?? "", stop: "\(run.stop)", console: run.console,
            files: fetched.files, failed: fetched.failed, tftpProbes: fetched.probes, transfersNotListed: fetched.notListed,
            frames: .init(tx: pc.port.counters.transmittedFrames, rx: pc.port.counters.deliveredFrames),
            instructions: run.machine.instructionsExecuted,
            virtualSeconds: Double(board.clock.now - start) / 1e9, wallSeconds: Double(wall.elapsed) / 1e9,
            host: network.hostLink.map(HostLinkReport.init))
        if json {
            emit(report.json())
        } else {
            if !run.console.isEmpty, !run.console.hasSuffix("\n") { emit("") }
            for line in report.summary() { emit(line) }
        }
        if let until, !run.shows(until) {
            throw CLIError(description: "the console never showed \"\(until)\" (stopped: \(run.stop))")
        }
    }
}
