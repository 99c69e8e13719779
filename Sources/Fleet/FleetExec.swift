import Board
import Bridge
import Machine
import NICCore
import PXE
import Wire

/// Follows the TFTP transfers of exec clients: what the real NBP fetched,
/// with the virtual time each transfer ended. The ROM's own transfers are
/// its events; the NBP's (pxelinux's TFTP over the PXE API's UDP calls,
/// say) are only seen on the wire: what the client sent, from its switch
/// port, and what it received, from its card (`FleetWakeTap`), only the
/// frames the card took, so an answer its full ring dropped is not seen
/// and the client's request for it again counts as a retransmission.
final class FleetTransferTap: SwitchTap {
    /// One client's port: its log, and when each of the log's records ended.
    final class Watch {
        let log: TFTPTransferLog
        private(set) var ended: [UInt64] = []

        init(station: MACAddress) {
            // A boot opens a few transfers at a time; 64 records are plenty
            // for pxelinux's configuration search and its files.
            log = TFTPTransferLog(station: station, maximumTransfers: 8, capacity: 64)
        }

        func observe(_ frame: UnsafeRawBufferPointer, at time: UInt64) {
            log.observe(frame)
            stampNewRecords(time)
        }

        /// Closes what is still open; returns the records with their end times.
        func finish(at time: UInt64) -> [(record: TFTPTransferRecord, ended: UInt64)] {
            log.finish()
            stampNewRecords(time)
            return Array(zip(log.records.entries, ended))
        }

        /// Records the log ended since the last look ended at `time`.
        private func stampNewRecords(_ time: UInt64) {
            while ended.count < log.records.entries.count { ended.append(time) }
        }
    }

    let clock: VirtualClock
    var next: SwitchTap?
    /// By switch port index; nil for ports nobody follows.
    private var watches: [Watch?] = []

    init(clock: VirtualClock) {
        self.clock = clock
    }

    /// Starts following port `index` for the station `mac`.
    func watch(port index: Int, station mac: MACAddress) -> Watch {
        while watches.count <= index { watches.append(nil) }
        let w = Watch(station: mac)
        watches[index] = w
        return w
    }

    func unwatch(port index: Int) {
        if index < watches.count { watches[index] = nil }
    }

    func switchPort(_ index: Int, saw frame: UnsafeRawBufferPointer, direction: TraceDirection, at time: UInt64) {
        if direction == .inbound, index < watches.count, let w = watches[index] { w.observe(frame, at: time) }
        next?.switchPort(index, saw: frame, direction: direction, at: time)
    }

    func switchPort(_ index: Int, droppedBadFCS frame: UnsafeRawBufferPointer, at time: UInt64) {
        next?.switchPort(index, droppedBadFCS: frame, at: time)
    }
}

extension FleetClient {
    /// Characters of console an exec client keeps (for its failure's detail).
    static let execConsoleLimit = 16 << 10
    /// Instructions per CPU slice (100 us of virtual time at 100 MIPS, 1 ms at
    /// 10): clients whose
    /// machines run at the same time take turns a slice at a time, and a
    /// turn costs a thread switch. 40 clients started within 0.2 s boot
    /// in 36 s of wall time at this length, 56 s at the Machine's default
    /// of 1,000 (release build); a slice only bounds how late a timer
    /// interrupt is taken, not how time is counted.
    static let execSlice: UInt64 = 10_000

    /// An exec client's boot: nicsim's PXE ROM on the client's x86 machine
    /// (POST, UNDI, DHCP, the NBP over TFTP to 0000:7C00), then the real
    /// NBP on the CPU until it unloads the PXE stack to start the system it
    /// loaded, or its console shows `until`. Its files and their times come
    /// from its port; the kernel is the last file that carries the Linux
    /// boot header, the initrds the files that came after it. Returns the
    /// ROM (for its TFTP counters), nil when the machine could not be built.
    func execute(machine fleetMachine: FleetMachine, slot: FleetScheduler.Slot, switchPort: Int, options: FleetExecOptions,
                 into record: inout FleetClientRecord) {
        let until = options.until
        let board = fleetMachine.board
        let start = identity.start
        func seconds(_ t: UInt64?) -> Double? { t.map { Double($0 &- start) / 1e9 } }
        let machine: Machine
        let rom: SoftwarePXEROM
        do {
            machine = try Machine(board: board)
            machine.reservedRAM = [fleetMachine.dmaRegion]
            machine.bios.consoleLimit = Self.execConsoleLimit
            machine.nanosecondsPerInstruction = max(1000 / options.mips, 1)
            machine.instructionsPerSlice = Self.execSlice
            rom = try SoftwarePXEROM(machine: machine, driver: fleetMachine.driver, at: FleetMachine.slot,
                                     identity: PXEClientIdentity(uuid: identity.uuid))
        } catch {
            record.failure = "other"
            record.detail = "the x86 machine: \(error)"
            return
        }
        guard let transfers = run.transfers else { return }
        let watch = transfers.watch(port: switchPort, station: identity.mac)
        for tap in taps { tap.watch = watch }
        defer {
            transfers.unwatch(port: switchPort)
            for tap in taps { tap.watch = nil }
        }
        var leased = false
        rom.client.onEvent = { [unowned self, unowned run] event in
            self.note(event, at: board.clock.now)
            if case .dhcpAck = event, !leased, !slot.cancelled {
                leased = true
                run.leased()
            }
        }
        // Counted on the wire, as they stood when the client was cut off.
        var atCutOff: Int?
        slot.onCancel = { atCutOff = watch.log.clientRetransmissions }
        defer { slot.onCancel = nil }

        let baseCode = rom.client.baseCode
        let unloaded = { baseCode.state == .unloaded }
        let shows = until.map { machine.consoleShows($0) }
        let stop: MachineStop
        do {
            stop = try rom.boot(until: { slot.cancelled || unloaded() || shows?() == true }, timeout: run.timeLimit &+ run.plan.spread)
        } catch {
            record.failure = "other"
            record.detail = "the NBP: \(error)"
            return
        }
        let transfersSeen = watch.finish(at: board.clock.now)
        record.tftpRetransmissions = atCutOff ?? watch.log.clientRetransmissions

        // What the ROM did: DHCP, then the NBP.
        if let dhcp = rom.dhcp {
            record.ip = dhcp.ack.yourIP.description
            record.server = dhcp.tftpServer.description
            record.lease = seconds(leaseAt)
        }
        if let nbp = rom.nbp {
            record.nbp = seconds(completed[nbp.name] ?? board.clock.now)
        }
        let files = transfersSeen.filter { $0.record.isCompleted }
        record.files = files.map { FleetFile(name: $0.record.file, size: $0.record.size, sha256: $0.record.sha256 ?? "") }
        let kernelAt = files.lastIndex { $0.record.linuxKernel }
        if let kernelAt {
            record.kernel = seconds(files[kernelAt].ended)
            let initrds = files[(kernelAt + 1)...]
            record.initrd = initrds.isEmpty ? nil : seconds(initrds.map(\.ended).max())
        }

        let consoleTail = Self.lastLine(of: machine.bios.console)
        if rom.dhcp == nil {
            record.failure = offers == 0 ? "no offer" : naks > 0 ? "NAK" : "timeout"
            record.detail = rom.failure ?? "DHCP did not finish (\(stop))"
        } else if rom.nbp == nil {
            let nbpTransfer = transfersSeen.first { $0.record.file == rom.dhcp?.bootFile }
            record.failure = nbpTransfer?.record.errorCode != nil ? "TFTP error" : "timeout"
            record.detail = rom.failure ?? nbpTransfer?.record.failure ?? "no NBP (\(stop))"
        } else if stop == .condition, shows?() == true {
            record.outcome = "ok"
        } else if stop == .condition, unloaded() {
            if kernelAt != nil {
                record.outcome = "ok"
            } else {
                record.failure = "other"
                record.detail = "the NBP unloaded the PXE stack without having loaded a Linux kernel; console: \(consoleTail)"
            }
        } else if slot.cancelled {
            record.failure = "timeout"
            record.detail = "the NBP had not started a system; console: \(consoleTail)"
        } else {
            record.failure = "other"
            record.detail = "the machine stopped (\(stop)) before the NBP started a system; console: \(consoleTail)"
        }
    }

    /// The console's last non-empty line, at most 200 characters.
    static func lastLine(of console: String) -> String {
        let line = console.split(separator: "\n").last.map(String.init) ?? ""
        return String(line.suffix(200))
    }
}
