import Foundation
import XCTest

/// `boot`'s `files` and `failed`: every TFTP transfer the client made,
/// reassembled from the frames on the card's switch port, whoever made it
/// (nicsim's PXE ROM, pxelinux.0 on the machine, a real iPXE ROM).
final class BootTransferTests: XCTestCase {
    /// What Debian's pxelinux.0 fetches from fixtures/tftpboot, after the
    /// ROM fetched pxelinux.0 itself.
    static let pxelinuxFiles = ["pxelinux.0", "ldlinux.c32", "pxelinux.cfg/default", "vmlinuz", "initrd.img"]

    /// pxelinux's configuration search before `default` (PXELINUX's
    /// documented order): the MAC as 01-aa-bb-..., then the address in
    /// upper-case hex, one digit shorter each time. Each is "not found".
    static func configSearch(mac: String = "52:54:00:12:34:56", ip: String = "10.0.2.100") -> [String] {
        let hex = ip.split(separator: ".").map { String(format: "%02X", Int($0) ?? 0) }.joined()
        return ["pxelinux.cfg/01-" + mac.replacingOccurrences(of: ":", with: "-")]
            + stride(from: 8, through: 1, by: -1).map { "pxelinux.cfg/" + hex.prefix($0) }
    }

    private func assertConfigSearchFailed(_ r: BootJSON, server: String = "10.0.2.2", ip: String = "10.0.2.100",
                                          file: StaticString = #filePath, line: UInt = #line) {
        let failed = r.failed ?? []
        XCTAssertEqual(failed.map(\.name), Self.configSearch(ip: ip), file: file, line: line)
        for f in failed {
            XCTAssertEqual(f.code, 1, f.name, file: file, line: line)
            XCTAssertTrue(f.error.hasPrefix("TFTP error 1 (File not found)"), f.error, file: file, line: line)
            XCTAssertEqual(f.server, server, file: file, line: line)
            XCTAssertEqual(f.size, 0, file: file, line: line)
        }
    }

    /// The default boot (nicsim's PXE ROM, real pxelinux.0 on the machine)
    /// lists the NBP, ldlinux.c32, the config, the kernel and the initrd
    /// with the fixtures' own hashes and the server they came from, and the
    /// config files pxelinux looked for first as failures, on each model.
    func testExecBootListsEveryFilePxelinuxFetchedOnEachModel() throws {
        for model in ["rtl8139", "ne2000", "virtio-net"] {
            let r = try BootJSON.parse(try NicsimProcess.run(["boot", "--model", model, "--dir", HostTools.fixtures.path, "--json"],
                                                             timeout: 120))
            XCTAssertEqual(r.nbp, "exec", model)
            XCTAssertEqual(r.stop, "halted", model)
            try r.assertMatches(root: HostTools.fixtures, names: Self.pxelinuxFiles)
            XCTAssertEqual(Set(r.files.compactMap(\.server)), ["10.0.2.2"], model)
            assertConfigSearchFailed(r)
        }
    }

    /// Duplication and reordering on the switch make the card see blocks
    /// twice and out of order: each file is still listed once, whole, with
    /// the right hash, because blocks are taken strictly in order. (Loss
    /// works too, but pxelinux waits out its retransmission timeouts by
    /// polling the timer on the CPU: 2% loss costs a minute of wall time.)
    func testExecBootUnderFaultsListsEachFileOnceWithItsHash() throws {
        let r = try BootJSON.parse(try NicsimProcess.run(["boot", "--model", "virtio-net", "--dir", HostTools.fixtures.path, "--json",
                                                          "--duplication", "0.05", "--reorder", "4", "--seed", "7"],
                                                         timeout: 240))
        XCTAssertEqual(r.stop, "halted")
        try r.assertMatches(root: HostTools.fixtures, names: Self.pxelinuxFiles)
        assertConfigSearchFailed(r)
    }

    /// The built-in pxelinux walks the same search through the PXE API; the
    /// same log lists what it fetched.
    func testBuiltinBootListsItsConfigSearchAsFailures() throws {
        let r = try BootJSON.parse(try NicsimProcess.run(["boot", "--nbp", "builtin", "--dir", HostTools.fixtures.path, "--json"],
                                                         timeout: 120))
        try r.assertMatches(root: HostTools.fixtures)
        let failed = r.failed ?? []
        XCTAssertFalse(failed.isEmpty)
        XCTAssertTrue(failed.allSatisfy { $0.name.hasPrefix("pxelinux.cfg/") && $0.code == 1 }, "\(failed.map(\.name))")
    }

    /// The summary prints each file as before, then the failures.
    func testSummaryListsFilesThenFailures() throws {
        let run = try NicsimProcess.run(["boot", "--dir", HostTools.fixtures.path], timeout: 120)
        XCTAssertEqual(run.status, 0, run.stderr)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        let files = try XCTUnwrap(lines.firstIndex(of: "files:"), run.stdout)
        let failed = try XCTUnwrap(lines.firstIndex(of: "failed:"), run.stdout)
        XCTAssertEqual(failed, files + Self.pxelinuxFiles.count + 1, run.stdout)
        let ldlinux = lines[files + 2]
        XCTAssertTrue(ldlinux.hasPrefix("  ldlinux.c32 "), ldlinux)
        XCTAssertTrue(ldlinux.contains(" 119524 bytes  sha256 \(try sha256(HostTools.fixtures.appendingPathComponent("ldlinux.c32").path))"), ldlinux)
        let search = Self.configSearch()
        for (i, name) in search.enumerated() {
            XCTAssertTrue(lines[failed + 1 + i].hasPrefix("  \(name) "), lines[failed + 1 + i])
            XCTAssertTrue(lines[failed + 1 + i].hasSuffix("  TFTP error 1 (File not found)"), lines[failed + 1 + i])
        }
    }

    /// Debian's iPXE ROM on the machine: its script fails to fetch one file,
    /// then fetches the test kernel and initrd and boots them. The list
    /// holds the script, the kernel and the initrd with their hashes, and
    /// the missing file as a failure.
    func testROMBootListsWhatIPXEFetched() throws {
        try HostTools.require(BootROMCommandTests.rom, package: "ipxe-qemu")
        let tree = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-romfiles-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tree) }
        for name in ["vmlinuz", "initrd.img"] {
            try FileManager.default.copyItem(at: HostTools.fixtures.appendingPathComponent(name), to: tree.appendingPathComponent(name))
        }
        try Data("#!ipxe\nimgfetch missing.bin || echo nicsim-missing\nkernel vmlinuz console=ttyS0\ninitrd initrd.img\nboot\n".utf8)
            .write(to: tree.appendingPathComponent("boot.ipxe"))
        let run = try NicsimProcess.run(["boot", "--rom", BootROMCommandTests.rom, "--dir", tree.path, "--until", "initrd: 0x", "--json"],
                                        timeout: 240)
        XCTAssertEqual(run.status, 0, run.stderr)
        let r = try JSONDecoder().decode(BootJSON.ROMFiles.self, from: Data(run.stdout.utf8))
        XCTAssertTrue(r.console.contains("nicsim test kernel"), r.console)
        XCTAssertEqual(r.files.map(\.name), ["boot.ipxe", "vmlinuz", "initrd.img"])
        for f in r.files {
            XCTAssertEqual(f.sha256, try sha256(tree.appendingPathComponent(f.name).path), f.name)
            XCTAssertEqual(f.server, "10.0.2.2")
        }
        XCTAssertEqual(r.failed.map(\.name), ["missing.bin"])
        XCTAssertEqual(r.failed.first?.code, 1)
    }
}

extension BootJSON {
    /// What `boot --rom --json` says about files.
    struct ROMFiles: Decodable {
        var console: String
        var files: [File]
        var failed: [Failure]
    }
}
