import Foundation
import XCTest

/// `nicsim boot --firmware uefi` against real dnsmasq in a network
/// namespace, bridged through libpcap to a default veth pair: dnsmasq
/// tags the boot file by architecture (scripts/dnsmasq-pxe.sh, mode
/// uefi), so the firmware's DHCP only gets an EFI boot file because it
/// asked as an x64 UEFI client (option 93 = 7). The EFI program (Debian's
/// snponly.efi over our Simple Network Protocol, or ipxe.efi with its own
/// driver over PCI I/O) then leases again as iPXE, gets boot.ipxe and runs
/// it: the echo of `${net0/ip}` on our console, dnsmasq's ACK and TFTP
/// "sent" lines and the report's SHA-256 of each file are the proof.
final class DnsmasqUEFITests: XCTestCase {
    private var tree: URL!
    static let script = "#!ipxe\necho nicsim-uefi-ok ${net0/ip} nicsim-end\n"

    override func setUpWithError() throws {
        try HostTools.require(HostTools.dnsmasq, package: "dnsmasq")
        try HostTools.require("/usr/lib/ipxe/snponly.efi", package: "ipxe")
        tree = FileManager.default.temporaryDirectory.appendingPathComponent("nsim-uefi-tree-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        for nbp in ["snponly.efi", "ipxe.efi"] {
            try FileManager.default.copyItem(atPath: "/usr/lib/ipxe/\(nbp)", toPath: tree.appendingPathComponent(nbp).path)
        }
        try Data(Self.script.utf8).write(to: tree.appendingPathComponent("boot.ipxe"))
    }

    override func tearDown() {
        if let tree { try? FileManager.default.removeItem(at: tree) }
    }

    private func boot(_ nbp: String, model: String, namespace: String, expectDriver driver: String) throws {
        let ns = try NetworkNamespaces(namespace, prefix: "uefi")
        defer { ns.down() }
        let d = Background("/bin/bash", [NetworkNamespaces.scripts.appendingPathComponent("dnsmasq-pxe.sh").path,
                                         ns.server, "srv0", tree.path, "uefi", nbp])
        try d.start()
        defer { d.stop() }
        XCTAssertTrue(d.wait(for: "TFTP root is", timeout: 10), d.output)
        let started = Date()
        let r = try ns.run(in: ns.client, [NicsimProcess.binary.path, "boot", "--firmware", "uefi", "--model", model,
                                           "--bridge", "cli0", "--until", "nicsim-end", "--timeout", "60", "--json"], timeout: 240)
        XCTAssertEqual(r.status, 0, r.output)
        let line = r.output.split(separator: "\n").first { $0.hasPrefix("{") }.map(String.init) ?? ""
        let report = try JSONDecoder().decode(BootJSON.self, from: Data(line.utf8))
        let console = report.console ?? ""
        print("\(nbp) on \(model) via dnsmasq: \(Date().timeIntervalSince(started)) s wall")
        XCTAssertEqual(report.nbp, "uefi")
        XCTAssertEqual(report.stop, "condition", console)
        XCTAssertEqual(report.lease.bootfile, nbp)
        XCTAssertTrue(report.lease.ip.hasPrefix("192.168.77."), report.lease.ip)
        XCTAssertTrue(console.contains("using \(driver) on"), console)
        XCTAssertTrue(console.contains("nicsim-uefi-ok \(report.lease.ip) nicsim-end"), console)
        XCTAssertTrue(d.output.contains("DHCPACK(srv0) \(report.lease.ip) 52:54:00:12:34:56"), d.output)
        XCTAssertTrue(d.output.contains("sent \(tree.path)/\(nbp) to \(report.lease.ip)"), d.output)
        XCTAssertTrue(d.output.contains("sent \(tree.path)/boot.ipxe to \(report.lease.ip)"), d.output)
        // The firmware fetched the EFI program: listed first, with dnsmasq's
        // bytes. iPXE's script follows it, except that with ipxe.efi's own
        // NE2000 driver on a loaded host the transfer log has been seen to
        // count the script's requests as abandoned probes; dnsmasq's "sent"
        // line and the echo above are the proof that the script ran.
        XCTAssertEqual(report.files.first?.name, nbp, line)
        XCTAssertTrue(report.files.map(\.name).allSatisfy { [nbp, "boot.ipxe"].contains($0) }, line)
        for f in report.files {
            XCTAssertEqual(f.sha256, try sha256(tree.appendingPathComponent(f.name).path), f.name)
            XCTAssertEqual(f.server, "192.168.77.1", f.name)
        }
    }

    func testSNPOnlyOnVirtioNetRunsDnsmasqsScript() throws {
        try boot("snponly.efi", model: "virtio-net", namespace: "snp-virtio", expectDriver: "SNP")
    }

    func testSNPOnlyOnRTL8139RunsDnsmasqsScript() throws {
        try boot("snponly.efi", model: "rtl8139", namespace: "snp-8139", expectDriver: "SNP")
    }

    func testIPXEEFIOnNE2000RunsDnsmasqsScript() throws {
        try boot("ipxe.efi", model: "ne2000", namespace: "ipxe-ne2k", expectDriver: "rtl8029")
    }

    func testIPXEEFIOnVirtioNetRunsDnsmasqsScript() throws {
        try boot("ipxe.efi", model: "virtio-net", namespace: "ipxe-virtio", expectDriver: "virtio-net")
    }

    /// Debian's grubnetx64.efi (grub-efi-amd64-bin) as the NBP: GRUB finds
    /// the firmware's DHCP answer in the PXE Base Code protocol's mode on
    /// its device handle, configures its own network stack over our Simple
    /// Network Protocol and reads /grub/grub.cfg from dnsmasq over TFTP.
    func testGRUBNetReadsItsConfigFromDnsmasq() throws {
        let report = try grub(nbp: "grubnetx64.efi", namespace: "grub")
        XCTAssertEqual(report.files.map(\.name), ["grubnetx64.efi", "/grub/grub.cfg"])
    }

    /// Debian's signed shim (shim-signed; Secure Boot off) as the NBP:
    /// shim reads its second stage, grubx64.efi, through the firmware's
    /// PXE Base Code Mtftp (nicsim's TFTP client over the card's UNDI
    /// driver), loads it, and GRUB reads its configuration over SNP.
    func testShimLoadsGRUBThroughPXEBaseCodeMtftp() throws {
        let shim = "/usr/lib/shim/shimx64.efi.signed"
        try HostTools.require(shim, package: "shim-signed")
        try FileManager.default.copyItem(atPath: shim, toPath: tree.appendingPathComponent("shimx64.efi").path)
        let report = try grub(nbp: "shimx64.efi", namespace: "shim", secondStage: "grubx64.efi")
        XCTAssertEqual(report.files.map(\.name).filter { !$0.hasSuffix(".lst") }, ["shimx64.efi", "grubx64.efi", "/grub/grub.cfg"])
    }

    /// GRUB's monolithic network image as `nbp` (or as `secondStage`
    /// under it), dnsmasq serving it and /grub/grub.cfg; runs until GRUB
    /// echoes from its configuration.
    private func grub(nbp: String, namespace: String, secondStage: String? = nil) throws -> BootJSON {
        let grub = "/usr/lib/grub/x86_64-efi/monolithic/grubnetx64.efi"
        try HostTools.require(grub, package: "grub-efi-amd64-bin")
        try FileManager.default.copyItem(atPath: grub, toPath: tree.appendingPathComponent(secondStage ?? nbp).path)
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("grub"), withIntermediateDirectories: true)
        try Data("echo nicsim-grub-ok\nsleep 1\n".utf8).write(to: tree.appendingPathComponent("grub/grub.cfg"))
        let ns = try NetworkNamespaces(namespace, prefix: "uefi")
        defer { ns.down() }
        let d = Background("/bin/bash", [NetworkNamespaces.scripts.appendingPathComponent("dnsmasq-pxe.sh").path,
                                         ns.server, "srv0", tree.path, "uefi", nbp])
        try d.start()
        defer { d.stop() }
        XCTAssertTrue(d.wait(for: "TFTP root is", timeout: 10), d.output)
        let r = try ns.run(in: ns.client, [NicsimProcess.binary.path, "boot", "--firmware", "uefi", "--model", "virtio-net",
                                           "--bridge", "cli0", "--until", "nicsim-grub-ok", "--timeout", "60", "--json"], timeout: 240)
        XCTAssertEqual(r.status, 0, r.output)
        let line = r.output.split(separator: "\n").first { $0.hasPrefix("{") }.map(String.init) ?? ""
        let report = try JSONDecoder().decode(BootJSON.self, from: Data(line.utf8))
        XCTAssertEqual(report.stop, "condition", report.console ?? "")
        XCTAssertEqual(report.lease.bootfile, nbp)
        XCTAssertTrue((report.console ?? "").contains("nicsim-grub-ok"), report.console ?? "")
        XCTAssertEqual(report.files.last?.sha256, try sha256(tree.appendingPathComponent("grub/grub.cfg").path), line)
        XCTAssertTrue(d.output.contains("sent \(tree.path)/grub/grub.cfg to \(report.lease.ip)"), d.output)
        return report
    }

    /// QEMU's efi-virtio.rom on our virtio-net: the ROM's EFI driver bound
    /// by the firmware, iPXE's own virtio driver leasing from dnsmasq
    /// through the Load File boot, boot.ipxe run.
    func testEFIVirtioROMRunsDnsmasqsScript() throws {
        let rom = "/usr/lib/ipxe/qemu/efi-virtio.rom"
        try HostTools.require(rom, package: "ipxe-qemu")
        let ns = try NetworkNamespaces("efirom", prefix: "uefi")
        defer { ns.down() }
        let d = Background("/bin/bash", [NetworkNamespaces.scripts.appendingPathComponent("dnsmasq-pxe.sh").path,
                                         ns.server, "srv0", tree.path, "uefi"])
        try d.start()
        defer { d.stop() }
        XCTAssertTrue(d.wait(for: "TFTP root is", timeout: 10), d.output)
        let r = try ns.run(in: ns.client, [NicsimProcess.binary.path, "boot", "--firmware", "uefi", "--rom", rom, "--model", "virtio-net",
                                           "--bridge", "cli0", "--until", "nicsim-end", "--timeout", "60"], timeout: 240)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("using virtio-net on 0000:00:03.0"), r.output)
        let echo = try NSRegularExpression(pattern: #"nicsim-uefi-ok (192\.168\.77\.[0-9]+) nicsim-end"#)
        let match = echo.firstMatch(in: r.output, range: NSRange(r.output.startIndex..., in: r.output))
        let address = try XCTUnwrap(match.flatMap { Range($0.range(at: 1), in: r.output) }.map { String(r.output[$0]) }, r.output)
        XCTAssertTrue(d.output.contains("DHCPACK(srv0) \(address) 52:54:00:12:34:56"), d.output)
        XCTAssertTrue(d.output.contains("sent \(tree.path)/boot.ipxe to \(address)"), d.output)
    }
}
