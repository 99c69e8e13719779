import Foundation
import XCTest

/// `nicsim serve --bridge --http-port` on one end of a veth pair (default
/// offloads), answering the Linux kernel's TCP (window scaling, SACK and
/// timestamps offered, TSO super-frames cut by the host link) and curl's
/// HTTP client in the other namespace.
final class ServeHTTPBridgeTests: XCTestCase {
    func testCurlFetchesOverHTTPWithRangeHeadAndKeepAlive() throws {
        try HostTools.require(HostTools.curl, package: "curl")
        let ns = try NetworkNamespaces("http")
        defer { ns.down() }
        try ns.run(in: ns.client, [HostTools.ip, "addr", "add", "192.168.77.50/24", "dev", "cli0"])
        let server = try ns.start(in: ns.server, [NicsimProcess.binary.path, "serve", "--dir", HostTools.fixtures.path,
                                                  "--bridge", "srv0", "--range", "192.168.77.100-192.168.77.120", "--http-port", "8080"])
        defer { server.stop() }
        XCTAssertTrue(server.wait(for: "HTTP port 8080", timeout: 10), server.output)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-curl-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }

        // Three files on one connection (curl reuses it: HTTP/1.1 keep-alive).
        let names = ["initrd.img", "ldlinux.c32", "pxelinux.cfg/default"]
        var arguments = [HostTools.curl, "-sS", "--max-time", "30", "-w", "%{http_code} %{size_download} %{num_connects}\\n"]
        for name in names {
            arguments += ["-o", out.appendingPathComponent(name.replacingOccurrences(of: "/", with: "_")).path, "http://192.168.77.2:8080/\(name)"]
        }
        let r = try ns.run(in: ns.client, arguments)
        XCTAssertEqual(r.status, 0, "curl: \(r.output)\n\(server.output)")
        let lines = r.output.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, r.output)
        XCTAssertEqual(lines.map { $0.split(separator: " ")[0] }, ["200", "200", "200"], r.output)
        XCTAssertEqual(lines.map { $0.split(separator: " ")[2] }, ["1", "0", "0"], "one connection for all three: \(r.output)")
        for name in names {
            XCTAssertEqual(try sha256(out.appendingPathComponent(name.replacingOccurrences(of: "/", with: "_")).path),
                           try sha256(HostTools.fixtures.appendingPathComponent(name).path), name)
        }

        // A byte range (206) and a HEAD.
        let range = try ns.run(in: ns.client, [HostTools.curl, "-sS", "--max-time", "10", "-r", "1000-1999", "-o",
                                               out.appendingPathComponent("part").path, "-w", "%{http_code}", "http://192.168.77.2:8080/pxelinux.0"])
        XCTAssertEqual(range.output, "206", range.output)
        let whole = try Data(contentsOf: HostTools.fixtures.appendingPathComponent("pxelinux.0"))
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("part")), whole[1000..<2000])
        let head = try ns.run(in: ns.client, [HostTools.curl, "-sS", "--max-time", "10", "-I", "http://192.168.77.2:8080/pxelinux.0"])
        XCTAssertTrue(head.output.contains("Content-Length: \(whole.count)"), head.output)

        // A name outside the root and a missing file.
        let missing = try ns.run(in: ns.client, [HostTools.curl, "-s", "--max-time", "10", "-w", "%{http_code}", "--path-as-is",
                                                 "-o", "/dev/null", "http://192.168.77.2:8080/../etc/passwd",
                                                 "-o", "/dev/null", "http://192.168.77.2:8080/nope"])
        XCTAssertEqual(missing.output, "403404", missing.output)
        server.stop()
        XCTAssertTrue(server.output.contains("http: 192.168.77.50 GET /initrd.img 200 (131849 bytes)"), server.output)
    }
}
