import Foundation
import XCTest

/// What `nicsim boot --json` prints, as the tests read it.
struct BootJSON: Decodable {
    struct Lease: Decodable { var ip: String; var server: String; var bootfile: String; var proxy: Bool }
    struct File: Decodable { var name: String; var size: Int; var sha256: String; var server: String? }
    struct Failure: Decodable { var name: String; var server: String; var size: Int; var code: Int?; var error: String }
    struct Frames: Decodable { var tx: Int; var rx: Int }
    var model: String
    var mac: String
    var lease: Lease
    var files: [File]
    var failed: [Failure]?
    var frames: Frames
    /// "exec" or "builtin"; with exec, why the machine stopped and its console.
    var nbp: String?
    var stop: String?
    var console: String?

    static func parse(_ run: NicsimRun, file: StaticString = #filePath, line: UInt = #line) throws -> BootJSON {
        XCTAssertEqual(run.status, 0, "nicsim failed: \(run.stderr)", file: file, line: line)
        return try JSONDecoder().decode(BootJSON.self, from: Data(run.stdout.utf8))
    }

    /// Every file's hash and size equal the file's own in `root`, and the
    /// boot fetched the NBP, a config, a kernel and an initrd (and with
    /// pxelinux.0 run on the machine, its ldlinux.c32 after the NBP).
    func assertMatches(root: URL, names: [String] = ["pxelinux.0", "pxelinux.cfg/default", "vmlinuz", "initrd.img"],
                       file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(files.map(\.name), names, file: file, line: line)
        for f in files {
            let path = root.appendingPathComponent(f.name).path
            XCTAssertEqual(f.sha256, try sha256(path), "\(f.name)", file: file, line: line)
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
            XCTAssertEqual(f.size, size, "\(f.name)", file: file, line: line)
        }
    }
}

/// `nicsim boot` on the embedded network: the virtual switch and the
/// BootServer serving fixtures/tftpboot, a client on each model.
final class EmbeddedBootTests: XCTestCase {
    private func boot(_ arguments: [String]) throws -> BootJSON {
        try BootJSON.parse(try NicsimProcess.run(["boot", "--nbp", "builtin", "--dir", HostTools.fixtures.path, "--json"] + arguments, timeout: 120))
    }

    func testEmbeddedBootOnRTL8139() throws {
        let r = try boot(["--model", "rtl8139"])
        XCTAssertEqual(r.model, "rtl8139")
        XCTAssertEqual(r.lease.ip, "10.0.2.100")
        XCTAssertEqual(r.lease.server, "10.0.2.2")
        XCTAssertEqual(r.lease.bootfile, "pxelinux.0")
        // pxelinux.0 (30 blocks at 1432), the config, the kernel (4) and the initrd (93 at 1432), plus DHCP and ARP.
        XCTAssertGreaterThan(r.frames.rx, 130)
        XCTAssertGreaterThan(r.frames.tx, 130)
        try r.assertMatches(root: HostTools.fixtures)
    }

    func testEmbeddedBootOnNE2000() throws {
        try boot(["--model", "ne2000"]).assertMatches(root: HostTools.fixtures)
    }

    func testEmbeddedBootOnVirtioNet() throws {
        try boot(["--model", "virtio-net"]).assertMatches(root: HostTools.fixtures)
    }

    func testBootWithLossDuplicationAndReorderingStillHashesRight() throws {
        // 5% loss, 5% duplication and reordering in windows of 4 on both switch ports.
        for model in ["rtl8139", "ne2000", "virtio-net"] {
            let r = try boot(["--model", model, "--loss", "0.05", "--duplication", "0.05", "--reorder", "4", "--seed", "7"])
            try r.assertMatches(root: HostTools.fixtures)
        }
    }

    func testHeadlineFormBootsWithoutTheSubcommand() throws {
        let r = try BootJSON.parse(try NicsimProcess.run(["--model", "ne2000", "--nbp", "builtin", "--dir", HostTools.fixtures.path, "--json"], timeout: 120))
        XCTAssertEqual(r.model, "ne2000")
        try r.assertMatches(root: HostTools.fixtures)
    }

    func testMACAndUUIDReachTheServer() throws {
        let r = try boot(["--mac", "02:00:00:aa:bb:cc", "--uuid", "00112233-4455-6677-8899-aabbccddeeff"])
        XCTAssertEqual(r.mac, "02:00:00:aa:bb:cc")
    }

    func testSummaryListsLeaseFilesFramesAndTimes() throws {
        let run = try NicsimProcess.run(["boot", "--nbp", "builtin", "--dir", HostTools.fixtures.path], timeout: 120)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("lease: 10.0.2.100 from 10.0.2.2"), run.stdout)
        XCTAssertTrue(run.stdout.contains("vmlinuz"), run.stdout)
        XCTAssertTrue(run.stdout.contains(try sha256(HostTools.fixtures.appendingPathComponent("vmlinuz").path)), run.stdout)
        XCTAssertTrue(run.stdout.contains("frames: "), run.stdout)
        XCTAssertTrue(run.stdout.contains(" s virtual, "), run.stdout)
    }

    func testCaptureIsAPcapngThatTsharkReads() throws {
        try HostTools.require("/usr/bin/tshark", package: "tshark")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-boot-\(UUID().uuidString).pcapng").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try boot(["--capture", path])
        let t = try HostTools.run("/usr/bin/tshark", ["-r", path, "-Y", "tftp.opcode == 1", "-T", "fields", "-e", "tftp.source_file"])
        XCTAssertEqual(t.status, 0, t.output)
        for f in r.files { XCTAssertTrue(t.output.contains(f.name), "tshark did not see the RRQ for \(f.name):\n\(t.output)") }
        let d = try HostTools.run("/usr/bin/tshark", ["-r", path, "-Y", "bootp.option.dhcp == 5"])
        XCTAssertFalse(d.output.isEmpty, "no DHCPACK in the capture")
    }

    func testMissingDirectoryIsOneLineError() throws {
        let run = try NicsimProcess.run(["boot", "--dir", "/nonexistent/nicsim"])
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
    }
}

/// `nicsim boot --qemu-socket` joins a stream socket the way a QEMU guest
/// would, here the one `nicsim serve --qemu-socket` listens on.
final class SocketBootTests: XCTestCase {
    func testBootJoinsServeOverAQEMUStreamSocket() throws {
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("nsim-boot-\(UUID().uuidString.prefix(8)).sock").path
        let server = Background(NicsimProcess.binary.path, ["serve", "--dir", HostTools.fixtures.path, "--qemu-socket", socket])
        try server.start()
        defer { server.stop() }
        XCTAssertTrue(server.wait(for: "TFTP root", timeout: 10), server.output)
        let r = try BootJSON.parse(try NicsimProcess.run(["boot", "--nbp", "builtin", "--model", "ne2000", "--qemu-socket", socket, "--json"], timeout: 120))
        try r.assertMatches(root: HostTools.fixtures)
        XCTAssertTrue(server.wait(for: "sent initrd.img to 10.0.2.100", timeout: 5), server.output)
    }

    /// serve's stop summary says, per client MAC, what it fetched (from the
    /// server's own sessions: complete when the client acknowledged the last
    /// block) and what failed; here what the default boot's pxelinux.0
    /// fetched, the same list `boot` prints on the client's side.
    func testServeStopSummaryListsWhatEachClientFetched() throws {
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("nsim-sum-\(UUID().uuidString.prefix(8)).sock").path
        let server = Background(NicsimProcess.binary.path, ["serve", "--dir", HostTools.fixtures.path, "--qemu-socket", socket])
        try server.start()
        defer { server.stop() }
        XCTAssertTrue(server.wait(for: "TFTP root", timeout: 10), server.output)
        let r = try BootJSON.parse(try NicsimProcess.run(["boot", "--qemu-socket", socket, "--json"], timeout: 120))
        try r.assertMatches(root: HostTools.fixtures, names: BootTransferTests.pxelinuxFiles)
        XCTAssertTrue(server.wait(for: "sent initrd.img to 10.0.2.100", timeout: 5), server.output)
        server.stop()
        let lines = server.output.split(separator: "\n").map(String.init)
        let head = try XCTUnwrap(lines.firstIndex(of: "serve: 52:54:00:12:34:56 (10.0.2.100) fetched 5 files, 9 failed"), server.output)
        XCTAssertEqual(lines[head + 1], "  files:")
        for (i, f) in r.files.enumerated() {
            let line = lines[head + 2 + i]
            XCTAssertTrue(line.hasPrefix("    \(f.name) ") && line.hasSuffix(" \(f.size) bytes  sha256 \(f.sha256)"), line)
        }
        XCTAssertEqual(lines[head + 2 + r.files.count], "  failed:")
        for (i, name) in BootTransferTests.configSearch().enumerated() {
            let line = lines[head + 3 + r.files.count + i]
            XCTAssertTrue(line.hasPrefix("    \(name) ") && line.hasSuffix("  TFTP error 1 (File not found)"), line)
        }
    }
}

final class BenchCommandTests: XCTestCase {
    func testBenchDownloadsThroughTheChainAndReportsTheRatio() throws {
        let run = try NicsimProcess.run(["bench", "--model", "virtio-net", "--size", "2", "--runs", "1"], timeout: 120)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("chain: "), run.stdout)
        XCTAssertTrue(run.stdout.contains("x memcpy"), run.stdout)
    }

    func testBenchTFTPIsTheDefaultMode() throws {
        let run = try NicsimProcess.run(["bench", "tftp", "--model", "rtl8139", "--size", "1", "--runs", "1"], timeout: 120)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("ratio:  "), run.stdout)
    }

    // The frame path of each model, both ways: every frame arrives (the
    // command fails otherwise), and the JSON carries both rates.
    func testBenchFramesMovesEveryFrameThroughEachModel() throws {
        struct Report: Decodable {
            var model: String
            var direction: String
            var frames: Int
            var framesPerSecond: Double
            var memcpyFramesPerSecond: Double
            var ratio: Double
        }
        for model in ["rtl8139", "ne2000", "virtio-net"] {
            for direction in ["rx", "tx"] {
                let run = try NicsimProcess.run(["bench", "frames", "--model", model, "--direction", direction, "--size", "1514",
                                                 "--frames", "2000", "--runs", "1", "--json"], timeout: 120)
                XCTAssertEqual(run.status, 0, run.stderr)
                let r = try JSONDecoder().decode(Report.self, from: Data(run.stdout.utf8))
                XCTAssertEqual(r.model, model)
                XCTAssertEqual(r.direction, direction)
                XCTAssertEqual(r.frames, 2000)
                XCTAssertGreaterThan(r.framesPerSecond, 0)
                XCTAssertGreaterThan(r.memcpyFramesPerSecond, 0)
                XCTAssertEqual(r.ratio, r.framesPerSecond / r.memcpyFramesPerSecond, accuracy: 1e-9)
            }
        }
    }

    func testBenchFramesRefusesASizeNoFrameHas() throws {
        let run = try NicsimProcess.run(["bench", "frames", "--size", "9000"])
        XCTAssertEqual(run.status, 2)
        XCTAssertEqual(run.stderr, "nicsim: error: --size must be 60 to 1514 bytes\n")
    }
}
