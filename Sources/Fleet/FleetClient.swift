import Board
import NICCore
import PXE
import UNDI
import Wire

/// One client's boot, on its own thread under the fleet's scheduler: power
/// on at its start time, the PXE ROM (UNDI, DHCP, the NBP over TFTP to
/// 0000:7C00), then the built-in pxelinux (configuration, kernel, initrds
/// into its RAM). Every step is timed on the shared clock from power-on.
final class FleetClient {
    let identity: FleetClientIdentity
    unowned let run: FleetRun
    let dhcpOnly: Bool

    private var discovers = 0
    private var requests = 0
    var offers = 0
    var naks = 0
    var leaseAt: UInt64?
    /// Set once the fleet's time limit has cut the client off: what it
    /// does then (every wait failing at once) is not counted.
    private var cutOff: () -> Bool = { false }
    var completed: [String: UInt64] = [:]

    init(identity: FleetClientIdentity, run: FleetRun, dhcpOnly: Bool) {
        self.identity = identity
        self.run = run
        self.dhcpOnly = dhcpOnly
    }

    func boot(slot: FleetScheduler.Slot, scheduler: FleetScheduler) -> FleetClientRecord {
        let start = identity.start
        var record = FleetClientRecord(index: identity.index, mac: identity.mac.description, uuid: identity.uuidString, model: identity.model,
                                       start: Double(start) / 1e9, outcome: "failed", dhcpRetransmissions: 0, tftpRetransmissions: 0,
                                       files: [], ramBytes: 0)
        guard !slot.cancelled else {
            record.failure = "timeout"
            record.detail = "not powered on before the fleet's time limit"
            return record
        }
        var layout = FleetMachine.Layout.builtin(loadArea: run.loadArea)
        if case .exec(let options) = run.nbp, !dhcpOnly { layout = .exec(memory: options.memory) }
        guard let machine = FleetMachine(model: identity.model, mac: identity.mac, layout: layout, clock: run.clock) else {
            record.failure = "other"
            record.detail = "no PCI card \(identity.model)"
            return record
        }
        record.ramBytes = machine.ramBytes
        let board = machine.board
        scheduler.bind(board, to: slot)
        slot.port = machine.port
        defer {
            machine.port.setLink(up: false)
            scheduler.unbind(board)
            run.hashes.submit(toHash, client: identity.index, memory: board.memory)
        }
        if let card = machine.port.receiver {
            let index = slot.index
            let tap = FleetWakeTap(card: card, mac: identity.mac, clock: run.clock) { [unowned scheduler] in scheduler.wake(index) }
            taps.append(tap)
            machine.port.receiver = tap
        }
        let switchPort = run.plug(machine.port)
        cutOff = { [unowned slot] in slot.cancelled }

        if case .exec(let options) = run.nbp, !dhcpOnly {
            execute(machine: machine, slot: slot, switchPort: switchPort, options: options, into: &record)
        } else {
            let client: PXEClient
            do {
                client = try PXEClient(board: board, driver: machine.driver, identity: PXEClientIdentity(uuid: identity.uuid))
            } catch {
                record.failure = "other"
                record.detail = error.description
                return record
            }
            client.loader.loadAddress = machine.loadStart
            client.loader.loadLimit = machine.loadEnd
            client.onEvent = { [unowned self] event in self.note(event, at: board.clock.now) }
            // The client's own count, as it stood when it was cut off.
            let tftp = client.baseCode.tftp
            var atCutOff: Int?
            slot.onCancel = { [unowned tftp] in atCutOff = tftp.retransmissions }
            defer { slot.onCancel = nil }
            steps(client, board: board, machine: machine, slot: slot, into: &record)
            record.tftpRetransmissions = atCutOff ?? tftp.retransmissions
        }
        if slot.cancelled, !record.succeeded {
            record.failure = "timeout"
            record.detail = "cut off at the fleet's time limit" + (record.detail.map { " (\($0))" } ?? "")
        }
        // Counted after the steps, whichever way they ended.
        record.dhcpRetransmissions = max(0, discovers - 1) + max(0, requests - 1)
        return record
    }

    /// The ROM's and pxelinux's steps, each timed into `record`; returns at the first failure.
    private func steps(_ client: PXEClient, board: Board, machine: FleetMachine, slot: FleetScheduler.Slot,
                       into record: inout FleetClientRecord) {
        let start = identity.start
        func seconds(_ t: UInt64?) -> Double? { t.map { Double($0 &- start) / 1e9 } }
        // The ROM: UNDI bring-up and DHCP.
        let dhcp: DHCPResult
        do throws(PXEStatus) { dhcp = try client.baseCode.boot() } catch {
            record.failure = offers == 0 ? "no offer" : naks > 0 ? "NAK" : Self.reason(error)
            if error == .dhcpTimeout, offers > 0 { record.failure = "timeout" }
            record.detail = "DHCP: \(error)"
            return
        }
        record.ip = dhcp.ack.yourIP.description
        record.server = dhcp.tftpServer.description
        record.lease = seconds(leaseAt ?? board.clock.now)
        if dhcpOnly {
            // A whole client's next broadcast: the ARP for the TFTP server.
            _ = try? client.baseCode.ip.resolve(dhcp.tftpServer)
            record.outcome = "ok"
            return
        }
        run.leased()
        do throws(DMAError) { try client.api.storeCachedPackets() } catch {
            record.failure = "other"
            record.detail = "guest memory: \(error)"
            return
        }
        // The NBP to 0000:7C00, below the ROM's segments.
        let nbpSize: Int
        do throws(PXEStatus) {
            nbpSize = try client.baseCode.loadNBP(below: RealModeAddress(segment: client.api.layout.undiCodeSegment, offset: 0).linear)
        } catch {
            record.failure = Self.reason(error)
            record.detail = "TFTP \(dhcp.bootFile): \(error)"
            return
        }
        record.nbp = seconds(board.clock.now)
        record.files.append(file(dhcp.bootFile, at: PXEBaseCode.nbpAddress, size: nbpSize, position: record.files.count))

        // The built-in pxelinux: configuration, kernel, initrds.
        // While it waits (its PROMPT timeout) pxelinux's idle loop polls the
        // network, answering ARP for its address and dropping the rest, as
        // syslinux's does; the ring doesn't fill with the fleet's broadcasts.
        let ip = client.baseCode.ip
        slot.idle = { _ = ip.poll { _, _ in false } }
        defer { slot.idle = nil }
        let boot: PXELinuxBoot
        do throws(PXELinuxError) { boot = try client.loader.run() } catch {
            record.failure = Self.reason(error)
            record.detail = "pxelinux: \(error)"
            return
        }
        record.kernel = seconds(completed[boot.kernel.name] ?? board.clock.now)
        record.files.append(file(boot.kernel.name, at: boot.kernel.address, size: boot.kernel.size, position: record.files.count))
        for initrd in boot.initrds {
            record.files.append(file(initrd.name, at: initrd.address, size: initrd.size, position: record.files.count))
        }
        record.initrd = boot.initrds.isEmpty ? nil : seconds(boot.initrds.compactMap { completed[$0.name] }.max() ?? board.clock.now)
        record.outcome = "ok"
        return
    }

    var taps: [FleetWakeTap] = []
    /// Files in the client's RAM to hash once it has finished.
    private var toHash: [FleetHashes.Pending] = []

    /// A file's entry in the record; its SHA-256, of the bytes in the
    /// client's RAM, comes when the run is over (`FleetHashes`).
    private func file(_ name: String, at address: UInt64, size: Int, position: Int) -> FleetFile {
        toHash.append(FleetHashes.Pending(position: position, address: address, size: size))
        return FleetFile(name: name, size: size, sha256: "")
    }

    func note(_ event: PXEEvent, at now: UInt64) {
        guard !cutOff() else { return }
        switch event {
        case .dhcpDiscover: discovers += 1
        case .dhcpOffer: offers += 1
        case .dhcpRequest: requests += 1
        case .dhcpNak: naks += 1
        case .dhcpAck(let address):
            leaseAt = now
            for tap in taps { tap.ip = address.rawValue }
        case .tftpCompleted(let file, _): completed[file] = now
        default: break
        }
    }

    /// The failure's kind, from the PXE status the ROM or the NBP's call ended with.
    static func reason(_ status: PXEStatus) -> String {
        switch status {
        case .dhcpTimeout: "no offer"
        case .arpTimeout, .tftpCannotARPAddress, .tftpOpenTimeout, .tftpReadTimeout, .bootstrapNoResponse: "timeout"
        case .dhcpNoIPAddress: "NAK"
        default: (0x30...0x3F).contains(status.rawValue) ? "TFTP error" : "other"
        }
    }

    static func reason(_ error: PXELinuxError) -> String {
        switch error {
        case .api(_, let status): reason(status)
        case .noConfiguration: "no configuration"
        case .noBootEntry, .localBoot: "other"
        }
    }
}
