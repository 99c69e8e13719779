import Foundation
import XCTest

/// Target 3 of the machine against real servers: Debian's iPXE option
/// ROMs (ipxe-qemu) run on our three models under `nicsim rom run
/// --bridge`, the NIC bridged through libpcap to a veth whose far end, in
/// another network namespace, has dnsmasq as DHCP and TFTP server
/// (scripts/dnsmasq-pxe.sh, mode ipxe). iPXE's own driver for each card
/// leases an address, dnsmasq recognises its DHCP user class "iPXE"
/// (option 77) and hands it boot.ipxe, iPXE reads the script over TFTP and
/// runs it: its echo of `${net0/ip}` on our console is the proof that the
/// card worked both ways with a real peer on a real link.
///
/// dnsmasq also sends IPv6 router advertisements (ra-only): iPXE ends its
/// configuration step once IPv4 and IPv6 both have an answer, so with the
/// RA the script runs about 5.4 s of virtual time after power-on, and
/// without one only after iPXE's router solicitations give up (18.4 s).
final class DnsmasqIPXEROMTests: XCTestCase {
    private var tree: URL!
    static let roms = "/usr/lib/ipxe/qemu"
    static let script = "#!ipxe\necho nicsim-ipxe-ok ${net0/ip} nicsim-end\n"

    override func setUpWithError() throws {
        try HostTools.require(HostTools.dnsmasq, package: "dnsmasq")
        try HostTools.require("\(Self.roms)/pxe-rtl8139.rom", package: "ipxe-qemu")
        tree = FileManager.default.temporaryDirectory.appendingPathComponent("nsim-realrom-tree-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        try Data(Self.script.utf8).write(to: tree.appendingPathComponent("boot.ipxe"))
    }

    override func tearDown() {
        if let tree { try? FileManager.default.removeItem(at: tree) }
    }

    struct Outcome {
        var json: [String: Any]
        var console: String
        /// The address the script echoed.
        var address: String
        var dnsmasqLog: String
    }

    /// Runs `rom` on `model` bridged to cli0, with dnsmasq (mode ipxe) on
    /// srv0; returns what nicsim and dnsmasq reported.
    private func boot(_ rom: String, model: String, namespace: String) throws -> Outcome {
        let ns = try NetworkNamespaces(namespace, prefix: "realrom")
        defer { ns.down() }
        let d = Background("/bin/bash", [NetworkNamespaces.scripts.appendingPathComponent("dnsmasq-pxe.sh").path,
                                         ns.server, "srv0", tree.path, "ipxe"])
        try d.start()
        defer { d.stop() }
        XCTAssertTrue(d.wait(for: "TFTP root is", timeout: 10), d.output)
        let started = Date()
        let r = try ns.run(in: ns.client, [NicsimProcess.binary.path, "rom", "run", "\(Self.roms)/\(rom)", "--model", model,
                                           "--bridge", "cli0", "--until", "nicsim-end", "--timeout", "60", "--json"], timeout: 240)
        XCTAssertEqual(r.status, 0, r.output)
        let line = r.output.split(separator: "\n").first { $0.hasPrefix("{") }.map(String.init) ?? "{}"
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], r.output)
        let console = json["console"] as? String ?? ""
        let echo = try NSRegularExpression(pattern: #"nicsim-ipxe-ok (192\.168\.77\.[0-9]+) nicsim-end"#)
        let match = echo.firstMatch(in: console, range: NSRange(console.startIndex..., in: console))
        let address = match.flatMap { Range($0.range(at: 1), in: console) }.map { String(console[$0]) } ?? ""
        let virtual = Double((json["virtualTimeNs"] as? NSNumber)?.uint64Value ?? 0) / 1e9
        print("\(rom) on \(model) via dnsmasq: \(virtual) s virtual, \(Date().timeIntervalSince(started)) s wall")
        return Outcome(json: json, console: console, address: address, dnsmasqLog: d.output)
    }

    /// The lease and the script, checked on both sides: the echo with a
    /// 192.168.77.x address on our console, dnsmasq's DHCPACK of that
    /// address to our MAC, and its TFTP "sent" of boot.ipxe to it.
    private func assertScriptRan(_ o: Outcome, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(o.json["stop"] as? String, "condition", o.console, file: file, line: line)
        XCTAssertFalse(o.address.isEmpty, "no script echo with a 192.168.77.x address: \(o.console)", file: file, line: line)
        XCTAssertTrue(o.dnsmasqLog.contains("DHCPACK(srv0) \(o.address) 52:54:00:12:34:56"), o.dnsmasqLog, file: file, line: line)
        XCTAssertTrue(o.dnsmasqLog.contains("sent \(tree.path)/boot.ipxe to \(o.address)"), o.dnsmasqLog, file: file, line: line)
        // dnsmasq's RA ends iPXE's IPv6 wait: well before the 18.4 s it takes without one.
        XCTAssertLessThan((o.json["virtualTimeNs"] as? NSNumber)?.uint64Value ?? .max, 10_000_000_000, o.console, file: file, line: line)
    }

    /// pxe-rtl8139.rom on our RTL8139: iPXE's rtl8139 driver (transmit
    /// descriptors TSAD0-3/TSD0-3, receive ring at RBSTART with CAPR).
    func testRTL8139ROMRunsTheDnsmasqScript() throws {
        assertScriptRan(try boot("pxe-rtl8139.rom", model: "rtl8139", namespace: "rtl8139"))
    }

    /// pxe-ne2k_pci.rom on our RTL8029: iPXE's ns8390 driver (remote DMA
    /// through the data port, the receive ring between PSTART and PSTOP).
    func testNE2000ROMRunsTheDnsmasqScript() throws {
        assertScriptRan(try boot("pxe-ne2k_pci.rom", model: "ne2000", namespace: "ne2000"))
    }

    /// `nicsim boot --rom` takes the same path over boot's `--bridge`: the
    /// ROM's console goes to stdout live, the echo names the dnsmasq lease.
    func testBootROMThroughBridgeRunsTheDnsmasqScript() throws {
        let ns = try NetworkNamespaces("bootrom", prefix: "realrom")
        defer { ns.down() }
        let d = Background("/bin/bash", [NetworkNamespaces.scripts.appendingPathComponent("dnsmasq-pxe.sh").path,
                                         ns.server, "srv0", tree.path, "ipxe"])
        try d.start()
        defer { d.stop() }
        XCTAssertTrue(d.wait(for: "TFTP root is", timeout: 10), d.output)
        let r = try ns.run(in: ns.client, [NicsimProcess.binary.path, "boot", "--rom", "\(Self.roms)/pxe-ne2k_pci.rom", "--model", "ne2000",
                                           "--bridge", "cli0", "--until", "nicsim-end"], timeout: 240)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("via host interface cli0"), r.output)
        let echo = try NSRegularExpression(pattern: #"nicsim-ipxe-ok (192\.168\.77\.[0-9]+) nicsim-end"#)
        let match = echo.firstMatch(in: r.output, range: NSRange(r.output.startIndex..., in: r.output))
        let address = try XCTUnwrap(match.flatMap { Range($0.range(at: 1), in: r.output) }.map { String(r.output[$0]) }, r.output)
        XCTAssertTrue(d.output.contains("DHCPACK(srv0) \(address) 52:54:00:12:34:56"), d.output)
        XCTAssertTrue(d.output.contains("sent \(tree.path)/boot.ipxe to \(address)"), d.output)
    }

    /// pxe-virtio.rom on our transitional virtio-net (rom run's default
    /// interface): iPXE's virtio-net driver through the legacy I/O BAR
    /// and its virtqueues.
    func testVirtioROMRunsTheDnsmasqScript() throws {
        assertScriptRan(try boot("pxe-virtio.rom", model: "virtio-net", namespace: "virtio"))
    }
}
