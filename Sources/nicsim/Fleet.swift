import ArgumentParser
import Bridge
import Fleet
import Foundation
import NICCore
import NICSim
#if canImport(Glibc)
import Glibc
#endif

/// `nicsim fleet`: many simulated PCs PXE-boot at once on one virtual
/// switch, against the embedded server or a real one, and the boot times
/// are measured (Fleet target; docs/FLEET.md). `nicsim fleet merge`
/// combines the JSON of shards run apart.
struct FleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Boot many simulated clients at once and measure the server (see docs/FLEET.md).",
        subcommands: [FleetBoot.self, FleetMerge.self],
        defaultSubcommand: FleetBoot.self
    )
}

/// The NBP a fleet client runs.
enum FleetNBP: String, ExpressibleByArgument, CaseIterable {
    case builtin, exec
}

struct FleetBoot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Boot a fleet (the default subcommand of `nicsim fleet`)."
    )

    @Option(help: "How many clients (1...\(FleetPlan.maximumClients)).")
    var clients: Int = 10

    @Option(help: "Their card, or a weighted mix: rtl8139:50,virtio-net:30,ne2000:20.")
    var model: String = "rtl8139"

    @Option(name: .customLong("mac-base"), help: "MAC of client 0; client i has this + i (default 52:54:00:xx:00:00, xx from the seed).")
    var macBase: String?

    @Option(help: "Seed: MACs, UUIDs, models of a mix, start times, the switch and the embedded server.")
    var seed: UInt64 = 1

    @Option(name: .customLong("start-spread"), help: "Clients power on at seeded times within this many seconds.")
    var startSpread: Double = 10

    @Option(help: "TFTP root: the embedded server's, and (with --bridge/--tap) where RAM sizes come from (default: fixtures/tftpboot or the installed tree).")
    var dir: String?

    @Option(help: "Join this host interface through libpcap, promiscuous (e.g. a veth to a DHCP/TFTP server).")
    var bridge: String?

    @Option(help: "Join the host through this TAP device (created if missing).")
    var tap: String?

    @Option(help: "With --tap: make the TAP a port of this Linux bridge.")
    var attach: String?

    @Option(help: "The NBP: builtin (nicsim's pxelinux in Swift) or exec (the real NBP, on an x86 machine per client).")
    var nbp: FleetNBP = .builtin

    @Option(help: "With --nbp exec: MiB of RAM per client (default: what the NBP, the kernel and initrds of --dir need).")
    var memory: Int?

    @Option(help: "With --nbp exec: a client has booted when its console shows this text (default: when the NBP unloads the PXE stack to start a Linux kernel it loaded).")
    var until: String?

    @Option(help: "With --nbp exec: each client's CPU speed in million instructions per second (default 100; with --bridge/--tap \(FleetBoot.liveMIPS), which the host can emulate for several clients at once in real time).")
    var mips: Int?

    @Option(help: "Simulate shard I of N (I from 0): clients I*C/N ..< (I+1)*C/N. Default: from JOB_COMPLETION_INDEX and --shards.")
    var shard: String?

    @Option(help: "Shard count for JOB_COMPLETION_INDEX (a Kubernetes Indexed Job); also NICSIM_FLEET_SHARDS.")
    var shards: Int?

    @Option(name: .customLong("load-kib"), help: "KiB of RAM per client for the kernel and initrds (default: the two largest files of --dir, else 65536).")
    var loadKiB: Int?

    @Option(name: .customLong("time-limit"), help: "The run ends at --start-spread plus this many virtual seconds; clients still booting then fail with timeout.")
    var timeLimit: Double = 600

    @Option(name: .customLong("max-lag"), help: "With --bridge/--tap: seconds virtual time may fall behind the wall clock before timings are withheld.")
    var maxLag: Double = 0.25

    @Option(help: "One-way latency of each switch port in milliseconds (client to server and back: twice this).")
    var latency: Double = 0

    @Option(help: "Probability (0...1) that a frame to a client is lost on its wire.")
    var loss: Double = 0

    @Option(help: "Write every frame crossing the switch to this pcapng file.")
    var capture: String?

    @Flag(help: "One JSON line per client, then a summary object.")
    var json = false

    @Flag(name: .customLong("no-progress"), help: "No live progress line on stderr.")
    var noProgress = false

    func validate() throws {
        guard (1...FleetPlan.maximumClients).contains(clients) else { throw ValidationError("--clients must be 1...\(FleetPlan.maximumClients)") }
        if case .failure(let e) = FleetModelMix.parse(model) { throw ValidationError(e.description) }
        if let macBase, MACAddress(macBase) == nil { throw ValidationError("--mac-base must look like 52:54:00:00:00:00") }
        guard startSpread >= 0, startSpread <= 3600 else { throw ValidationError("--start-spread must be 0...3600 seconds") }
        guard timeLimit > 0, timeLimit <= 86400 else { throw ValidationError("--time-limit must be 0...86400 seconds") }
        guard maxLag > 0, maxLag <= 60 else { throw ValidationError("--max-lag must be 0...60 seconds") }
        if bridge != nil && tap != nil { throw ValidationError("--bridge and --tap can't be used together") }
        if attach != nil && tap == nil { throw ValidationError("--attach needs --tap") }
        if let shard, FleetShard(shard) == nil { throw ValidationError("--shard must be I/N with 0 <= I < N <= 65536, e.g. 0/4") }
        if let shards, !(1...65536).contains(shards) { throw ValidationError("--shards must be 1...65536") }
        guard latency >= 0, latency <= 10_000 else { throw ValidationError("--latency must be 0...10000 ms") }
        guard (0...1).contains(loss) else { throw ValidationError("--loss is a probability 0...1") }
        if let loadKiB, !(4...(1 << 22)).contains(loadKiB) { throw ValidationError("--load-kib must be 4...4194304") }
        if let memory, !(4...4096).contains(memory) { throw ValidationError("--memory must be 4...4096 MiB") }
        if nbp != .exec, memory != nil { throw ValidationError("--memory needs --nbp exec (builtin clients take --load-kib)") }
        if nbp != .exec, until != nil { throw ValidationError("--until needs --nbp exec") }
        if nbp != .exec, mips != nil { throw ValidationError("--mips needs --nbp exec") }
        if let mips, !(1...1000).contains(mips) { throw ValidationError("--mips must be 1...1000") }
        if let until, until.isEmpty { throw ValidationError("--until needs some text") }
    }

    /// --shard, else JOB_COMPLETION_INDEX with --shards or NICSIM_FLEET_SHARDS, else the whole fleet.
    func resolveShard() throws(NICSimError) -> FleetShard {
        if let shard, let s = FleetShard(shard) { return s }
        let env = ProcessInfo.processInfo.environment
        guard let indexText = env["JOB_COMPLETION_INDEX"] else { return .whole }
        guard let count = shards ?? env["NICSIM_FLEET_SHARDS"].flatMap({ Int($0) }) else {
            throw NICSimError(description: "JOB_COMPLETION_INDEX is set but no shard count: give --shards N or NICSIM_FLEET_SHARDS")
        }
        guard let index = Int(indexText), let s = FleetShard(index: index, count: count) else {
            throw NICSimError(description: "JOB_COMPLETION_INDEX=\(indexText) is not a shard of \(count)")
        }
        return s
    }

    /// Bytes each client needs for its kernel and initrds: the two largest
    /// files under `dir` (4 KiB aligned each, as pxelinux places them).
    static func loadArea(for dir: String) -> UInt64? {
        guard let walker = FileManager.default.enumerator(atPath: dir) else { return nil }
        var sizes: [UInt64] = []
        while let name = walker.nextObject() as? String {
            let path = dir + "/" + name
            if let a = try? FileManager.default.attributesOfItem(atPath: path), (a[.type] as? FileAttributeType) == .typeRegular,
               let n = a[.size] as? NSNumber {
                sizes.append((n.uint64Value + 0xFFF) & ~0xFFF)
            }
            if sizes.count > 100_000 { break }
        }
        let top = sizes.sorted(by: >).prefix(2)
        return top.isEmpty ? nil : top.reduce(0, +) + 0x1000
    }

    /// Exec clients' CPU speed with a live link: one core of the
    /// development machine emulates about 35 million of pxelinux's
    /// instructions a second, so at 10 MIPS it keeps three clients' CPUs
    /// in real time (their busy moments seldom coincide, so more boot).
    static let liveMIPS = 10

    /// RAM for an exec client: the first MiB, room for pxelinux to hold the
    /// kernel and initrds twice (it reads them into its heap, then moves
    /// them into place), its own heap and modules, and the driver's MiB.
    static func execMemory(loadArea: UInt64) -> UInt64 {
        let bytes = (1 << 20) + 2 * loadArea + (6 << 20) + (1 << 20)
        return (bytes + 0xFFFFF) & ~0xFFFFF
    }

    func run() throws {
        let wall = WallTime()
        // Guest RAM (a few MiB per client) comes and goes with each client:
        // always mmap it, so a finished client's RAM goes back to the system.
        // glibc otherwise raises its mmap threshold after the first free and
        // keeps freed RAM in per-thread arenas (4x the peak in a 1000-client run).
        _ = glibcMallopt(glibcMmapThreshold, 256 << 10)
        guard case .success(let mix) = FleetModelMix.parse(model) else { return }
        let shard = try resolveShard()
        var plan = FleetPlan(clients: clients, seed: seed, mix: mix, macBase: macBase.flatMap(MACAddress.init),
                             spread: UInt64(startSpread * 1e9))
        guard plan.macRangeFits else { throw NICSimError(description: "--mac-base \(plan.macBase) + \(clients) clients leaves its OUI; choose a lower base") }
        plan.spread = UInt64(startSpread * 1e9)
        let live = bridge != nil || tap != nil
        let directory = dir ?? (live ? nil : DefaultTFTPTree.resolve())
        let area: UInt64
        if let loadKiB {
            area = UInt64(loadKiB) << 10
        } else if let directory, let a = Self.loadArea(for: directory) {
            area = a
        } else {
            area = 64 << 20
        }
        let fleet = FleetRun(plan: plan, shard: shard, loadArea: area)
        if nbp == .exec {
            let speed = mips ?? (live ? Self.liveMIPS : 100)
            fleet.nbp = .exec(FleetExecOptions(memory: memory.map { UInt64($0) << 20 } ?? Self.execMemory(loadArea: area),
                                               until: until, mips: UInt64(speed)))
        }
        fleet.timeLimit = UInt64(timeLimit * 1e9)
        fleet.latency = UInt64(latency * 1e6)
        fleet.loss = loss
        if let bridge {
            do {
                let link = try LiveCapture(interface: bridge, macAddress: plan.macBase, port: fleet.fabric.addBackendPort().port,
                                           promiscuous: true, completeChecksums: true)
                try fleet.connect(.live(link))
            } catch let e as FleetError { throw NICSimError(description: e.description) } catch { throw NICSimError(description: "\(error)") }
        } else if let tap {
            do {
                let link = try TapDevice(name: tap, port: fleet.fabric.addBackendPort().port, attach: attach, completeChecksums: true)
                try fleet.connect(.live(link))
            } catch let e as FleetError { throw NICSimError(description: e.description) } catch { throw NICSimError(description: "\(error)") }
        } else if let directory {
            do throws(FleetError) { try fleet.connect(.embedded(directory: directory)) } catch {
                throw NICSimError(description: "\(error.description); run from the nicsim checkout, install with make install, or give --dir")
            }
        }
        if let capture {
            do throws(FleetError) { try fleet.capture(to: capture) } catch { throw NICSimError(description: error.description) }
        }
        let showProgress = !noProgress && isatty(2) != 0
        var lastShown: UInt64 = 0
        if showProgress {
            fleet.onProgress = { p in
                let now = wall.elapsed
                guard now - lastShown > 200_000_000 || p.loaded + p.failed == p.total else { return }
                lastShown = now
                var err = StandardError()
                print("\r\(p.total) clients: \(p.leased) leased, \(p.loaded) loaded, \(p.failed) failed ", terminator: "", to: &err)
            }
        }
        fleet.run()
        if showProgress {
            var err = StandardError()
            print("", to: &err)
        }
        let lagSeconds = live ? Double(fleet.lag) / 1e9 : nil
        let withheld = (lagSeconds ?? 0) > maxLag
        let summary = FleetSummary(records: fleet.records, lagSeconds: lagSeconds, withheld: withheld)
        let seconds = Double(wall.elapsed) / 1e9
        if json {
            for r in fleet.records { fleetPrint(JSONLine.encode(withheld ? r.withoutTimings : r)) }
            fleetPrint(JSONLine.encode(summary))
        } else {
            let network = bridge.map { "host interface \($0)" } ?? tap.map { "TAP \($0)" } ?? "embedded server 10.0.0.1"
            let title = shard == .whole ? "fleet on \(network)" : "fleet shard \(shard) on \(network)"
            for line in summary.lines(title: title) { fleetPrint(line) }
            fleetPrint(String(format: "wall time %.2f s", seconds))
        }
        if withheld {
            // %g: a lag or limit below a millisecond shows as itself, not as 0.000.
            throw NICSimError(description: String(format: "the simulation fell %.3g s behind real time (limit %g s): timings withheld", lagSeconds ?? 0, maxLag))
        }
        if summary.failed > 0 {
            throw NICSimError(description: "\(summary.failed) of \(summary.clients) clients failed to boot")
        }
    }
}

struct FleetMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the --json output of fleet shards into one report."
    )

    @Argument(help: "The shards' --json outputs.")
    var files: [String]

    @Flag(help: "Print every client record and the summary as JSON lines.")
    var json = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give the shards' JSON files") }
    }

    func run() throws {
        var sets: [[FleetClientRecord]] = []
        var lag: Double?
        var withheld = false
        for path in files {
            guard let data = FileManager.default.contents(atPath: path) else { throw NICSimError(description: "can't read \(path)") }
            let text = String(decoding: data, as: UTF8.self)
            do throws(FleetError) { sets.append(try FleetReportFile.records(in: text)) } catch {
                throw NICSimError(description: "\(path): \(error.description)")
            }
            for line in text.split(separator: "\n") where line.contains("\"summary\":true") {
                if let s = try? JSONDecoder().decode(FleetSummary.self, from: Data(line.utf8)) {
                    if let l = s.lagSeconds { lag = max(lag ?? 0, l) }
                    withheld = withheld || s.timingsWithheld
                }
            }
        }
        let merged: [FleetClientRecord]
        do throws(FleetError) { merged = try FleetReportFile.merge(sets) } catch { throw NICSimError(description: error.description) }
        let summary = FleetSummary(records: merged, lagSeconds: lag, withheld: withheld)
        if json {
            for r in merged { fleetPrint(JSONLine.encode(r)) }
            fleetPrint(JSONLine.encode(summary))
        } else {
            for line in summary.lines(title: "merged \(files.count) shards") { fleetPrint(line) }
        }
    }
}

extension FleetClientRecord {
    /// The record with its times removed (a run that fell behind real time).
    var withoutTimings: FleetClientRecord {
        var r = self
        r.lease = nil
        r.nbp = nil
        r.kernel = nil
        r.initrd = nil
        return r
    }
}

/// One line on stdout, written at once.
func fleetPrint(_ line: String) {
    var s = line + "\n"
    s.withUTF8 { p in _ = Glibc.write(1, p.baseAddress, p.count) }
}

/// CLOCK_MONOTONIC since creation, in ns.
final class WallTime {
    private let origin = WallTime.now()
    var elapsed: UInt64 { WallTime.now() &- origin }
    static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }
}

/// glibc's mallopt(3) (malloc.h is not in Swift's Glibc module) and its
/// M_MMAP_THRESHOLD parameter number.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
private let glibcMmapThreshold: Int32 = -3
