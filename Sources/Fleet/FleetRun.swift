import Board
import BootServer
import Bridge
import Foundation
import NICCore
import PXE
import UNDI
import Wire

/// The far side of a fleet's switch.
public enum FleetPeer {
    /// nicsim's embedded DHCP + TFTP server at 10.0.0.1/16, serving `directory`.
    case embedded(directory: String)
    /// A live host link (a libpcap interface or a TAP) on a backend port
    /// the caller made with `FleetRun.fabric.addBackendPort()`.
    case live(HostLink)
}

/// The NBP each client of a fleet runs.
public enum FleetNBPMode: Sendable, Equatable {
    /// nicsim's pxelinux in Swift, over the client's PXE API.
    case builtin
    /// The real NBP, entered by nicsim's PXE ROM on the client's own x86
    /// machine.
    case exec(FleetExecOptions)
}

/// The machine of each exec client, and when its boot is done.
public struct FleetExecOptions: Sendable, Equatable {
    /// Guest RAM per client.
    public var memory: UInt64
    /// The client has booted when the machine's console shows this text;
    /// nil: when the NBP unloads the PXE stack to start the operating
    /// system it loaded (a Linux kernel among its files).
    public var until: String?
    /// The virtual speed of each client's CPU, in million instructions per
    /// virtual second. With a live link the host must emulate every
    /// client's CPU in real time: this bounds how many can run at once.
    public var mips: UInt64

    public init(memory: UInt64, until: String? = nil, mips: UInt64 = 100) {
        self.memory = memory
        self.until = until
        self.mips = max(mips, 1)
    }
}

/// Live progress: clients leased, loaded (kernel and initrds in memory), failed.
public struct FleetProgress: Sendable {
    public var total: Int
    public var leased = 0
    public var loaded = 0
    public var failed = 0
}

/// One fleet run: the shared clock and switch, the peer, every client of
/// the shard (and, with the embedded server and a shard, the rest of the
/// fleet as DHCP-only clients, so the server hands out the addresses it
/// would to the whole fleet), and the records they leave.
public final class FleetRun {
    public let plan: FleetPlan
    public let shard: FleetShard
    public let clock = VirtualClock()
    public let fabric: VirtualSwitch
    public private(set) var server: BootServer?
    /// Bytes of pxelinux load area each client's RAM has.
    public let loadArea: UInt64
    /// One-way latency of every switch port (ns): a frame between a client
    /// and the server takes this long each way. Set before `connect`.
    public var latency: UInt64 = 0
    /// Probability a frame to a client is lost on its wire (seeded per port).
    public var loss: Double = 0
    /// Virtual seconds a client may take before it is cut off.
    public var timeLimit: UInt64 = 600 * VirtualClock.second
    /// The NBP the clients run. Set before `run`.
    public var nbp = FleetNBPMode.builtin
    /// Called on the scheduler's thread as clients lease, load, fail.
    public var onProgress: ((FleetProgress) -> Void)?
    /// With a live peer: the most virtual time ever fell behind real time (ns).
    public private(set) var lag: UInt64 = 0
    public private(set) var progress: FleetProgress
    public private(set) var records: [FleetClientRecord] = []

    /// The SHA-256 of files in clients' RAM, computed off the simulation.
    let hashes = FleetHashes()
    private var live: HostLink?
    private let scheduler: FleetScheduler
    private var recorder: SwitchCapture?

    /// The embedded server's addresses.
    public static let serverMAC = MACAddress(0x02, 0x6E, 0x69, 0x63, 0x73, 0x01)
    public static let serverIP = IPv4Address(10, 0, 0, 1)

    public init(plan: FleetPlan, shard: FleetShard = .whole, loadArea: UInt64) {
        self.plan = plan
        self.shard = shard
        self.loadArea = loadArea
        // A port per client, kept for the whole run: ordinary frames and a
        // short delay line (the default's jumbo slots cost 2 MiB a port).
        fabric = VirtualSwitch(clock: clock, seed: plan.seed,
                               configuration: .init(maxFrameSize: 2048, delayLineCapacity: 64))
        scheduler = FleetScheduler(clock: clock)
        progress = FleetProgress(total: shard.range(of: plan.clients).count)
    }

    /// Puts `peer` on the switch. Throws one line for a user.
    public func connect(_ peer: FleetPeer) throws(FleetError) {
        switch peer {
        case .embedded(let directory):
            var config = BootServerConfiguration(mac: Self.serverMAC, ip: Self.serverIP, subnetMask: IPv4Address(255, 255, 0, 0),
                                                 pool: IPv4Address(10, 0, 0, 10)...IPv4Address(10, 0, 255, 250), tftpRoot: directory)
            config.router = Self.serverIP
            let s: BootServer
            do { s = try BootServer(configuration: config, clock: clock, seed: plan.seed) } catch {
                throw .invalid(error.description)
            }
            fabric.connect(device: s.port, faults: FaultProfile(delay: latency))
            server = s
        case .live(let link):
            live = link
        }
    }

    /// Writes every frame crossing the switch to a pcapng file.
    public func capture(to path: String) throws(FleetError) {
        do { recorder = try SwitchCapture(path: path, switch: fabric) } catch { throw .invalid("can't write \(path): \(error)") }
    }

    /// Runs the fleet to its end; `records` then holds the shard's clients in index order.
    public func run() {
        if case .exec = nbp {
            let tap = FleetTransferTap(clock: clock)
            tap.next = fabric.tap
            fabric.tap = tap
            transfers = tap
        }
        let range = shard.range(of: plan.clients)
        // With the embedded server every client of the fleet takes its lease,
        // so each shard's server sees the same DHCP traffic; only the shard's own boot on.
        let everyone = server != nil ? 0..<plan.clients : range
        var results: [Int: FleetClientRecord] = [:]
        for index in everyone {
            let identity = plan.identity(index)
            let full = range.contains(index)
            scheduler.add(start: identity.start) { [unowned self] slot in
                let client = FleetClient(identity: identity, run: self, dhcpOnly: !full)
                let record = client.boot(slot: slot, scheduler: self.scheduler)
                if full {
                    results[index] = record
                    if record.succeeded { self.progress.loaded += 1 } else { self.progress.failed += 1 }
                    self.onProgress?(self.progress)
                }
            }
        }
        if let live {
            let wall = WallClock()
            let origin = clock.now
            scheduler.poll = { live.poll() }
            scheduler.realTime = { origin &+ wall.elapsed }
        }
        scheduler.run(limit: clock.now &+ timeLimit &+ plan.spread)
        lag = scheduler.lag
        hashes.fill(&results)
        try? recorder?.close()
        records = range.compactMap { results[$0] }
    }

    func leased() {
        progress.leased += 1
        onProgress?(progress)
    }

    /// A new port on the switch for a client's card; returns its index.
    func plug(_ port: FramePort) -> Int {
        fabric.connect(device: port, faults: FaultProfile(lossRate: loss, delay: latency)).index
    }

    /// Exec clients' ports, whose TFTP transfers are followed on the wire
    /// (the real NBP's are not the ROM's to see); ahead of the capture.
    private(set) var transfers: FleetTransferTap?
}

/// CLOCK_MONOTONIC since creation, in ns.
final class WallClock {
    private let origin = WallClock.now()
    var elapsed: UInt64 { WallClock.now() &- origin }
    static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }
}
