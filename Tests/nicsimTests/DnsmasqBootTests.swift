import Foundation
import XCTest

/// `nicsim boot --bridge` against real dnsmasq in a network namespace:
/// Debian's pxelinux.0, a pxelinux.cfg/default and a random kernel and
/// initrd, for each model. Then proxyDHCP both ways round.
final class DnsmasqBootTests: XCTestCase {
    private var tree: URL!

    override func setUpWithError() throws {
        try HostTools.require(HostTools.dnsmasq, package: "dnsmasq")
        try HostTools.require(HostTools.pxelinux, package: "pxelinux")
        try HostTools.require(HostTools.ldlinux, package: "syslinux-common")
        tree = FileManager.default.temporaryDirectory.appendingPathComponent("nsim-bootserver-tree-\(UUID().uuidString.prefix(8))")
        let r = try HostTools.run("/bin/bash", [NetworkNamespaces.scripts.appendingPathComponent("make-tftpboot.sh").path, tree.path,
                                                "1048576", "524289"])
        XCTAssertEqual(r.status, 0, r.output)
    }

    override func tearDown() {
        if let tree { try? FileManager.default.removeItem(at: tree) }
    }

    private func dnsmasq(_ ns: NetworkNamespaces, mode: String) throws -> Background {
        let d = Background("/bin/bash", [NetworkNamespaces.scripts.appendingPathComponent("dnsmasq-pxe.sh").path, ns.server, "srv0", tree.path, mode])
        try d.start()
        XCTAssertTrue(d.wait(for: "TFTP root is", timeout: 10), d.output)
        return d
    }

    private func bootThroughBridge(_ ns: NetworkNamespaces, model: String) throws -> BootJSON {
        let r = try ns.run(in: ns.client, [NicsimProcess.binary.path, "boot", "--nbp", "builtin", "--model", model, "--bridge", "cli0", "--json"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.output)
        let json = r.output.split(separator: "\n").first { $0.hasPrefix("{") }.map(String.init) ?? ""
        return try JSONDecoder().decode(BootJSON.self, from: Data(json.utf8))
    }

    private func bootAgainstDnsmasq(model: String) throws {
        let ns = try NetworkNamespaces("dq-\(model.prefix(6))")
        defer { ns.down() }
        let d = try dnsmasq(ns, mode: "full")
        defer { d.stop() }
        let r = try bootThroughBridge(ns, model: model)
        XCTAssertEqual(r.lease.server, "192.168.77.1")
        XCTAssertTrue(r.lease.ip.hasPrefix("192.168.77."), r.lease.ip)
        try r.assertMatches(root: tree)
        XCTAssertTrue(d.output.contains("sent \(tree.path)/vmlinuz"), d.output)
    }

    func testRTL8139BootsFromDnsmasq() throws { try bootAgainstDnsmasq(model: "rtl8139") }
    func testNE2000BootsFromDnsmasq() throws { try bootAgainstDnsmasq(model: "ne2000") }
    func testVirtioNetBootsFromDnsmasq() throws { try bootAgainstDnsmasq(model: "virtio-net") }

    func testDnsmasqProxyDHCPBesideNicsimPlainDHCP() throws {
        // Addresses from `nicsim serve --dhcp-only`; boot data from dnsmasq's
        // proxyDHCP, with boot-server discovery on 4011 (PXE 2.1 2.2.1).
        let ns = try NetworkNamespaces("proxy1")
        defer { ns.down() }
        let d = try dnsmasq(ns, mode: "proxy")
        defer { d.stop() }
        // A plain DHCP server serves no TFTP and needs no --dir: every file
        // comes from dnsmasq.
        let plain = try ns.start(in: ns.server, [NicsimProcess.binary.path, "serve", "--bridge", "srv0", "--dhcp-only",
                                                 "--range", "192.168.77.100-192.168.77.120", "--server-ip", "192.168.77.2"])
        defer { plain.stop() }
        XCTAssertTrue(plain.wait(for: "no TFTP", timeout: 10), plain.output)
        let r = try bootThroughBridge(ns, model: "rtl8139")
        XCTAssertTrue(r.lease.proxy)
        XCTAssertEqual(r.lease.server, "192.168.77.2")
        try r.assertMatches(root: tree)
        XCTAssertTrue(plain.output.contains("dhcp: ack 192.168.77.100 to 52:54:00:12:34:56 file -"), plain.output)
        XCTAssertTrue(d.output.contains("proxy"), d.output)
    }

    func testNicsimProxyDHCPBesideDnsmasqPlainDHCP() throws {
        // dnsmasq hands out addresses only; `nicsim serve --proxy` supplies
        // the boot file and serves it over TFTP.
        let ns = try NetworkNamespaces("proxy2")
        defer { ns.down() }
        try ns.run(in: ns.server, [HostTools.ip, "addr", "replace", "192.168.77.1/24", "dev", "srv0"])
        let d = Background(HostTools.ip, ["netns", "exec", ns.server, HostTools.dnsmasq, "--no-daemon", "--conf-file=/dev/null",
                                          "--no-resolv", "--no-hosts", "--port=0", "--interface=srv0", "--bind-interfaces",
                                          "--dhcp-range=192.168.77.100,192.168.77.150,255.255.255.0,1h", "--log-dhcp",
                                          "--log-facility=-", "--dhcp-leasefile=/dev/null"])
        try d.start()
        defer { d.stop() }
        XCTAssertTrue(d.wait(for: "DHCP, IP range", timeout: 10), d.output)
        let proxy = try ns.start(in: ns.server, [NicsimProcess.binary.path, "serve", "--dir", tree.path, "--bridge", "srv0", "--proxy",
                                                 "--range", "192.168.77.200-192.168.77.200", "--server-ip", "192.168.77.2"])
        defer { proxy.stop() }
        XCTAssertTrue(proxy.wait(for: "TFTP root", timeout: 10), proxy.output)
        let r = try bootThroughBridge(ns, model: "virtio-net")
        XCTAssertTrue(r.lease.proxy)
        XCTAssertEqual(r.lease.server, "192.168.77.1")
        try r.assertMatches(root: tree)
        XCTAssertTrue(proxy.output.contains("sent vmlinuz to \(r.lease.ip)"), proxy.output)
    }
}
