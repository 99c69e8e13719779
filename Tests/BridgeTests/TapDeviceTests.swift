import Bridge
import Foundation
import NICCore
import XCTest

extension TapDevice: PollSource {}

/// The TAP backend in a namespace of ours, nsim-bridge-tap, holding a
/// Linux bridge br0 (10.79.0.1/24): the host's own stack is the peer, as
/// for a DHCP/TFTP server running on the same machine.
final class TapDeviceTests: XCTestCase {
    private var ns: TestNamespace!
    private let ourMAC = MACAddress(0x02, 0x4E, 0x53, 0x00, 0x00, 0x21)

    override func setUpWithError() throws {
        ns = try TestNamespace("tap")
        try ns.exec("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
        try ns.exec("ip", "link", "add", "br0", "type", "bridge")
        try ns.exec("ip", "addr", "add", "10.79.0.1/24", "dev", "br0")
        try ns.exec("ip", "link", "set", "br0", "up")
    }

    override func tearDown() { ns?.remove() }

    private func exists(_ name: String) throws -> Bool {
        try ExternalTool.run("ip", ["netns", "exec", ns.name, "ip", "link", "show", name], allowFailure: true).status == 0
    }

    private func master(_ name: String) throws -> String? {
        let out = try ns.exec("ip", "-o", "link", "show", name).out
        guard let range = out.range(of: " master ") else { return nil }
        return out[range.upperBound...].split(separator: " ").first.map(String.init)
    }

    /// An ARP request for `ip` from `mac`.
    private func arpRequest(for ip: [UInt8], from mac: MACAddress, senderIP: [UInt8]) -> [UInt8] {
        MACAddress.broadcast.bytes + mac.bytes + [0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1] + mac.bytes + senderIP
            + [0, 0, 0, 0, 0, 0] + ip + Array(repeating: 0, count: 18)
    }

    // A TAP that did not exist is created, brought up, put in the bridge,
    // and gone again when nicsim closes it.
    func testMissingTapIsCreatedAttachedAndRemovedAtClose() throws {
        let station = TestStation(mac: ourMAC)
        let tap = try TapDevice(name: "nt0", port: station.port, attach: "br0", networkNamespace: ns.name)
        XCTAssertTrue(tap.created)
        XCTAssertTrue(try ns.exec("ip", "-o", "link", "show", "nt0").out.contains(",UP"))
        XCTAssertEqual(try master("nt0"), "br0")
        XCTAssertTrue(station.port.isLinkUp)
        tap.close()
        XCTAssertFalse(try exists("nt0"))
        XCTAssertFalse(station.port.isLinkUp)
    }

    // Both directions through the bridge: our ARP request reaches br0's
    // stack, and its reply comes back to the card.
    func testFramesCrossTheBridgeBothWays() throws {
        let station = TestStation(mac: ourMAC)
        let tap = try TapDevice(name: "nt0", port: station.port, attach: "br0", networkNamespace: ns.name)
        defer { tap.close() }
        arpRequest(for: [10, 79, 0, 1], from: ourMAC, senderIP: [10, 79, 0, 5]).withUnsafeBytes { station.port.transmit($0) }
        XCTAssertTrue(pollUntil([tap], seconds: 5) {
            station.received.contains { $0.count >= 42 && $0[12] == 0x08 && $0[13] == 0x06 && $0[21] == 2 && Array($0[28..<32]) == [10, 79, 0, 1] }
        }, "no ARP reply from br0 (\(station.received.count) frames)")
        XCTAssertEqual(tap.counters.framesOut, 1)
        XCTAssertEqual(tap.counters.framesIn, station.received.count)
    }

    /// One datagram from the namespace's stack to our MAC through br0, as
    /// the card receives it, and the TAP's counters.
    private func receiveUDP(completeChecksums: Bool) throws -> (frame: [UInt8], counters: HostLinkCounters) {
        let station = TestStation(mac: ourMAC)
        let tap = try TapDevice(name: "nt0", port: station.port, attach: "br0", completeChecksums: completeChecksums,
                                networkNamespace: ns.name)
        defer { tap.close() }
        try ns.exec("ip", "neigh", "replace", "10.79.0.5", "lladdr", "\(ourMAC)", "dev", "br0", "nud", "permanent")
        try ns.exec("bash", "-c", "echo nicsim-tap > /dev/udp/10.79.0.5/9")
        let isUDP: ([UInt8]) -> Bool = { $0.count > 42 && $0[12] == 0x08 && $0[13] == 0 && $0[23] == 17 }
        XCTAssertTrue(pollUntil([tap], seconds: 5) { station.received.contains(where: isUDP) })
        return (try XCTUnwrap(station.received.first(where: isUDP)), tap.counters)
    }

    // The host's stack leaves UDP checksums to the reader (NEEDS_CSUM in the
    // virtio-net header); nicsim finishes them as a NIC would.
    func testNeedsChecksumFramesArriveComplete() throws {
        let (frame, counters) = try receiveUDP(completeChecksums: true)
        XCTAssertEqual(frame.withUnsafeBytes { ChecksumOffload.transportChecksumIsValid($0) }, true)
        XCTAssertGreaterThanOrEqual(counters.checksumsCompleted, 1)
    }

    // Without completion the frame comes as the kernel left it: partial.
    func testCompletionOffLeavesThePartialChecksum() throws {
        let (frame, counters) = try receiveUDP(completeChecksums: false)
        XCTAssertEqual(frame.withUnsafeBytes { ChecksumOffload.transportChecksumIsValid($0) }, false)
        XCTAssertEqual(counters.checksumsCompleted, 0)
    }

    // A persistent TAP someone made is used as it is and left behind, out
    // of the bridge nicsim put it in.
    func testExistingTapIsKeptAndLeavesTheBridgeAtClose() throws {
        try ns.exec("ip", "tuntap", "add", "mode", "tap", "nt1")
        let tap = try TapDevice(name: "nt1", port: TestStation(mac: ourMAC).port, attach: "br0", networkNamespace: ns.name)
        XCTAssertFalse(tap.created)
        XCTAssertEqual(try master("nt1"), "br0")
        tap.close()
        XCTAssertTrue(try exists("nt1"))
        XCTAssertNil(try master("nt1"))
    }

    // MARK: Errors: one line each, saying what to do

    func testBadNameIsOneClearLine() {
        XCTAssertThrowsError(try TapDevice(name: "much-too-long-name", port: FramePort(), networkNamespace: ns.name)) { e in
            XCTAssertEqual("\(e)", "TAP name much-too-long-name is not valid: use 1 to 15 characters without '/', spaces or '%'")
        }
    }

    func testAttachingToSomethingThatIsNoBridgeIsOneClearLine() throws {
        XCTAssertThrowsError(try TapDevice(name: "nt2", port: FramePort(), attach: "lo", networkNamespace: ns.name)) { e in
            XCTAssertEqual("\(e)", "cannot attach TAP nt2 to lo: lo is not a Linux bridge here (create it with `ip link add lo type bridge`)")
        }
        XCTAssertFalse(try exists("nt2"))
    }

    func testMissingCapNetAdminIsOneClearLine() throws {
        var message = ""
        let failure = ThreadCapabilities.withoutNetworkCapabilities {
            do {
                _ = try TapDevice(name: "nt3", port: FramePort(), networkNamespace: ns.name)
                message = "opened without CAP_NET_ADMIN"
            } catch {
                message = "\(error)"
            }
        }
        XCTAssertNil(failure)
        XCTAssertTrue(message.hasPrefix("no permission to open TAP nt3: run nicsim as root, give it CAP_NET_ADMIN"), message)
    }
}
