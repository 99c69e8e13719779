import Foundation
import XCTest

/// Targets 1 and 2 of the machine against real dnsmasq in a network
/// namespace: `nicsim boot --bridge cli0 --nbp exec` runs nicsim's PXE ROM
/// on the x86 machine, bridged through libpcap to a veth whose far end
/// dnsmasq serves (DHCP + TFTP), and the NBP is Debian's own:
/// undionly.kpxe (iPXE over our UNDI, which then asks dnsmasq again as
/// user class "iPXE" and runs the script it gets) or pxelinux.0 (over our
/// PXE API, walking its configuration search, which dnsmasq logs).
final class DnsmasqExecTests: XCTestCase {
    private var tree: URL!
    static let scriptLine = "nicsim-undionly"

    override func setUpWithError() throws {
        try HostTools.require(HostTools.dnsmasq, package: "dnsmasq")
        try HostTools.require(HostTools.pxelinux, package: "pxelinux")
        try HostTools.require(HostTools.ldlinux, package: "syslinux-common")
        try HostTools.require(HostTools.undionly, package: "ipxe")
        tree = FileManager.default.temporaryDirectory.appendingPathComponent("nsim-exec-tree-\(UUID().uuidString.prefix(8))")
        let fm = FileManager.default
        try fm.createDirectory(at: tree.appendingPathComponent("pxelinux.cfg"), withIntermediateDirectories: true)
        try fm.copyItem(atPath: HostTools.undionly, toPath: tree.appendingPathComponent("undionly.kpxe").path)
        try fm.copyItem(atPath: HostTools.pxelinux, toPath: tree.appendingPathComponent("pxelinux.0").path)
        try fm.copyItem(atPath: HostTools.ldlinux, toPath: tree.appendingPathComponent("ldlinux.c32").path)
        try Data("#!ipxe\necho \(Self.scriptLine) ${net0/ip}\necho nicsim-script-done\n".utf8).write(to: tree.appendingPathComponent("boot.ipxe"))
        try Data("SAY nicsim-pxelinux-config-read\nDEFAULT nicsim\nLABEL nicsim\n  KERNEL vmlinuz\n".utf8)
            .write(to: tree.appendingPathComponent("pxelinux.cfg/default"))
    }

    override func tearDown() {
        if let tree { try? FileManager.default.removeItem(at: tree) }
    }

    /// dnsmasq on srv0 (scripts/dnsmasq-pxe.sh, mode ipxe): 192.168.77.1,
    /// clients with user class iPXE get boot.ipxe, the others `bootFile`;
    /// TFTP from the tree; IPv6 router advertisements, so iPXE need not
    /// wait for a router; logs to stderr.
    private func dnsmasq(_ ns: NetworkNamespaces, bootFile: String) throws -> Background {
        let d = Background("/bin/bash", [NetworkNamespaces.scripts.appendingPathComponent("dnsmasq-pxe.sh").path, ns.server, "srv0",
                                         tree.path, "ipxe", bootFile])
        try d.start()
        XCTAssertTrue(d.wait(for: "TFTP root is", timeout: 10), d.output)
        return d
    }

    private func exec(_ ns: NetworkNamespaces, model: String, until: String) throws -> BootJSON {
        let r = try ns.run(in: ns.client, [NicsimProcess.binary.path, "boot", "--model", model, "--bridge", "cli0", "--nbp", "exec",
                                           "--until", until, "--timeout", "60", "--json"], timeout: 240)
        XCTAssertEqual(r.status, 0, r.output)
        let json = r.output.split(separator: "\n").first { $0.hasPrefix("{") }.map(String.init) ?? ""
        return try JSONDecoder().decode(BootJSON.self, from: Data(json.utf8))
    }

    private func undionly(model: String) throws {
        let ns = try NetworkNamespaces("ux-\(model.prefix(6))")
        defer { ns.down() }
        let d = try dnsmasq(ns, bootFile: "undionly.kpxe")
        defer { d.stop() }
        let r = try exec(ns, model: model, until: "nicsim-script-done")
        XCTAssertEqual(r.stop, "condition")
        XCTAssertEqual(r.lease.bootfile, "undionly.kpxe")
        XCTAssertTrue(r.lease.ip.hasPrefix("192.168.77."), r.lease.ip)
        XCTAssertTrue((r.console ?? "").contains("\(Self.scriptLine) \(r.lease.ip)"), r.console ?? "")
        XCTAssertTrue(d.output.contains("sent \(tree.path)/undionly.kpxe"), d.output)
        XCTAssertTrue(d.output.contains("sent \(tree.path)/boot.ipxe"), d.output)
        // The ROM fetched undionly.kpxe; iPXE, driving the card through our
        // UNDI, fetched its script: both in the list, as dnsmasq has them.
        XCTAssertEqual(r.files.map(\.name), ["undionly.kpxe", "boot.ipxe"])
        for f in r.files {
            XCTAssertEqual(f.sha256, try sha256(tree.appendingPathComponent(f.name).path), f.name)
            XCTAssertEqual(f.server, "192.168.77.1", f.name)
        }
    }

    func testUndionlyOnRTL8139RunsDnsmasqsScript() throws { try undionly(model: "rtl8139") }
    func testUndionlyOnNE2000RunsDnsmasqsScript() throws { try undionly(model: "ne2000") }
    func testUndionlyOnVirtioNetRunsDnsmasqsScript() throws { try undionly(model: "virtio-net") }

    func testPxelinuxWalksItsConfigSearchOnDnsmasq() throws {
        let ns = try NetworkNamespaces("px-exec")
        defer { ns.down() }
        let d = try dnsmasq(ns, bootFile: "pxelinux.0")
        defer { d.stop() }
        let r = try exec(ns, model: "rtl8139", until: "nicsim-pxelinux-config-read")
        XCTAssertEqual(r.stop, "condition")
        let ip = r.lease.ip.split(separator: ".").compactMap { UInt8($0) }
        XCTAssertEqual(ip.count, 4)
        let hex = ip.map { String(format: "%02X", $0) }.joined()
        // pxelinux's search order, as dnsmasq saw it: MAC, the address in
        // hex shortened a digit at a time, then default.
        var expected = ["\(tree.path)/pxelinux.cfg/01-52-54-00-12-34-56"]
        for n in stride(from: 8, through: 1, by: -1) { expected.append("\(tree.path)/pxelinux.cfg/\(hex.prefix(n))") }
        for path in expected {
            XCTAssertTrue(d.output.contains("file \(path) not found"), "\(path) missing from dnsmasq's log:\n\(d.output)")
        }
        XCTAssertTrue(d.output.contains("sent \(tree.path)/ldlinux.c32"), d.output)
        XCTAssertTrue(d.output.contains("sent \(tree.path)/pxelinux.cfg/default"), d.output)
    }
}
