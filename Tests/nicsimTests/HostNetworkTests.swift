import Foundation
import XCTest

/// `nicsim boot` on the host's network as users set it up: a plain veth
/// pair with the kernel's default offloads (scripts/netns.sh changes none),
/// and a TAP in a Linux bridge that dnsmasq serves on the same host. The
/// client is the default exec boot: nicsim's PXE ROM, Debian's pxelinux.0
/// and ldlinux.c32, the fixture config and test kernel and a 1 MiB initrd;
/// the report lists each file with the SHA-256 of dnsmasq's copy.
final class HostNetworkTests: XCTestCase {
    private var tree: URL!
    /// 1 MiB: 733 blocks of 1432 bytes, fetched by pxelinux at its own block size.
    static let initrdSize = 1 << 20

    /// What these tests read of `boot --json` besides BootJSON.
    struct HostJSON: Decodable {
        struct Host: Decodable {
            var interface: String
            var addressFilter: String
            var framesIn: Int
            var framesOut: Int
            var checksumsCompleted: Int
            var framesSegmented: Int
        }
        var host: Host?
        var network: String
        var console: String?
    }

    override func setUpWithError() throws {
        try HostTools.require(HostTools.dnsmasq, package: "dnsmasq")
        tree = FileManager.default.temporaryDirectory.appendingPathComponent("nsim-hostnet-tree-\(UUID().uuidString.prefix(8))")
        let fm = FileManager.default
        try fm.createDirectory(at: tree.appendingPathComponent("pxelinux.cfg"), withIntermediateDirectories: true)
        for name in ["pxelinux.0", "ldlinux.c32", "vmlinuz", "pxelinux.cfg/default"] {
            try fm.copyItem(at: HostTools.fixtures.appendingPathComponent(name), to: tree.appendingPathComponent(name))
        }
        // Deterministic bytes (a 64-bit linear congruential generator), so a
        // failure reproduces with the same initrd.
        var state: UInt64 = 0x6E69_6373_696D
        var initrd = [UInt8](repeating: 0, count: Self.initrdSize)
        for i in initrd.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            initrd[i] = UInt8(truncatingIfNeeded: state >> 33)
        }
        try Data(initrd).write(to: tree.appendingPathComponent("initrd.img"))
    }

    override func tearDown() {
        if let tree { try? FileManager.default.removeItem(at: tree) }
    }

    private func dnsmasq(_ ns: NetworkNamespaces, on interface: String) throws -> Background {
        let d = Background("/bin/bash", [NetworkNamespaces.scripts.appendingPathComponent("dnsmasq-pxe.sh").path, ns.server, interface,
                                         tree.path, "full"])
        try d.start()
        XCTAssertTrue(d.wait(for: "TFTP root is", timeout: 10), d.output)
        return d
    }

    /// The files pxelinux fetched, hashed as dnsmasq's copies, and its
    /// configuration search, each "not found" by dnsmasq.
    private func assertFiles(_ r: BootJSON, file: StaticString = #filePath, line: UInt = #line) throws {
        try r.assertMatches(root: tree, names: BootTransferTests.pxelinuxFiles, file: file, line: line)
        XCTAssertEqual(Set(r.files.compactMap(\.server)), ["192.168.77.1"], file: file, line: line)
        XCTAssertEqual(r.files.last?.size, Self.initrdSize, file: file, line: line)
        let failed = r.failed ?? []
        XCTAssertEqual(failed.map(\.name), BootTransferTests.configSearch(ip: r.lease.ip), file: file, line: line)
        for f in failed {
            XCTAssertEqual(f.code, 1, f.name, file: file, line: line)
            // dnsmasq names the path it looked for.
            XCTAssertEqual(f.error, "TFTP error 1 (File not found): file \(tree.path)/\(f.name) not found for \(r.lease.ip)", f.name,
                           file: file, line: line)
        }
    }

    private func decode(_ output: String) throws -> (BootJSON, HostJSON) {
        let json = output.split(separator: "\n").first { $0.hasPrefix("{") }.map(String.init) ?? ""
        let data = Data(json.utf8)
        return (try JSONDecoder().decode(BootJSON.self, from: data), try JSONDecoder().decode(HostJSON.self, from: data))
    }

    /// Samples the interface's flags every 100 ms while it runs.
    private func flagSampler(_ ns: NetworkNamespaces, namespace: String, interface: String) throws -> Background {
        try ns.start(in: namespace, ["/bin/sh", "-c", "while true; do cat /sys/class/net/\(interface)/flags; sleep 0.1; done"])
    }

    private static func promiscuousSamples(_ output: String) -> (samples: Int, promiscuous: Int) {
        let values = output.split(separator: "\n").compactMap { Int($0.dropFirst(2), radix: 16) }
        return (values.count, values.filter { $0 & 0x100 != 0 }.count)
    }

    // The headline: a default veth, dnsmasq behind it, and the exec boot
    // reaches the kernel. Every DHCP and TFTP frame dnsmasq's stack sent
    // carried a partial checksum, finished by nicsim; the veth never went
    // promiscuous.
    private func bootOverDefaultVeth(model: String) throws {
        let ns = try NetworkNamespaces("hn-\(model.prefix(6))")
        defer { ns.down() }
        let d = try dnsmasq(ns, on: "srv0")
        defer { d.stop() }
        let sampler = try flagSampler(ns, namespace: ns.client, interface: "cli0")
        let r = try ns.run(in: ns.client, [NicsimProcess.binary.path, "boot", "--model", model, "--bridge", "cli0",
                                           "--until", "bytes at 0x", "--timeout", "60", "--json"], timeout: 180)
        sampler.stop()
        XCTAssertEqual(r.status, 0, r.output)
        let (boot, host) = try decode(r.output)
        XCTAssertTrue(boot.lease.ip.hasPrefix("192.168.77."), boot.lease.ip)
        XCTAssertEqual(boot.nbp, "exec")
        XCTAssertTrue(boot.console?.contains("initrd: 0x00100000 bytes") == true, boot.console ?? "")
        try assertFiles(boot)
        let link = try XCTUnwrap(host.host)
        XCTAssertEqual(link.interface, "cli0")
        XCTAssertTrue(link.addressFilter.hasPrefix("not promiscuous"), link.addressFilter)
        // At least the offer, the ack and every TFTP data block (1 MiB in 1432-byte blocks).
        XCTAssertGreaterThan(link.checksumsCompleted, 700)
        let flags = Self.promiscuousSamples(sampler.output)
        XCTAssertGreaterThan(flags.samples, 5)
        XCTAssertEqual(flags.promiscuous, 0, "cli0 was promiscuous in \(flags.promiscuous) of \(flags.samples) samples")
        XCTAssertTrue(d.output.contains("sent \(tree.path)/initrd.img"), d.output)
    }

    func testRTL8139BootsOverADefaultVeth() throws { try bootOverDefaultVeth(model: "rtl8139") }
    func testNE2000BootsOverADefaultVeth() throws { try bootOverDefaultVeth(model: "ne2000") }
    func testVirtioNetBootsOverADefaultVeth() throws { try bootOverDefaultVeth(model: "virtio-net") }

    // With completion off, the frames reach the guest as the veth carried
    // them: dnsmasq offers, the PXE ROM's stack drops every offer for its
    // bad UDP checksum, and the boot ends with PXE-E51.
    func testWithoutCompletionTheGuestDropsEveryOffer() throws {
        let ns = try NetworkNamespaces("hn-nocsum")
        defer { ns.down() }
        let d = try dnsmasq(ns, on: "srv0")
        defer { d.stop() }
        let r = try ns.run(in: ns.client, [NicsimProcess.binary.path, "boot", "--bridge", "cli0", "--no-checksum-completion",
                                           "--timeout", "90"], timeout: 180)
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.output.contains("PXE-E51: No DHCP or proxyDHCP offers were received."), r.output)
        XCTAssertTrue(d.output.contains("DHCPOFFER(srv0)"), d.output)
    }

    // A server on this very host: dnsmasq on a Linux bridge, and the client
    // on a TAP that nicsim creates in that bridge, as root would, then runs
    // as nobody. The TAP is gone afterwards.
    func testTapInALinuxBridgeBootsFromDnsmasqOnTheSameHost() throws {
        let ns = try NetworkNamespaces("hn-tap")
        defer { ns.down() }
        try ns.run(in: ns.server, [HostTools.ip, "link", "add", "br0", "type", "bridge"])
        try ns.run(in: ns.server, [HostTools.ip, "link", "set", "br0", "up"])
        let d = try dnsmasq(ns, on: "br0")
        defer { d.stop() }
        let users = try ns.start(in: ns.server, ["/bin/sh", "-c", "while true; do ps -o user= -C nicsim; sleep 0.1; done"])
        let r = try ns.run(in: ns.server, [NicsimProcess.binary.path, "boot", "--model", "virtio-net", "--tap", "nsimtap0", "--attach", "br0",
                                           "--user", "nobody", "--until", "bytes at 0x", "--timeout", "60", "--json"], timeout: 180)
        users.stop()
        XCTAssertEqual(r.status, 0, r.output)
        let (boot, host) = try decode(r.output)
        XCTAssertTrue(boot.lease.ip.hasPrefix("192.168.77."), boot.lease.ip)
        XCTAssertTrue(boot.console?.contains("initrd: 0x00100000 bytes") == true, boot.console ?? "")
        try assertFiles(boot)
        XCTAssertEqual(host.network, "TAP nsimtap0 in bridge br0")
        XCTAssertGreaterThan(host.host?.checksumsCompleted ?? 0, 700)
        XCTAssertTrue(d.output.contains("sent \(tree.path)/vmlinuz"), d.output)
        // Once the TAP was open, nicsim ran as nobody.
        XCTAssertTrue(users.output.contains("nobody"), users.output)
        let left = try ns.run(in: ns.server, [HostTools.ip, "link", "show", "nsimtap0"])
        XCTAssertNotEqual(left.status, 0, "the TAP nicsim created is still there: \(left.output)")
    }

    // `serve` on a TAP too: two nicsims, server and client, each on a TAP
    // in one Linux bridge, as two VMs on libvirt's virbr0 would be.
    func testServeOnATapBootsAClientOnAnotherTap() throws {
        let ns = try NetworkNamespaces("hn-tap2")
        defer { ns.down() }
        try ns.run(in: ns.server, [HostTools.ip, "link", "add", "br0", "type", "bridge"])
        try ns.run(in: ns.server, [HostTools.ip, "link", "set", "br0", "up"])
        let server = try ns.start(in: ns.server, [NicsimProcess.binary.path, "serve", "--dir", tree.path, "--tap", "nsimsrv0", "--attach", "br0",
                                                  "--range", "192.168.88.100-192.168.88.120", "--server-ip", "192.168.88.2"])
        defer { server.stop() }
        XCTAssertTrue(server.wait(for: "TFTP root", timeout: 10), server.output)
        let r = try ns.run(in: ns.server, [NicsimProcess.binary.path, "boot", "--model", "rtl8139", "--tap", "nsimcli0", "--attach", "br0",
                                           "--until", "bytes at 0x", "--timeout", "60", "--json"], timeout: 180)
        XCTAssertEqual(r.status, 0, r.output)
        let (boot, _) = try decode(r.output)
        XCTAssertEqual(boot.lease.ip, "192.168.88.100")
        try boot.assertMatches(root: tree, names: BootTransferTests.pxelinuxFiles)
        XCTAssertTrue(server.output.contains("TAP nsimsrv0 in bridge br0"), server.output)
    }

    // TCP from a host's stack over a default veth comes as 64 KiB
    // super-frames (segmentation offload): iPXE fetches 1 MiB over HTTP
    // from a server behind the veth because nicsim cuts them to the MTU.
    func testIPXEFetchesOverHTTPThroughADefaultVeth() throws {
        let ns = try NetworkNamespaces("hn-http")
        defer { ns.down() }
        try Data("#!ipxe\nimgfetch http://192.168.77.1:8080/initrd.img && echo nicsim-http-ok || echo nicsim-http-failed\necho nicsim-http-done\n".utf8)
            .write(to: tree.appendingPathComponent("boot.ipxe"))
        let d = Background("/bin/bash", [NetworkNamespaces.scripts.appendingPathComponent("dnsmasq-pxe.sh").path, ns.server, "srv0",
                                         tree.path, "ipxe", "undionly.kpxe"])
        try d.start()
        defer { d.stop() }
        XCTAssertTrue(d.wait(for: "TFTP root is", timeout: 10), d.output)
        let http = try ns.start(in: ns.server, ["/usr/bin/python3", "-u", "-m", "http.server", "8080", "--bind", "192.168.77.1", "--directory", tree.path])
        defer { http.stop() }
        XCTAssertTrue(http.wait(for: "Serving HTTP", timeout: 10), http.output)
        let r = try ns.run(in: ns.client, [NicsimProcess.binary.path, "boot", "--rom", "/usr/lib/ipxe/qemu/pxe-rtl8139.rom", "--bridge", "cli0",
                                           "--until", "nicsim-http-done", "--timeout", "60", "--json"], timeout: 240)
        XCTAssertEqual(r.status, 0, r.output)
        let json = r.output.split(separator: "\n").first { $0.hasPrefix("{") }.map(String.init) ?? ""
        let host = try JSONDecoder().decode(HostJSON.self, from: Data(json.utf8))
        XCTAssertTrue(host.console?.contains("nicsim-http-ok") == true, host.console ?? "")
        XCTAssertGreaterThan(host.host?.framesSegmented ?? 0, 10)
        XCTAssertTrue(http.output.contains("GET /initrd.img HTTP/1.1\" 200"), http.output)
    }

    // MARK: Errors and advice: one line each

    func testAttachWithoutTapIsAUsageError() throws {
        let r = try NicsimProcess.run(["boot", "--attach", "br0"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "nicsim: error: --attach needs --tap (it names the bridge the TAP joins)\n")
    }

    func testBridgeAndTapTogetherIsAUsageError() throws {
        let r = try NicsimProcess.run(["serve", "--dir", "/tmp", "--bridge", "eth0", "--tap", "t0"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "nicsim: error: --bridge and --tap can't be used together\n")
    }

    func testUnknownUserIsOneLine() throws {
        let r = try NicsimProcess.run(["boot", "--nbp", "builtin", "--user", "no-such-user-here"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "nicsim: error: --user no-such-user-here: no such user (see /etc/passwd)\n")
    }

    // --bridge on a Linux bridge: one line of advice, then the run goes on.
    func testBridgingALinuxBridgeAdvisesATap() throws {
        let ns = try NetworkNamespaces("hn-advice")
        defer { ns.down() }
        try ns.run(in: ns.client, [HostTools.ip, "link", "add", "br7", "type", "bridge"])
        try ns.run(in: ns.client, [HostTools.ip, "link", "set", "br7", "up"])
        let r = try ns.run(in: ns.client, [NicsimProcess.binary.path, "rom", "run", "/usr/lib/ipxe/qemu/pxe-rtl8139.rom", "--model", "rtl8139",
                                           "--bridge", "br7", "--timeout", "1"], timeout: 60)
        XCTAssertTrue(r.output.contains("nicsim: note: br7 is a Linux bridge"), r.output)
        XCTAssertTrue(r.output.contains("use --tap NAME --attach BRIDGE"), r.output)
    }
}
