import Fleet
import Foundation
import NICCore
import XCTest

/// `nicsim fleet`: client identities, percentiles, shards and merging, a
/// small fleet on the embedded server, and 200 clients against dnsmasq
/// in a network namespace over a default veth pair.
final class FleetTests: XCTestCase {
    private var fixtureTree: String { HostTools.fixtures.path }

    private func mix(_ text: String) throws -> FleetModelMix {
        switch FleetModelMix.parse(text) {
        case .success(let m): return m
        case .failure(let e): throw e
        }
    }

    // MARK: Identity

    func testIdentityIsAFunctionOfSeedAndIndexAlone() throws {
        let m = try mix("rtl8139:50,virtio-net:30,ne2000:20")
        let a = FleetPlan(clients: 1000, seed: 7, mix: m, spread: 10 * VirtualClock.second)
        let b = FleetPlan(clients: 10, seed: 7, mix: m, spread: 10 * VirtualClock.second)
        // Client 5 is the same whether the fleet has 10 clients or 1000.
        XCTAssertEqual(a.identity(5), b.identity(5))
        let c = FleetPlan(clients: 1000, seed: 8, mix: m, spread: 10 * VirtualClock.second)
        XCTAssertNotEqual(a.identity(5).uuid, c.identity(5).uuid)
        XCTAssertNotEqual(a.macBase, c.macBase)

        var macs = Set<UInt64>(), uuids = Set<[UInt8]>()
        var models: [String: Int] = [:]
        for i in 0..<1000 {
            let id = a.identity(i)
            XCTAssertEqual(id.index, i)
            XCTAssertEqual(id.mac.rawValue, a.macBase.rawValue + UInt64(i))
            XCTAssertLessThan(id.start, 10 * VirtualClock.second)
            XCTAssertEqual(id.uuid.count, 16)
            XCTAssertEqual(id.uuid[6] >> 4, 4, "a version 4 UUID")
            XCTAssertEqual(id.uuid[8] >> 6, 2, "RFC 4122 variant")
            macs.insert(id.mac.rawValue)
            uuids.insert(id.uuid)
            models[id.model, default: 0] += 1
        }
        XCTAssertEqual(macs.count, 1000)
        XCTAssertEqual(uuids.count, 1000)
        // Seeded draws near the weights (50/30/20 of 1000, within 6%).
        XCTAssertEqual(Double(models["rtl8139"] ?? 0), 500, accuracy: 60)
        XCTAssertEqual(Double(models["virtio-net"] ?? 0), 300, accuracy: 60)
        XCTAssertEqual(Double(models["ne2000"] ?? 0), 200, accuracy: 60)
        XCTAssertEqual(a.identity(3).uuidString.count, 36)

        let based = FleetPlan(clients: 4, seed: 1, mix: m, macBase: MACAddress("02:00:00:00:00:fe"), spread: 0)
        XCTAssertEqual(based.identity(3).mac.description, "02:00:00:00:01:01")
        XCTAssertEqual(based.identity(3).start, 0)
        XCTAssertFalse(FleetPlan(clients: 2, seed: 1, mix: m, macBase: MACAddress("02:00:00:ff:ff:ff"), spread: 0).macRangeFits)
    }

    func testModelMixRejectsUnknownCardsAndBadWeights() {
        for bad in ["", "rtl8139:", "rtl8139:0", "rtl8139:x", "e1000", "ne2000-isa", "rtl8139:1:2"] {
            if case .success = FleetModelMix.parse(bad) { XCTFail("\(bad) accepted") }
        }
        if case .failure(let e) = FleetModelMix.parse("virtio-net") { XCTFail("\(e)") }
    }

    func testShardsPartitionTheIndexRange() {
        XCTAssertNil(FleetShard("4/4"))
        XCTAssertNil(FleetShard("-1/4"))
        XCTAssertNil(FleetShard("1/0"))
        XCTAssertNil(FleetShard("x"))
        for (clients, count) in [(1000, 4), (10, 3), (3, 5), (1, 1)] {
            var covered: [Int] = []
            for i in 0..<count { covered += Array(FleetShard(index: i, count: count)!.range(of: clients)) }
            XCTAssertEqual(covered, Array(0..<clients))
        }
        XCTAssertEqual(FleetShard("1/4")?.range(of: 1000), 250..<500)
    }

    // MARK: Percentiles and merging

    func testPercentilesAreNearestRank() {
        let p = FleetPercentiles((1...100).map(Double.init).shuffled())
        XCTAssertEqual(p.p50, 50)
        XCTAssertEqual(p.p95, 95)
        XCTAssertEqual(p.p99, 99)
        XCTAssertEqual(p.max, 100)
        let one = FleetPercentiles([0.25])
        XCTAssertEqual(one.p50, 0.25)
        XCTAssertEqual(one.p99, 0.25)
        let ten = FleetPercentiles((1...10).map(Double.init))
        XCTAssertEqual(ten.p50, 5)
        XCTAssertEqual(ten.p95, 10)
        XCTAssertNil(FleetPercentiles([]).p50)
    }

    func testMergeRefusesOverlappingShards() throws {
        let line = #"{"index":3,"mac":"52:54:00:00:00:03","uuid":"","model":"rtl8139","start":0,"outcome":"ok","#
            + #""dhcpRetransmissions":0,"tftpRetransmissions":0,"files":[],"ramBytes":0}"#
        let r = try XCTUnwrap(try FleetReportFile.records(in: line).first)
        XCTAssertThrowsError(try FleetReportFile.merge([[r], [r]]))
        XCTAssertEqual(try FleetReportFile.merge([[r], []]), [r])
        XCTAssertThrowsError(try FleetReportFile.records(in: "{\"index\":\"x\"}\n"))
    }

    // MARK: Fleets on the embedded server

    private func run(_ plan: FleetPlan, shard: FleetShard = .whole, latency: UInt64 = 0, loss: Double = 0,
                     directory: String? = nil) throws -> FleetRun {
        let fleet = FleetRun(plan: plan, shard: shard, loadArea: 1 << 20)
        fleet.latency = latency
        fleet.loss = loss
        try fleet.connect(.embedded(directory: directory ?? fixtureTree))
        fleet.run()
        return fleet
    }

    func testTwentyClientsBootOnTheEmbeddedServer() throws {
        let plan = FleetPlan(clients: 20, seed: 3, mix: try mix("rtl8139:2,virtio-net:1,ne2000:1"), spread: 2 * VirtualClock.second)
        let fleet = try run(plan)
        let records = fleet.records
        XCTAssertEqual(records.count, 20)
        XCTAssertEqual(records.map(\.index), Array(0..<20))
        let kernel = try sha256(fixtureTree + "/vmlinuz"), initrd = try sha256(fixtureTree + "/initrd.img")
        for r in records {
            XCTAssertEqual(r.outcome, "ok", "\(r.index): \(r.detail ?? "")")
            XCTAssertEqual(r.mac, plan.identity(r.index).mac.description)
            XCTAssertEqual(r.files.first { $0.name == "vmlinuz" }?.sha256, kernel)
            XCTAssertEqual(r.files.first { $0.name == "initrd.img" }?.sha256, initrd)
            XCTAssertTrue(r.ip?.hasPrefix("10.0.") ?? false)
            let lease = try XCTUnwrap(r.lease), nbp = try XCTUnwrap(r.nbp), k = try XCTUnwrap(r.kernel), i = try XCTUnwrap(r.initrd)
            XCTAssertLessThanOrEqual(lease, nbp)
            XCTAssertLessThanOrEqual(nbp, k)
            XCTAssertLessThanOrEqual(k, i)
            // Guest RAM sized to the files: 1 MiB + load area + 1 MiB of rings, not 64 MiB.
            XCTAssertEqual(r.ramBytes, 3 << 20)
        }
        XCTAssertEqual(Set(records.compactMap(\.ip)).count, 20)
        XCTAssertEqual(Set(records.map(\.model)), ["rtl8139", "virtio-net", "ne2000"])
        let summary = FleetSummary(records: records)
        XCTAssertEqual(summary.succeeded, 20)
        XCTAssertEqual(summary.distinctAddresses, 20)
        XCTAssertEqual(summary.kernel?.count, 20)
        XCTAssertEqual(fleet.server?.counters.dhcpReplies, 40, "an offer and an ack per client")

        // Deterministic: the same seed gives the same records, bit for bit.
        XCTAssertEqual(try run(plan).records, records)
    }

    func testFourShardsMergeToTheUnshardedFleet() throws {
        // With latency and loss on the wires, so retransmissions and their
        // timers are part of what must come out the same.
        let plan = FleetPlan(clients: 40, seed: 11, mix: try mix("rtl8139:1,virtio-net:1"), spread: 1 * VirtualClock.second)
        let latency = 250 * VirtualClock.microsecond
        let whole = try run(plan, latency: latency, loss: 0.02).records
        XCTAssertGreaterThan(whole.reduce(0) { $0 + $1.tftpRetransmissions }, 0, "loss makes clients retransmit")
        var parts: [[FleetClientRecord]] = []
        for i in 0..<4 {
            let shard = FleetShard(index: i, count: 4)!
            let part = try run(plan, shard: shard, latency: latency, loss: 0.02).records
            XCTAssertEqual(part.map(\.index), Array(shard.range(of: 40)))
            parts.append(part)
        }
        let merged = try FleetReportFile.merge(parts.reversed())
        XCTAssertEqual(merged, whole)
        XCTAssertEqual(FleetSummary(records: merged), FleetSummary(records: whole))
        XCTAssertEqual(whole.filter(\.succeeded).count, 40)
    }

    func testFailuresAreCountedWithTheirReason() throws {
        // Every frame to the clients lost: four DISCOVERs each, no offer.
        let plan = FleetPlan(clients: 3, seed: 2, mix: try mix("ne2000"), spread: 0)
        let lost = try run(plan, loss: 1).records
        XCTAssertEqual(lost.map(\.failure), ["no offer", "no offer", "no offer"])
        XCTAssertEqual(lost.map(\.dhcpRetransmissions), [3, 3, 3])
        XCTAssertTrue(lost.allSatisfy { $0.lease == nil && $0.ip == nil })

        // A tree without the kernel: the lease and the NBP, then a TFTP error.
        let tree = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-fleet-nokernel-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("pxelinux.cfg"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tree) }
        for f in ["pxelinux.0", "pxelinux.cfg/default"] {
            try FileManager.default.copyItem(atPath: fixtureTree + "/" + f, toPath: tree.appendingPathComponent(f).path)
        }
        let missing = try run(plan, directory: tree.path).records
        for r in missing {
            XCTAssertEqual(r.failure, "TFTP error", r.detail ?? "")
            XCTAssertNotNil(r.nbp)
            XCTAssertNil(r.kernel)
        }
        // Cut off by the time limit in the middle of DHCP: a timeout, and
        // only the DISCOVERs sent before it counted.
        let fleet = FleetRun(plan: plan, loadArea: 1 << 20)
        fleet.loss = 1
        fleet.timeLimit = 10 * VirtualClock.second
        try fleet.connect(.embedded(directory: fixtureTree))
        fleet.run()
        XCTAssertEqual(fleet.records.map(\.failure), ["timeout", "timeout", "timeout"])
        XCTAssertEqual(fleet.records.map(\.dhcpRetransmissions), [1, 1, 1], "DISCOVERs at 0 and 4 s, cut off at 10 s")

        let summary = FleetSummary(records: lost + missing)
        XCTAssertEqual(summary.failures, ["no offer": 3, "TFTP error": 3])
        XCTAssertEqual(summary.failed, 6)
    }

    // MARK: The command line

    func testFleetCommandShardsAndMerge() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-fleet-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let common = ["fleet", "--clients", "12", "--seed", "5", "--start-spread", "1", "--dir", fixtureTree, "--json", "--no-progress"]
        let whole = try NicsimProcess.run(common, timeout: 120)
        XCTAssertEqual(whole.status, 0, whole.stderr)
        var files: [String] = []
        for i in 0..<3 {
            let r = try NicsimProcess.run(common + ["--shard", "\(i)/3"], timeout: 120)
            XCTAssertEqual(r.status, 0, r.stderr)
            let f = dir.appendingPathComponent("shard\(i).json").path
            try r.stdout.write(toFile: f, atomically: true, encoding: .utf8)
            files.append(f)
        }
        // A Kubernetes Indexed Job's pod: the shard from JOB_COMPLETION_INDEX.
        setenv("JOB_COMPLETION_INDEX", "1", 1)
        defer { unsetenv("JOB_COMPLETION_INDEX") }
        let pod = try NicsimProcess.run(common + ["--shards", "3"], timeout: 120)
        XCTAssertEqual(pod.status, 0, pod.stderr)
        XCTAssertEqual(pod.stdout, try String(contentsOfFile: files[1], encoding: .utf8))
        let noCount = try NicsimProcess.run(common, timeout: 60)
        XCTAssertEqual(noCount.status, 1)
        XCTAssertTrue(noCount.stderr.contains("no shard count"), noCount.stderr)
        unsetenv("JOB_COMPLETION_INDEX")

        let merged = try NicsimProcess.run(["fleet", "merge", "--json"] + files, timeout: 60)
        XCTAssertEqual(merged.status, 0, merged.stderr)
        XCTAssertEqual(merged.stdout, whole.stdout)
        let lines = whole.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 13)
        let summary = try JSONDecoder().decode(FleetSummary.self, from: Data(lines.last!.utf8))
        XCTAssertEqual(summary.succeeded, 12)

        let text = try NicsimProcess.run(["fleet", "merge"] + files, timeout: 60)
        XCTAssertTrue(text.stdout.contains("12 clients, 12 booted, 0 failed"), text.stdout)
        let overlap = try NicsimProcess.run(["fleet", "merge", files[0], files[0]], timeout: 60)
        XCTAssertEqual(overlap.status, 1)
        XCTAssertTrue(overlap.stderr.contains("appears in two inputs"), overlap.stderr)
    }

    func testFleetCaptureHoldsEveryClientsBoot() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-fleet-\(UUID().uuidString.prefix(8)).pcapng")
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try NicsimProcess.run(["fleet", "--clients", "4", "--start-spread", "1", "--dir", fixtureTree, "--capture", file.path,
                                       "--no-progress"], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("4 clients, 4 booted, 0 failed, 4 distinct addresses"), r.stdout)
        // tshark reads it: a DISCOVER from each client and its kernel, block by block.
        let discovers = try HostTools.run("/usr/bin/tshark", ["-r", file.path, "-Y", "dhcp.option.dhcp == 1", "-T", "fields", "-e", "eth.src"])
        XCTAssertEqual(discovers.status, 0, discovers.output)
        XCTAssertEqual(Set(discovers.output.split(separator: "\n").filter { $0.contains(":") }).count, 4, discovers.output)
        let rrq = try HostTools.run("/usr/bin/tshark", ["-r", file.path, "-Y", "tftp.source_file == \"vmlinuz\"", "-T", "fields", "-e", "eth.src"])
        XCTAssertEqual(Set(rrq.output.split(separator: "\n").filter { $0.contains(":") }).count, 4, rrq.output)
    }

    func testFleetCommandRejectsBadInputInOneLine() throws {
        for args in [["--clients", "0"], ["--shard", "4/4"], ["--model", "rtl8139:0"], ["--mac-base", "zz"], ["--nbp", "uefi"],
                     ["--start-spread", "-1"], ["--bridge", "a", "--tap", "b"]] {
            let r = try NicsimProcess.run(["fleet"] + args, timeout: 30)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("nicsim: error: "), r.stderr)
        }
        let missing = try NicsimProcess.run(["fleet", "--clients", "2", "--dir", "/nonexistent-tftp"], timeout: 30)
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
    }

    // MARK: 200 clients against dnsmasq

    func testTwoHundredClientsBootFromDnsmasqOverAVeth() throws {
        try HostTools.require(HostTools.dnsmasq, package: "dnsmasq")
        try HostTools.require(HostTools.pxelinux, package: "pxelinux")
        try HostTools.require(HostTools.ldlinux, package: "syslinux-common")
        let tree = FileManager.default.temporaryDirectory.appendingPathComponent("nsim-fleet-tree-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: tree) }
        let made = try HostTools.run("/bin/bash", [NetworkNamespaces.scripts.appendingPathComponent("make-tftpboot.sh").path, tree.path,
                                                   "131072", "65537"])
        XCTAssertEqual(made.status, 0, made.output)
        let ns = try NetworkNamespaces("fleet", prefix: "fleet")
        defer { ns.down() }
        _ = try ns.run(in: ns.server, [HostTools.ip, "addr", "replace", "192.168.77.1/24", "dev", "srv0"])
        // A pool for 200 and enough concurrent TFTP transfers; every lease
        // and transfer logged. --no-ping: dnsmasq's default ICMP check of
        // each new address paces its offers to about 4 clients a second,
        // so a 200-client stampede takes minutes and clients run out of
        // DHCP retries (what `nicsim fleet` measures; docs/FLEET.md).
        let d = try ns.start(in: ns.server, [HostTools.dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--port=0",
                                             "--interface=srv0", "--bind-interfaces", "--enable-tftp", "--tftp-root=\(tree.path)",
                                             "--tftp-max=1000", "--dhcp-lease-max=1000", "--log-dhcp", "--log-facility=-",
                                             "--dhcp-leasefile=/dev/null", "--pid-file=", "--no-ping",
                                             "--dhcp-range=192.168.77.10,192.168.77.250,255.255.255.0,1h", "--dhcp-boot=pxelinux.0"])
        defer { d.stop() }
        XCTAssertTrue(d.wait(for: "TFTP root is", timeout: 10), d.output)

        let started = Date()
        let r = try ns.run(in: ns.client, [NicsimProcess.binary.path, "fleet", "--clients", "200", "--model", "rtl8139:2,virtio-net:1,ne2000:1",
                                           "--bridge", "cli0", "--dir", tree.path, "--start-spread", "20",
                                           // What is checked here is what the clients leased and loaded, not
                                           // their timings: a debug build on a busy machine falls seconds
                                           // behind real time, so timings would be withheld (exit 1).
                                           "--max-lag", "60", "--json", "--no-progress"],
                           timeout: 300)
        let wall = Date().timeIntervalSince(started)
        XCTAssertEqual(r.status, 0, String(r.output.suffix(2000)))
        let lines = r.output.split(separator: "\n").filter { $0.hasPrefix("{") }.map(String.init)
        let records = try FleetReportFile.records(in: lines.joined(separator: "\n"))
        let summary = try JSONDecoder().decode(FleetSummary.self, from: Data((lines.last ?? "").utf8))
        XCTAssertEqual(records.count, 200)
        let kernel = try sha256(tree.path + "/vmlinuz"), initrd = try sha256(tree.path + "/initrd.img")
        for rec in records {
            XCTAssertEqual(rec.outcome, "ok", "\(rec.index): \(rec.detail ?? "")")
            XCTAssertEqual(rec.server, "192.168.77.1")
            XCTAssertEqual(rec.files.first { $0.name == "vmlinuz" }?.sha256, kernel, "client \(rec.index)")
            XCTAssertEqual(rec.files.first { $0.name == "initrd.img" }?.sha256, initrd, "client \(rec.index)")
        }
        let ips = Set(records.compactMap(\.ip))
        XCTAssertEqual(ips.count, 200, "every client a distinct address")
        XCTAssertTrue(ips.allSatisfy { $0.hasPrefix("192.168.77.") })
        XCTAssertEqual(summary.succeeded, 200)
        XCTAssertNotNil(summary.lagSeconds)

        // The report agrees with dnsmasq's log: one DHCPACK per client MAC
        // with the address the client reports, and the kernel and initrd
        // sent once per client.
        let log = d.output
        var acked: [String: String] = [:]
        for line in log.split(separator: "\n") where line.contains("DHCPACK(srv0)") {
            let f = line.split(separator: " ")
            if let i = f.firstIndex(where: { $0.hasPrefix("DHCPACK") }), i + 2 < f.count { acked[String(f[i + 2])] = String(f[i + 1]) }
        }
        XCTAssertEqual(acked.count, 200, String(log.suffix(2000)))
        for rec in records { XCTAssertEqual(acked[rec.mac], rec.ip, rec.mac) }
        XCTAssertEqual(log.components(separatedBy: "sent \(tree.path)/vmlinuz to").count - 1, 200)
        XCTAssertEqual(log.components(separatedBy: "sent \(tree.path)/initrd.img to").count - 1, 200)
        // A client that sent its read request again (a TFTP retransmission)
        // may have been sent the file twice.
        let nbpSent = log.components(separatedBy: "sent \(tree.path)/pxelinux.0 to").count - 1
        XCTAssertGreaterThanOrEqual(nbpSent, 200)
        XCTAssertLessThanOrEqual(nbpSent, 200 + summary.tftpRetransmissions)
        print("fleet of 200 against dnsmasq: \(String(format: "%.1f", wall)) s wall; \(summary.lines(title: "dnsmasq").joined(separator: "; "))")
    }
}
