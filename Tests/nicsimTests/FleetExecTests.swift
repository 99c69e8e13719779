import Fleet
import Foundation
import NICCore
import XCTest

/// `nicsim fleet --nbp exec`: every client runs Debian's pxelinux.0 on its
/// own x86 machine, entered by nicsim's PXE ROM, on the fleet's one clock.
final class FleetExecTests: XCTestCase {
    private var fixtureTree: String { HostTools.fixtures.path }
    /// What pxelinux fetches from the fixture tree after the ROM's pxelinux.0.
    static let pxelinuxFiles = ["pxelinux.0", "ldlinux.c32", "pxelinux.cfg/default", "vmlinuz", "initrd.img"]
    static let memory: UInt64 = 9 << 20

    private func mix(_ text: String) throws -> FleetModelMix {
        switch FleetModelMix.parse(text) {
        case .success(let m): return m
        case .failure(let e): throw e
        }
    }

    private func run(_ plan: FleetPlan, shard: FleetShard = .whole, latency: UInt64 = 0, loss: Double = 0,
                     until: String? = nil, timeLimit: UInt64? = nil, directory: String? = nil) throws -> FleetRun {
        let fleet = FleetRun(plan: plan, shard: shard, loadArea: 1 << 20)
        fleet.nbp = .exec(memory: Self.memory, until: until)
        fleet.latency = latency
        fleet.loss = loss
        if let timeLimit { fleet.timeLimit = timeLimit }
        try fleet.connect(.embedded(directory: directory ?? fixtureTree))
        fleet.run()
        return fleet
    }

    func testEveryClientRunsRealPxelinuxToItsKernel() throws {
        let plan = FleetPlan(clients: 6, seed: 4, mix: try mix("rtl8139:1,virtio-net:1,ne2000:1"), spread: 1 * VirtualClock.second)
        let fleet = try run(plan)
        let records = fleet.records
        XCTAssertEqual(records.map(\.index), Array(0..<6))
        for r in records {
            XCTAssertEqual(r.outcome, "ok", "\(r.index): \(r.detail ?? "")")
            // What the client received on its wire, file by file, in the
            // order pxelinux finished them: the NBP (the ROM's), then its own.
            XCTAssertEqual(r.files.map(\.name), Self.pxelinuxFiles, "client \(r.index)")
            for f in r.files {
                XCTAssertEqual(f.sha256, try sha256(fixtureTree + "/" + f.name), "client \(r.index) \(f.name)")
            }
            let lease = try XCTUnwrap(r.lease), nbp = try XCTUnwrap(r.nbp), k = try XCTUnwrap(r.kernel), i = try XCTUnwrap(r.initrd)
            XCTAssertLessThanOrEqual(lease, nbp)
            // pxelinux runs between the NBP and the kernel: it takes virtual time.
            XCTAssertLessThan(nbp, k)
            XCTAssertLessThan(k, i)
            XCTAssertEqual(r.ramBytes, Int(Self.memory))
        }
        XCTAssertEqual(Set(records.compactMap(\.ip)).count, 6)
        XCTAssertEqual(Set(records.map(\.model)), ["rtl8139", "virtio-net", "ne2000"])
        XCTAssertEqual(fleet.server?.counters.dhcpReplies, 12, "an offer and an ack per client")

        // Deterministic: the same seed gives the same records, bit for bit.
        XCTAssertEqual(try run(plan).records, records)
    }

    func testFourShardsOfAnExecFleetMergeToTheWhole() throws {
        // Started within 0.2 s: the clients' machines run at the same
        // time, interleaved slice by slice, with latency on the wires.
        let plan = FleetPlan(clients: 8, seed: 12, mix: try mix("rtl8139:1,virtio-net:1"), spread: 200 * VirtualClock.millisecond)
        let latency = 100 * VirtualClock.microsecond
        let whole = try run(plan, latency: latency).records
        XCTAssertEqual(whole.filter(\.succeeded).count, 8, whole.compactMap(\.detail).joined(separator: "\n"))
        var parts: [[FleetClientRecord]] = []
        for i in 0..<4 {
            parts.append(try run(plan, shard: FleetShard(index: i, count: 4)!, latency: latency).records)
        }
        XCTAssertEqual(try FleetReportFile.merge(parts), whole)
    }

    func testUntilEndsEachBootAtItsConsoleText() throws {
        // The test kernel prints this once pxelinux has started it.
        let plan = FleetPlan(clients: 2, seed: 6, mix: try mix("ne2000"), spread: 0)
        let records = try run(plan, until: "nicsim test kernel").records
        XCTAssertEqual(records.map(\.outcome), ["ok", "ok"], records.compactMap(\.detail).joined(separator: "\n"))
        XCTAssertTrue(records.allSatisfy { $0.kernel != nil })
    }

    func testAClientWhoseNBPNeverStartsASystemIsCutOffWithItsConsole() throws {
        // pxelinux finds no kernel: it reports it and waits at its prompt.
        let tree = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-fleet-exec-nokernel-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("pxelinux.cfg"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tree) }
        for f in ["pxelinux.0", "ldlinux.c32", "pxelinux.cfg/default"] {
            try FileManager.default.copyItem(atPath: fixtureTree + "/" + f, toPath: tree.appendingPathComponent(f).path)
        }
        let plan = FleetPlan(clients: 1, seed: 2, mix: try mix("rtl8139"), spread: 0)
        let r = try XCTUnwrap(try run(plan, timeLimit: 3 * VirtualClock.second, directory: tree.path).records.first)
        XCTAssertEqual(r.failure, "timeout")
        XCTAssertTrue(r.detail?.contains("console:") ?? false, r.detail ?? "")
        XCTAssertNil(r.kernel)
        XCTAssertNotNil(r.nbp)
    }

    func testFleetCommandRunsExecClients() throws {
        let r = try NicsimProcess.run(["fleet", "--clients", "3", "--nbp", "exec", "--start-spread", "1", "--dir", fixtureTree,
                                       "--json", "--no-progress"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4)
        let records = try FleetReportFile.records(in: lines.dropLast().joined(separator: "\n"))
        XCTAssertEqual(records.filter(\.succeeded).count, 3)
        // The default RAM: 1 MiB, twice the two largest files, 6 MiB for
        // pxelinux, 1 MiB for the driver's rings, in whole MiB.
        XCTAssertTrue(records.allSatisfy { $0.ramBytes == 9 << 20 }, "\(records.map(\.ramBytes))")
        for args in [["--memory", "8"], ["--until", "x"], ["--nbp", "exec", "--memory", "2"], ["--nbp", "exec", "--until", ""]] {
            let bad = try NicsimProcess.run(["fleet"] + args, timeout: 30)
            XCTAssertEqual(bad.status, 2, "\(args): \(bad.stderr)")
            XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, "\(args): \(bad.stderr)")
        }
    }
}
