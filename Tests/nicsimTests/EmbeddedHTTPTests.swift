import Foundation
import XCTest

/// The boot-file and HTTP options of `serve` and of `boot`'s embedded
/// server, from the command line.
final class EmbeddedHTTPTests: XCTestCase {
    static let rom = "/usr/lib/ipxe/qemu/pxe-rtl8139.rom"

    /// iPXE's BIOS ROM for the RTL8139 on nicsim's machine: boot.ipxe over
    /// TFTP from `boot`'s embedded server, then a script and 300 KB over
    /// HTTP from the same server (`--http-port`).
    func testBootROMChainsOverHTTPFromTheEmbeddedServer() throws {
        try HostTools.require(Self.rom, package: "ipxe-qemu")
        let tree = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-bootHTTP-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tree) }
        try "#!ipxe\nchain http://${next-server}/second.ipxe || echo nicsim chain failed\n"
            .write(to: tree.appendingPathComponent("boot.ipxe"), atomically: true, encoding: .utf8)
        try "#!ipxe\nimgfetch http://${next-server}/big.bin && echo nicsim fetched big.bin\necho nicsim-end\n"
            .write(to: tree.appendingPathComponent("second.ipxe"), atomically: true, encoding: .utf8)
        try Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }).write(to: tree.appendingPathComponent("big.bin"))
        let r = try NicsimProcess.run(["boot", "--rom", Self.rom, "--dir", tree.path, "--http-port", "80", "--until", "nicsim-end"],
                                      timeout: 240)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertTrue(r.stdout.contains("http://10.0.2.2/second.ipxe... ok"), r.stdout)
        XCTAssertTrue(r.stdout.contains("nicsim fetched big.bin"), r.stdout)
        XCTAssertFalse(r.stdout.contains("nicsim chain failed"), r.stdout)
    }

    /// The same through a switch that loses 5% of frames, duplicates 2%
    /// and reorders in windows of 3 (seeded): the server's retransmission
    /// and recovery against iPXE's TCP.
    func testBootROMFetchesOverHTTPThroughLossDuplicationAndReordering() throws {
        try HostTools.require(Self.rom, package: "ipxe-qemu")
        let tree = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-bootHTTP-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tree) }
        try "#!ipxe\nchain http://${next-server}/second.ipxe || echo nicsim chain failed\n"
            .write(to: tree.appendingPathComponent("boot.ipxe"), atomically: true, encoding: .utf8)
        try "#!ipxe\nimgfetch http://${next-server}/big.bin && echo nicsim fetched big.bin\necho nicsim-end\n"
            .write(to: tree.appendingPathComponent("second.ipxe"), atomically: true, encoding: .utf8)
        try Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }).write(to: tree.appendingPathComponent("big.bin"))
        let r = try NicsimProcess.run(["boot", "--rom", Self.rom, "--dir", tree.path, "--http-port", "80", "--until", "nicsim-end",
                                       "--loss", "0.05", "--duplication", "0.02", "--reorder", "3", "--seed", "7"], timeout: 240)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertTrue(r.stdout.contains("nicsim fetched big.bin"), r.stdout)
    }

    func testWithoutHTTPPortTheChainFails() throws {
        // No --http-port: nothing listens, and the server's RST fails the
        // connect at once instead of after iPXE's connect timeout.
        try HostTools.require(Self.rom, package: "ipxe-qemu")
        let tree = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-bootHTTP-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tree) }
        try "#!ipxe\nchain http://${next-server}/second.ipxe || echo nicsim chain failed nicsim-end\n"
            .write(to: tree.appendingPathComponent("boot.ipxe"), atomically: true, encoding: .utf8)
        let r = try NicsimProcess.run(["boot", "--rom", Self.rom, "--dir", tree.path, "--until", "nicsim-end", "--timeout", "20"],
                                      timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertTrue(r.stdout.contains("Connection refused") || r.stdout.contains("Connection reset"), r.stdout)
        XCTAssertTrue(r.stdout.contains("nicsim chain failed"), r.stdout + r.stderr)
    }

    func testBadBootFileForIsOneLine() throws {
        for (args, message) in [
            (["serve", "--dir", "/tmp", "--qemu-socket", "/tmp/x.sock", "--boot-file-for", "arm=grub.efi"],
             "--boot-file-for takes ARCH=FILE with ARCH a number 0-65535 (option 93), e.g. 11=grubaa64.efi; got 'arm=grub.efi'"),
            (["serve", "--dir", "/tmp", "--qemu-socket", "/tmp/x.sock", "--boot-file-for", "7=a", "--boot-file-for", "7=b"],
             "--boot-file-for gives architecture 7 twice"),
            (["serve", "--dir", "/tmp", "--qemu-socket", "/tmp/x.sock", "--http-port", "0"], "--http-port must be 1-65535"),
            (["serve", "--qemu-socket", "/tmp/x.sock", "--dhcp-only", "--http-port", "80"],
             "--http-port serves --dir, which --dhcp-only doesn't serve"),
            (["boot", "--qemu-socket", "/tmp/x.sock", "--http-port", "80"],
             "--efi-boot-file, --ipxe-boot-file, --boot-file-for and --http-port are for the embedded server"),
            (["boot", "--boot-file-for", "7"],
             "--boot-file-for takes ARCH=FILE with ARCH a number 0-65535 (option 93), e.g. 11=grubaa64.efi; got '7'"),
        ] {
            let r = try NicsimProcess.run(args)
            XCTAssertEqual(r.status, 2, args.joined(separator: " "))
            XCTAssertEqual(r.stderr, "nicsim: error: \(message)\n", args.joined(separator: " "))
        }
    }
}
