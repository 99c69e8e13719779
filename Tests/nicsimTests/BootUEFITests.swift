import Foundation
import XCTest

/// `nicsim boot --firmware uefi` against the embedded server: the report
/// is the BIOS path's (lease, files with SHA-256, console, stop), the EFI
/// program is what the server hands an x64 UEFI client, and bad
/// combinations of options are one line.
final class BootUEFITests: XCTestCase {
    private var tree: URL!

    override func setUpWithError() throws {
        try HostTools.require("/usr/lib/ipxe/snponly.efi", package: "ipxe")
        tree = FileManager.default.temporaryDirectory.appendingPathComponent("nsim-uefi-cli-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/usr/lib/ipxe/snponly.efi", toPath: tree.appendingPathComponent("snponly.efi").path)
        try Data("#!ipxe\necho uefi-cli ${net0/ip} done\n".utf8).write(to: tree.appendingPathComponent("boot.ipxe"))
    }

    override func tearDown() {
        if let tree { try? FileManager.default.removeItem(at: tree) }
    }

    func testSNPOnlyOnVirtioNetReportsLeaseFilesAndConsole() throws {
        let r = try BootJSON.parse(try NicsimProcess.run(["boot", "--firmware", "uefi", "--model", "virtio-net", "--dir", tree.path,
                                                          "--until", "done", "--json"], timeout: 120))
        XCTAssertEqual(r.model, "virtio-net")
        XCTAssertEqual(r.nbp, "uefi")
        XCTAssertEqual(r.stop, "condition")
        XCTAssertEqual(r.lease.ip, "10.0.2.100")
        XCTAssertEqual(r.lease.bootfile, "snponly.efi")
        XCTAssertTrue((r.console ?? "").contains("uefi-cli 10.0.2.100 done"), r.console ?? "")
        XCTAssertEqual(r.files.map(\.name), ["snponly.efi", "boot.ipxe"])
        for f in r.files {
            XCTAssertEqual(f.sha256, try sha256(tree.appendingPathComponent(f.name).path), f.name)
        }
    }

    /// GRUB asks the embedded server for `/grub/grub.cfg` with a leading
    /// slash; the server takes it from the TFTP root, as dnsmasq does.
    func testGRUBReadsItsConfigurationFromTheEmbeddedServer() throws {
        let grub = "/usr/lib/grub/x86_64-efi/monolithic/grubnetx64.efi"
        try HostTools.require(grub, package: "grub-efi-amd64-bin")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("grub"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: grub, toPath: tree.appendingPathComponent("grubnetx64.efi").path)
        try Data("set timeout=0\necho \"nicsim grub.cfg from the embedded server\"\nsleep 1\n".utf8)
            .write(to: tree.appendingPathComponent("grub/grub.cfg"))
        let r = try BootJSON.parse(try NicsimProcess.run(["boot", "--firmware", "uefi", "--model", "virtio-net", "--dir", tree.path,
                                                          "--boot-file", "grubnetx64.efi",
                                                          "--until", "nicsim grub.cfg from the embedded server", "--json"], timeout: 120))
        XCTAssertEqual(r.stop, "condition", r.console ?? "")
        XCTAssertTrue(r.files.contains { $0.name == "/grub/grub.cfg" }, "\(r.files.map(\.name))")
    }

    /// The EFI driver of QEMU's efi-rtl8139.rom drives our RTL8139 and
    /// boots through its Load File protocol.
    func testEFIOptionROMBootsThroughItsLoadFileProtocol() throws {
        let rom = "/usr/lib/ipxe/qemu/efi-rtl8139.rom"
        try HostTools.require(rom, package: "ipxe-qemu")
        let run = try NicsimProcess.run(["boot", "--firmware", "uefi", "--rom", rom, "--model", "rtl8139", "--dir", tree.path,
                                         "--until", "done"], timeout: 120)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("using rtl8139 on 0000:00:03.0"), run.stdout)
        XCTAssertTrue(run.stdout.contains("uefi-cli 10.0.2.100 done"), run.stdout)
    }

    func testALegacyOnlyROMUnderUEFIIsOneLine() throws {
        let run = try NicsimProcess.run(["boot", "--firmware", "uefi", "--rom", "/usr/lib/ipxe/qemu/pxe-rtl8139.rom", "--dir", tree.path,
                                         "--timeout", "5"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("no x64 EFI image"), run.stderr)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
    }

    func testNBPModeIsRefusedUnderUEFI() throws {
        let run = try NicsimProcess.run(["boot", "--firmware", "uefi", "--nbp", "builtin"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("--nbp"), run.stderr)
    }
}
