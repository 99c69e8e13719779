import Board
import Foundation
import Bridge
import NE2000
import NICCore
import RTL8139
import UNDI
import XCTest

/// Real NIC models on a nicsim switch, driven by their UNDI drivers through
/// the Board's buses: an RTL8139 at 00:03.0 and an RTL8029 (NE2000) at
/// 00:04.0 on one board, their wire sides joined by a VirtualSwitch.
final class SwitchedNICTests: XCTestCase {
    let rtlMAC = MACAddress(0x52, 0x54, 0x00, 0x00, 0x81, 0x39)
    let neMAC = MACAddress(0x00, 0x20, 0x18, 0x29, 0x80, 0x01)

    private struct Rig {
        let board: Board
        let sw: VirtualSwitch
        let rtl: RTL8139Driver
        let ne: NE2000Driver
        let nePort: SwitchPort
    }

    private func makeRig(faultsTowardsNE2000 faults: FaultProfile = .none) throws -> Rig {
        let board = Board(memorySize: 64 << 20)
        let rtlCard = RTL8139(macAddress: rtlMAC, memory: board.memory, clock: board.clock)
        let neCard = RTL8029(macAddress: neMAC)
        board.attach(rtlCard, at: PCIAddress(device: 3))
        board.attach(neCard, at: PCIAddress(device: 4))
        board.assignResources()
        board.add(port: rtlCard.port)
        board.add(port: neCard.port)
        let sw = VirtualSwitch(clock: board.clock, seed: 3)
        sw.connect(device: rtlCard.port)
        let nePort = sw.connect(device: neCard.port, faults: faults)
        let bus = DriverBus(board: board)
        let rtl = RTL8139Driver(bus: bus, address: PCIAddress(device: 3))
        let ne = NE2000Driver(bus: bus, location: .pci(PCIAddress(device: 4)))
        try rtl.probe()
        try ne.probe()
        try rtl.open(filter: [.directed, .broadcast], multicast: [])
        try ne.open(filter: [.directed, .broadcast], multicast: [])
        return Rig(board: board, sw: sw, rtl: rtl, ne: ne, nePort: nePort)
    }

    private func frame(_ n: Int, from source: MACAddress, to destination: MACAddress) -> [UInt8] {
        var f = destination.bytes + source.bytes + [0x88, 0xB5, UInt8(n >> 8), UInt8(n & 0xFF)]
        while f.count < 60 + n % 400 { f.append(UInt8(truncatingIfNeeded: f.count &* 13 &+ n)) }
        return f
    }

    private func send(_ frame: [UInt8], through driver: NICDriver) throws {
        var failure: (any Error)?
        frame.withUnsafeBytes { bytes in
            do { try driver.transmit(bytes) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Receives every frame the driver has.
    private func drain(_ driver: NICDriver, _ board: Board) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        for _ in 0..<1000 {
            board.step()
            guard let n = buffer.withUnsafeMutableBytes({ driver.receive(into: $0) }) else { break }
            out.append(Array(buffer[0..<n]))
        }
        return out
    }

    // The RTL8139 driver's frames cross the switch into the NE2000 and come
    // out of its driver byte for byte; the switch learned both cards.
    func testFramesCrossTheSwitchBetweenTwoRealModels() throws {
        let rig = try makeRig()
        var got: [[UInt8]] = []
        for i in 0..<200 {
            try send(frame(i, from: rtlMAC, to: neMAC), through: rig.rtl)
            got += drain(rig.ne, rig.board)
        }
        XCTAssertEqual(got, (0..<200).map { frame($0, from: rtlMAC, to: neMAC) })
        XCTAssertEqual(rig.sw.port(for: rtlMAC), 0)
        // One frame back teaches the switch where the NE2000 is.
        try send(frame(0, from: neMAC, to: rtlMAC), through: rig.ne)
        XCTAssertEqual(rig.sw.port(for: neMAC), 1)
        XCTAssertEqual(drain(rig.rtl, rig.board), [frame(0, from: neMAC, to: rtlMAC)])
    }

    // Corruption on the NE2000's port: frames with a flipped bit fail the
    // FCS check and never reach the driver; every other frame arrives intact.
    func testCorruptedFramesNeverReachTheDriver() throws {
        let rig = try makeRig(faultsTowardsNE2000: FaultProfile(corruptionRate: 0.2))
        var got: [[UInt8]] = []
        for i in 0..<300 {
            try send(frame(i, from: rtlMAC, to: neMAC), through: rig.rtl)
            got += drain(rig.ne, rig.board)
        }
        let lost = rig.nePort.counters.fcsErrors
        XCTAssertGreaterThan(lost, 30)
        XCTAssertEqual(got.count, 300 - lost)
        for f in got {
            let n = Int(f[14]) << 8 | Int(f[15])
            XCTAssertEqual(f, frame(n, from: rtlMAC, to: neMAC))
        }
    }

    // A real QEMU guest on the same switch as nicsim's NE2000: the guest
    // firmware's DHCPDISCOVER crosses -netdev stream and the switch, and the
    // NE2000 driver (broadcast filter on) receives it from the model.
    func testQEMUGuestBroadcastReachesANicsimNE2000() throws {
        let rig = try makeRig()
        let dir = try ExternalTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/guest.sock"
        let socket = try QEMUSocket(.listen(.unix(path: path)), port: rig.sw.addBackendPort().port)
        rig.board.add(source: socket)
        let qemu = try QEMUGuestTests.startGuest(netdev: "stream,id=n0,server=off,addr.type=unix,addr.path=\(path)")
        defer {
            qemu.process.terminate()
            qemu.process.waitUntilExit()
        }
        var dhcp: [UInt8]?
        let deadline = Date().addingTimeInterval(120)
        while dhcp == nil, Date() < deadline {
            dhcp = drain(rig.ne, rig.board).first { QEMUGuestTests.isDHCPRequest($0) }
            usleep(2_000)
        }
        let frame = try XCTUnwrap(dhcp, "the NE2000 driver never received the guest's DHCP request")
        XCTAssertEqual(MACAddress(bytes: frame.dropFirst(6).prefix(6)), MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56))
        XCTAssertEqual(rig.sw.port(for: MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)), 2)
    }
}
