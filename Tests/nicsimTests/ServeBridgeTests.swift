import Foundation
import XCTest

/// `nicsim serve --bridge` on one end of a veth pair, answering a Linux
/// kernel stack (ARP) and curl's TFTP client (RFC 1350 with blksize and
/// tsize) in the other namespace.
final class ServeBridgeTests: XCTestCase {
    func testCurlFetchesEveryFixtureThroughServeBridge() throws {
        try HostTools.require(HostTools.curl, package: "curl")
        let ns = try NetworkNamespaces("curl")
        defer { ns.down() }
        try ns.run(in: ns.client, [HostTools.ip, "addr", "add", "192.168.77.50/24", "dev", "cli0"])
        let server = try ns.start(in: ns.server, [NicsimProcess.binary.path, "serve", "--dir", HostTools.fixtures.path,
                                                  "--bridge", "srv0", "--range", "192.168.77.100-192.168.77.120"])
        defer { server.stop() }
        XCTAssertTrue(server.wait(for: "TFTP root", timeout: 10), server.output)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-curl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        for (name, blksize) in [("pxelinux.0", "512"), ("pxelinux.cfg/default", "1468"), ("vmlinuz", "1468"), ("initrd.img", "1024")] {
            let dest = out.appendingPathComponent(name.replacingOccurrences(of: "/", with: "_")).path
            let r = try ns.run(in: ns.client, [HostTools.curl, "-sS", "--max-time", "20", "--tftp-blksize", blksize,
                                               "-o", dest, "tftp://192.168.77.2/\(name)"])
            XCTAssertEqual(r.status, 0, "curl \(name): \(r.output)\n\(server.output)")
            XCTAssertEqual(try sha256(dest), try sha256(HostTools.fixtures.appendingPathComponent(name).path), name)
        }
        let kernelSize = try FileManager.default.attributesOfItem(atPath: HostTools.fixtures.appendingPathComponent("vmlinuz").path)[.size] as? Int
        XCTAssertTrue(server.output.contains("sent vmlinuz to 192.168.77.50 (\(kernelSize ?? -1) bytes"), server.output)
        // The stop summary lists curl's four files under cli0's MAC.
        server.stop()
        XCTAssertTrue(server.output.contains("(192.168.77.50) fetched 4 files, 0 failed"), server.output)
        for name in ["pxelinux.0", "pxelinux.cfg/default", "vmlinuz", "initrd.img"] {
            XCTAssertTrue(server.output.contains("bytes  sha256 \(try sha256(HostTools.fixtures.appendingPathComponent(name).path))"),
                          "\(name) missing from:\n\(server.output)")
        }
    }

    func testMissingFileIsReportedToCurl() throws {
        try HostTools.require(HostTools.curl, package: "curl")
        let ns = try NetworkNamespaces("nofile")
        defer { ns.down() }
        try ns.run(in: ns.client, [HostTools.ip, "addr", "add", "192.168.77.50/24", "dev", "cli0"])
        let server = try ns.start(in: ns.server, [NicsimProcess.binary.path, "serve", "--dir", HostTools.fixtures.path,
                                                  "--bridge", "srv0", "--range", "192.168.77.100-192.168.77.120"])
        defer { server.stop() }
        XCTAssertTrue(server.wait(for: "TFTP root", timeout: 10), server.output)
        let r = try ns.run(in: ns.client, [HostTools.curl, "-sS", "--max-time", "10", "-o", "/dev/null", "tftp://192.168.77.2/no-such-file"])
        // curl exit 68: "TFTP server: file not found" (TFTP error 1).
        XCTAssertEqual(r.status, 68, r.output)
        server.stop()
        XCTAssertTrue(server.output.contains("(192.168.77.50) fetched 0 files, 1 failed"), server.output)
        XCTAssertTrue(server.output.contains("    no-such-file  TFTP error 1 (File not found)"), server.output)
    }

    /// `--dhcp-only` is a plain DHCP server beside a proxyDHCP: it needs no
    /// --dir, and with one it still serves no TFTP (it runs as root on a
    /// host interface, where the README's example named /tmp). curl's
    /// read request goes unanswered until curl gives up.
    func testDHCPOnlyServesNoTFTP() throws {
        try HostTools.require(HostTools.curl, package: "curl")
        let ns = try NetworkNamespaces("dhcponly")
        defer { ns.down() }
        try ns.run(in: ns.client, [HostTools.ip, "addr", "add", "192.168.77.50/24", "dev", "cli0"])
        let server = try ns.start(in: ns.server, [NicsimProcess.binary.path, "serve", "--dhcp-only", "--dir", HostTools.fixtures.path,
                                                  "--bridge", "srv0", "--range", "192.168.77.100-192.168.77.120"])
        defer { server.stop() }
        XCTAssertTrue(server.wait(for: "no TFTP", timeout: 10), server.output)
        let r = try ns.run(in: ns.client, [HostTools.curl, "-sS", "--max-time", "3", "-o", "/dev/null", "tftp://192.168.77.2/pxelinux.0"])
        // curl exit 28: operation timed out (nothing answered).
        XCTAssertEqual(r.status, 28, r.output)
        XCTAssertFalse(server.output.contains("tftp:"), server.output)
    }

    func testDHCPOnlyNeedsNoDirectory() throws {
        let r = try NicsimProcess.run(["serve", "--dhcp-only", "--bridge", "nsim-no-such-if"])
        XCTAssertEqual(r.status, 1, "past validation, stopped by the missing interface")
        XCTAssertFalse(r.stderr.contains("--dir"), r.stderr)
    }

    func testServeWithoutDHCPOnlyNeedsADirectory() throws {
        let r = try NicsimProcess.run(["serve", "--qemu-socket", "/tmp/nsim-bootserver-x.sock"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("--dir"), r.stderr)
    }

    func testServeRefusesAMissingDirectory() throws {
        let r = try NicsimProcess.run(["serve", "--dir", "/nonexistent/nicsim", "--qemu-socket", "/tmp/nsim-bootserver-x.sock"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("nicsim: error: TFTP root '/nonexistent/nicsim' is not a readable directory"), r.stderr)
    }

    func testServeNeedsExactlyOneNetwork() throws {
        let r = try NicsimProcess.run(["serve", "--dir", "/tmp"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("give one of --bridge IFACE, --tap NAME or --qemu-socket PATH"), r.stderr)
    }

    func testServeReportsAnUnknownInterface() throws {
        let r = try NicsimProcess.run(["serve", "--dir", "/tmp", "--bridge", "nsim-no-such-if"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("nsim-no-such-if"), r.stderr)
    }
}
