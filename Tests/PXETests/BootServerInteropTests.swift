import BootServer
import Board
import Bridge
import Foundation
import NE2000
import NICCore
import RTL8139
import UNDI
import VirtioNet
import Wire
import XCTest

@testable import PXE

/// Two ports joined by a cable: each frame one side transmits is handed to
/// the other when the event loop next polls (never from inside the
/// sender's transmit).
final class TestCable: FrameTransmitter, EventSource {
    let a: FramePort
    let b: FramePort
    private var toA: [[UInt8]] = []
    private var toB: [[UInt8]] = []

    init(_ a: FramePort, _ b: FramePort) {
        self.a = a
        self.b = b
        a.transmitter = self
        b.transmitter = self
    }

    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        if port === a { toB.append(Array(frame)) } else { toA.append(Array(frame)) }
    }

    func poll() -> Bool {
        guard !toA.isEmpty || !toB.isEmpty else { return false }
        let forA = toA, forB = toB
        toA = []
        toB = []
        for f in forB { f.withUnsafeBytes { _ = b.offer($0) } }
        for f in forA { f.withUnsafeBytes { _ = a.offer($0) } }
        return true
    }
}

/// The client against nicsim's own boot server (an independent DHCP and
/// TFTP implementation) serving fixtures/tftpboot, on every model: DHCP,
/// pxelinux.0 at 0000:7C00, pxelinux.cfg/default, vmlinuz and initrd.img,
/// each compared byte for byte with the file on disk.
final class BootServerInteropTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/tftpboot").path
    static let mac = MACAddress(0x52, 0x54, 0x00, 0x11, 0x22, 0x33)

    private func file(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: Self.root).appendingPathComponent(name)))
    }

    /// How the client's card reaches the server.
    enum Network {
        /// A cable: frames cross when the event loop polls.
        case cable
        /// nicsim's learning switch, with these faults on the client's port.
        case virtualSwitch(FaultProfile)
    }

    private func boot(_ plug: (Board) throws -> (NICDriver, FramePort), windowSize: Int = 1, network: Network = .cable) throws {
        let board = Board(memorySize: 64 << 20)
        let (driver, port) = try plug(board)
        board.add(port: port)
        var config = BootServerConfiguration(mac: MACAddress(0x02, 0x6E, 0x69, 0x63, 0x00, 0x01), ip: IPv4Address(10, 0, 2, 2),
                                             pool: IPv4Address(10, 0, 2, 15)...IPv4Address(10, 0, 2, 99), tftpRoot: Self.root)
        config.router = IPv4Address(10, 0, 2, 2)
        let server = try BootServer(configuration: config, clock: board.clock)
        var keep: AnyObject
        var clientPort: SwitchPort?
        switch network {
        case .cable:
            let cable = TestCable(port, server.port)
            board.add(source: cable)
            keep = cable
        case .virtualSwitch(let faults):
            let sw = VirtualSwitch(clock: board.clock, seed: 7)
            clientPort = sw.connect(device: port, faults: faults)
            sw.connect(device: server.port)
            board.add(port: server.port)
            keep = sw
        }
        let client = try PXEClient(board: board, driver: driver, identity: PXEClientIdentity(uuid: Array(repeating: 0x5A, count: 16)))
        client.baseCode.tftpOptions.windowSize = windowSize
        let report = try client.boot()

        XCTAssertEqual(report.dhcp.address, IPv4Address(10, 0, 2, 15))
        XCTAssertEqual(report.dhcp.tftpServer, IPv4Address(10, 0, 2, 2))
        XCTAssertEqual(report.nbpFile.name, "pxelinux.0")
        let nbp = try file("pxelinux.0")
        XCTAssertEqual(try board.memory.readBytes(at: 0x7C00, count: nbp.count), nbp)
        XCTAssertEqual(report.nbp.configurationPath, "pxelinux.cfg/default")
        XCTAssertEqual(report.nbp.entry.label, "nicsim")
        let kernel = try file("vmlinuz"), initrd = try file("initrd.img")
        XCTAssertEqual(report.nbp.kernel.size, kernel.count)
        XCTAssertEqual(try board.memory.readBytes(at: report.nbp.kernel.address, count: kernel.count), kernel)
        XCTAssertEqual(report.nbp.initrds.map(\.size), [initrd.count])
        if let rd = report.nbp.initrds.first {
            XCTAssertEqual(try board.memory.readBytes(at: rd.address, count: initrd.count), initrd)
        }
        if let c = clientPort.map(\.counters) {
            // The faults did happen, and the boot still delivered every byte.
            XCTAssertGreaterThan(c.lost, 0)
            XCTAssertGreaterThan(c.duplicated, 0)
            XCTAssertGreaterThan(c.reorderWindows, 0)
        }
        withExtendedLifetime((server, keep)) {}
    }

    func testBootsFromTheBootServerOnRTL8139() throws {
        try boot { board in
            let card = RTL8139(macAddress: Self.mac, memory: board.memory, clock: board.clock)
            board.attach(card, at: PCIAddress(device: 3))
            board.assignResources()
            return (RTL8139Driver(bus: DriverBus(board: board)), card.port)
        }
    }

    func testBootsFromTheBootServerOnVirtioNet() throws {
        try boot { board in
            let card = VirtioNet(configuration: VirtioNetConfiguration(macAddress: Self.mac), memory: board.memory, clock: board.clock)
            board.attach(card, at: PCIAddress(device: 3))
            board.assignResources()
            return (VirtioNetDriver(bus: DriverBus(board: board)), card.port)
        }
    }

    func testBootsFromTheBootServerOnRTL8029() throws {
        try boot { board in
            let card = RTL8029(macAddress: Self.mac, memory: board.memory, clock: board.clock)
            board.attach(card, at: PCIAddress(device: 3))
            board.assignResources()
            return (NE2000Driver(bus: DriverBus(board: board), location: .pci()), card.port)
        }
    }

    func testBootsFromTheBootServerOnISANE2000WithWindowsize() throws {
        try boot({ board in
            let card = NE2000ISA(macAddress: Self.mac, memory: board.memory, clock: board.clock)
            card.interruptLine = try board.attachISA(card, ioBase: card.ioBase, irq: card.irq, name: "ne2000")
            return (NE2000Driver(bus: DriverBus(board: board), location: .isa(ioBase: UInt16(card.ioBase), irq: UInt8(card.irq))), card.port)
        }, windowSize: 8)
    }

    // On the virtual switch, with the wire misbehaving on the client's port:
    // 2 % loss, 2 % duplication, reordering within 4 frames, 200 µs delay.
    static let badWire = FaultProfile(lossRate: 0.02, duplicationRate: 0.02, delay: 200 * VirtualClock.microsecond,
                                      reorderWindow: 4)

    func testBootsAcrossAFaultyVirtualSwitchOnRTL8139() throws {
        try boot({ board in
            let card = RTL8139(macAddress: Self.mac, memory: board.memory, clock: board.clock)
            board.attach(card, at: PCIAddress(device: 3))
            board.assignResources()
            return (RTL8139Driver(bus: DriverBus(board: board)), card.port)
        }, network: .virtualSwitch(Self.badWire))
    }

    func testBootsAcrossAFaultyVirtualSwitchOnVirtioNet() throws {
        try boot({ board in
            let card = VirtioNet(configuration: VirtioNetConfiguration(macAddress: Self.mac), memory: board.memory, clock: board.clock)
            board.attach(card, at: PCIAddress(device: 3))
            board.assignResources()
            return (VirtioNetDriver(bus: DriverBus(board: board)), card.port)
        }, windowSize: 4, network: .virtualSwitch(Self.badWire))
    }

    func testBootsAcrossAFaultyVirtualSwitchOnRTL8029() throws {
        try boot({ board in
            let card = RTL8029(macAddress: Self.mac, memory: board.memory, clock: board.clock)
            board.attach(card, at: PCIAddress(device: 3))
            board.assignResources()
            return (NE2000Driver(bus: DriverBus(board: board), location: .pci()), card.port)
        }, network: .virtualSwitch(Self.badWire))
    }

    func testProxyDHCPBootServerBesideAPlainDHCPServerOnTheSwitch() throws {
        // A plain DHCP server (scripted, address only) and the BootServer as
        // proxyDHCP on one switch: the address comes from the first, the
        // boot file (through the proxy's offer and, when it sends a menu,
        // boot-server discovery on 4011) from the second.
        let board = Board(memorySize: 64 << 20)
        let card = RTL8139(macAddress: Self.mac, memory: board.memory, clock: board.clock)
        board.attach(card, at: PCIAddress(device: 3))
        board.assignResources()
        board.add(port: card.port)
        var config = BootServerConfiguration(mac: MACAddress(0x02, 0x6E, 0x69, 0x63, 0x00, 0x01), ip: IPv4Address(10, 0, 0, 2),
                                             pool: IPv4Address(10, 0, 0, 50)...IPv4Address(10, 0, 0, 60), tftpRoot: Self.root)
        config.proxyDHCP = true
        let server = try BootServer(configuration: config, clock: board.clock)
        let sw = VirtualSwitch(clock: board.clock, seed: 3)
        sw.connect(device: card.port)
        sw.connect(device: server.port)
        board.add(port: server.port)
        let dhcp = ScriptedPeer(clock: board.clock, port: sw.addBackendPort().port)
        dhcp.mode = .plain
        dhcp.bootFile = ""
        dhcp.proxyServer = ScriptedPeer.Host(mac: MACAddress(0x02, 0, 0, 0, 0, 0x77), ip: IPv4Address(10, 0, 0, 77))

        let client = try PXEClient(board: board, driver: RTL8139Driver(bus: DriverBus(board: board)))
        let report = try client.boot()
        XCTAssertEqual(report.dhcp.address, dhcp.clientAddress)
        XCTAssertNotNil(report.dhcp.proxyOffer)
        XCTAssertEqual(report.dhcp.tftpServer, IPv4Address(10, 0, 0, 2))
        XCTAssertEqual(report.dhcp.bootFile, "pxelinux.0")
        let kernel = try file("vmlinuz")
        XCTAssertEqual(try board.memory.readBytes(at: report.nbp.kernel.address, count: kernel.count), kernel)
        withExtendedLifetime((server, sw, dhcp)) {}
    }
}
