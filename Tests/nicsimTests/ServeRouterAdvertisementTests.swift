import Foundation
import XCTest

/// `nicsim serve --bridge` answering the Linux kernel's own router
/// discovery: when IPv6 comes up on an interface, Linux solicits routers
/// (RFC 4861 §6.3.7) and, on a valid Router Advertisement (hop limit 255,
/// link-local source, correct checksum, §6.1.2), records the sender as a
/// router in its neighbour table with the advertised link-layer address.
final class ServeRouterAdvertisementTests: XCTestCase {
    /// fe80:: + modified EUI-64 of serve's default MAC 02:6e:69:63:73:01.
    static let serverLinkLocal = "fe80::6e:69ff:fe63:7301"

    /// Starts serve in the server namespace, enables IPv6 on the client
    /// side (netns.sh turns it off) and returns the client's neighbour
    /// entry for the server's link-local address once one shows up, or the
    /// last `ip -6 neigh` output after `seconds`.
    private func neighbourEntry(serveArguments: [String], seconds: Int) throws -> (entry: String, serve: String) {
        let ns = try NetworkNamespaces("serve", prefix: "ra")
        defer { ns.down() }
        let server = try ns.start(in: ns.server, [NicsimProcess.binary.path, "serve", "--dir", HostTools.fixtures.path,
                                                  "--bridge", "srv0"] + serveArguments)
        defer { server.stop() }
        XCTAssertTrue(server.wait(for: "TFTP root", timeout: 10), server.output)
        try ns.run(in: ns.client, ["/usr/sbin/sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0"])
        try ns.run(in: ns.client, ["/usr/sbin/sysctl", "-qw", "net.ipv6.conf.cli0.disable_ipv6=0"])
        var last = ""
        for _ in 0..<(seconds * 5) {
            last = try ns.run(in: ns.client, [HostTools.ip, "-6", "neigh", "show", "dev", "cli0", Self.serverLinkLocal]).output
            if last.contains("lladdr") { break }
            usleep(200_000)
        }
        return (last, server.output)
    }

    func testLinuxRecordsServeAsARouterFromItsAdvertisement() throws {
        let r = try neighbourEntry(serveArguments: [], seconds: 10)
        XCTAssertTrue(r.entry.contains("lladdr 02:6e:69:63:73:01"), "entry: \(r.entry)\nserve: \(r.serve)")
        XCTAssertTrue(r.entry.contains("router"), "entry: \(r.entry)")
        XCTAssertTrue(r.serve.contains("ndp: router advertisement to fe80::"), r.serve)
    }

    func testNoRouterAdvertisementsLeavesLinuxWithoutARouter() throws {
        // Linux solicits at 0 and again 4 s later (rtr_solicit_interval); none is answered.
        let r = try neighbourEntry(serveArguments: ["--no-router-advertisements"], seconds: 6)
        XCTAssertFalse(r.entry.contains("router"), r.entry)
        XCTAssertFalse(r.serve.contains("ndp:"), r.serve)
    }
}
