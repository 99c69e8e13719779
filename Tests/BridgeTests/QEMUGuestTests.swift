import Bridge
import Foundation
import NICCore
import XCTest

/// A real QEMU guest on a nicsim switch: Debian's qemu-system-x86_64 boots
/// SeaBIOS, whose network boot runs the iPXE option ROM of the emulated
/// NIC, which broadcasts DHCPDISCOVER through `-netdev stream` into our
/// switch.
final class QEMUGuestTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = try ExternalTool.temporaryDirectory()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// True for an Ethernet/IPv4/UDP frame to port 67 (BOOTP/DHCP server).
    static func isDHCPRequest(_ f: [UInt8]) -> Bool {
        guard f.count >= 42, f[12] == 0x08, f[13] == 0x00, f[14] >> 4 == 4, f[23] == 17 else { return false }
        let udp = 14 + Int(f[14] & 0x0F) * 4
        return f.count >= udp + 8 && f[udp + 2] == 0 && f[udp + 3] == 67
    }

    /// Starts a diskless guest that network-boots from an RTL8139 on `netdev` (id n0).
    static func startGuest(netdev: String, mac: String = "52:54:00:12:34:56") throws -> ExternalTool.Running {
        try ExternalTool.start("qemu-system-x86_64", [
            "-machine", "pc,accel=tcg", "-m", "64", "-nodefaults", "-display", "none",
            "-serial", "none", "-monitor", "none", "-boot", "n",
            "-netdev", netdev, "-device", "rtl8139,netdev=n0,mac=\(mac)",
        ])
    }

    private func bootGuest(netdev: String, seconds: Double, sources: [any AnyObject & PollSource], until done: () -> Bool) throws -> Bool {
        let qemu = try Self.startGuest(netdev: netdev)
        defer {
            qemu.process.terminate()
            qemu.process.waitUntilExit()
        }
        return pollUntil(sources, seconds: seconds, done)
    }

    // The guest firmware's DHCPDISCOVER arrives through -netdev stream (UNIX),
    // is flooded by the switch to a station, and is in our pcapng capture.
    func testQEMUFirmwareDHCPReachesTheSwitchAndTheCapture() throws {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock, seed: 1)
        let station = TestStation(1)
        sw.connect(device: station.port)
        let capture = try SwitchCapture(path: dir + "/qemu.pcapng", switch: sw)
        let path = dir + "/qemu.sock"
        let socket = try QEMUSocket(.listen(.unix(path: path)), port: sw.addBackendPort().port)
        let guestMAC = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
        let seen = try bootGuest(netdev: "stream,id=n0,server=off,addr.type=unix,addr.path=\(path)", seconds: 120, sources: [socket]) {
            station.received.contains { Self.isDHCPRequest($0) }
        }
        XCTAssertTrue(seen, "no DHCP request from the guest (frames in: \(socket.counters.framesIn))")
        try capture.close()
        let dhcp = station.received.first { Self.isDHCPRequest($0) } ?? []
        XCTAssertEqual(dhcp.prefix(6).elementsEqual(MACAddress.broadcast.bytes), true)
        XCTAssertEqual(MACAddress(bytes: dhcp.dropFirst(6).prefix(6)), guestMAC)
        XCTAssertEqual(sw.port(for: guestMAC), 1, "the switch learned the guest behind the socket's port")

        let captured = try TraceFixtures.readAll(PcapNGReader(path: dir + "/qemu.pcapng"))
        XCTAssertTrue(captured.contains { $0.interface == 1 && $0.direction == .inbound && Self.isDHCPRequest($0.bytes) })
        let discovers = try ExternalTool.run("tshark", ["-n", "-r", dir + "/qemu.pcapng", "-Y", "dhcp.option.dhcp == 1"]).out
        XCTAssertFalse(discovers.isEmpty, "tshark sees a DHCP Discover in our capture")
    }

    // nicsim connecting: QEMU listens (-netdev stream,server=on) and our
    // QEMUSocket connects to it once the socket file appears.
    func testNicsimConnectsToAListeningQEMU() throws {
        let station = TestStation(1)
        let path = dir + "/listen.sock"
        let qemu = try Self.startGuest(netdev: "stream,id=n0,server=on,addr.type=unix,addr.path=\(path)", mac: "52:54:00:12:34:57")
        defer {
            qemu.process.terminate()
            qemu.process.waitUntilExit()
        }
        var socket: QEMUSocket?
        let deadline = Date().addingTimeInterval(30)
        while socket == nil, Date() < deadline, qemu.process.isRunning {
            socket = try? QEMUSocket(.connect(.unix(path: path)), port: station.port)
            if socket == nil { usleep(50_000) }
        }
        let connected = try XCTUnwrap(socket, "could not connect to QEMU's listening socket")
        XCTAssertTrue(station.port.isLinkUp)
        XCTAssertTrue(pollUntil([connected], seconds: 120) { station.received.contains { Self.isDHCPRequest($0) } })
        XCTAssertEqual(MACAddress(bytes: station.received.first { Self.isDHCPRequest($0) }?.dropFirst(6).prefix(6) ?? []),
                       MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x57))
    }

    // Both directions over QEMU's legacy -netdev socket to our TCP listener:
    // we answer the guest's DHCPDISCOVER with a DHCPOFFER, and the guest's
    // iPXE, having received it, sends a DHCPREQUEST for the offered address.
    func testQEMUGuestAnswersOurOfferOverSocketNetdev() throws {
        let server = DHCPOfferResponder()
        let socket = try QEMUSocket(.listen(.tcp(host: "127.0.0.1", port: 0)), port: server.port)
        let port = try XCTUnwrap(socket.boundPort)
        let seen = try bootGuest(netdev: "socket,id=n0,connect=127.0.0.1:\(port)", seconds: 120, sources: [socket]) {
            server.requestedOfferedAddress
        }
        XCTAssertTrue(seen, "no DHCPREQUEST for our offer (frames in: \(socket.counters.framesIn), offers sent: \(server.offers))")
        XCTAssertEqual(socket.counters.protocolErrors, 0)
    }
}

/// Answers every DHCPDISCOVER with a DHCPOFFER of 10.0.2.15 (RFC 2131) and
/// notices a DHCPREQUEST for it (option 53 = 3 with option 50 = 10.0.2.15).
final class DHCPOfferResponder: FrameReceiver {
    let port = FramePort(policy: .drop)
    let mac = MACAddress(0x02, 0, 0, 0, 0, 0x67)
    var offers = 0
    var requestedOfferedAddress = false
    private let offered: [UInt8] = [10, 0, 2, 15]
    private let serverIP: [UInt8] = [10, 0, 2, 2]

    init() { port.receiver = self }

    func linkStateDidChange(up: Bool) {}

    func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
        let f = Array(frame)
        guard QEMUGuestTests.isDHCPRequest(f) else { return .accepted }
        let bootp = 14 + Int(f[14] & 0x0F) * 4 + 8
        guard f.count >= bootp + 240 else { return .accepted }
        let options = Self.options(Array(f[(bootp + 240)...]))
        switch options[53]?.first {
        case 1:
            send(offerFor: f, bootp: bootp)
        case 3 where options[50] == offered:
            requestedOfferedAddress = true
        default:
            break
        }
        return .accepted
    }

    private static func options(_ bytes: [UInt8]) -> [UInt8: [UInt8]] {
        var out: [UInt8: [UInt8]] = [:]
        var i = 0
        while i < bytes.count, bytes[i] != 255 {
            if bytes[i] == 0 { i += 1; continue }
            guard i + 1 < bytes.count, i + 2 + Int(bytes[i + 1]) <= bytes.count else { break }
            out[bytes[i]] = Array(bytes[(i + 2)..<(i + 2 + Int(bytes[i + 1]))])
            i += 2 + Int(bytes[i + 1])
        }
        return out
    }

    private func send(offerFor discover: [UInt8], bootp: Int) {
        var dhcp = [UInt8](repeating: 0, count: 236)
        dhcp[0] = 2; dhcp[1] = 1; dhcp[2] = 6                       // BOOTREPLY, Ethernet, hlen 6
        dhcp.replaceSubrange(4..<8, with: discover[(bootp + 4)..<(bootp + 8)])   // xid
        dhcp[10] = 0x80                                             // broadcast flag
        dhcp.replaceSubrange(16..<20, with: offered)                // yiaddr
        dhcp.replaceSubrange(20..<24, with: serverIP)               // siaddr
        dhcp.replaceSubrange(28..<44, with: discover[(bootp + 28)..<(bootp + 44)])  // chaddr
        dhcp += [99, 130, 83, 99]                                   // magic cookie
        dhcp += [53, 1, 2] + [54, 4] + serverIP + [51, 4, 0, 0, 0x0E, 0x10] + [1, 4, 255, 255, 255, 0] + [3, 4] + serverIP + [255]
        let udpLength = 8 + dhcp.count
        let udp: [UInt8] = [0, 67, 0, 68, UInt8(udpLength >> 8), UInt8(udpLength & 0xFF), 0, 0] + dhcp
        let totalLength = 20 + udp.count
        var ip: [UInt8] = [0x45, 0, UInt8(totalLength >> 8), UInt8(totalLength & 0xFF), 0, 0, 0, 0, 64, 17, 0, 0]
            + serverIP + [255, 255, 255, 255]
        let checksum = ip.withUnsafeBytes { InternetChecksum.compute($0) }
        ip[10] = UInt8(checksum >> 8); ip[11] = UInt8(checksum & 0xFF)
        let frame = MACAddress.broadcast.bytes + mac.bytes + [0x08, 0x00] + ip + udp
        frame.withUnsafeBytes { port.transmit($0) }
        offers += 1
    }
}
