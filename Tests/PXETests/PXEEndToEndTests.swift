import Board
import NE2000
import NICCore
import RTL8139
import UNDI
import VirtioNet
import Wire
import XCTest

@testable import PXE

/// The whole chain on each real model: register-level NIC on the board,
/// its UNDI driver through port I/O, MMIO and DMA, the UNDI state machine,
/// the PXE base code (DHCP, TFTP), the PXE API over guest memory and the
/// built-in pxelinux, against a scripted DHCP/TFTP peer on the card's wire.
final class PXEEndToEndTests: XCTestCase {
    /// A board with one card, its driver, and the PXE stack on top.
    final class ModelRig {
        let board = Board(memorySize: 64 << 20)
        let undi: UNDI
        let baseCode: PXEBaseCode
        let api: PXEAPI
        let peer: ScriptedPeer

        init(_ plug: (Board) throws -> (NICDriver, FramePort)) throws {
            let (driver, port) = try plug(board)
            board.add(port: port)
            undi = UNDI(driver: driver, bus: DriverBus(board: board))
            baseCode = PXEBaseCode(undi: undi, identity: PXEClientIdentity(uuid: Array(0..<16)))
            api = PXEAPI(baseCode: baseCode, memory: board.memory)
            try api.install()
            peer = ScriptedPeer(clock: board.clock, port: port)
        }
    }

    static let mac = MACAddress(0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF)
    let kernel = patternFile(300_000, seed: 11)
    let initrd = patternFile(120_000, seed: 22)

    private func rtl8029(_ board: Board) -> (NICDriver, FramePort) {
        let card = RTL8029(macAddress: Self.mac, memory: board.memory, clock: board.clock)
        board.attach(card, at: PCIAddress(device: 3))
        board.assignResources()
        return (NE2000Driver(bus: DriverBus(board: board), location: .pci()), card.port)
    }

    private func ne2000ISA(_ board: Board) throws -> (NICDriver, FramePort) {
        let card = NE2000ISA(macAddress: Self.mac, memory: board.memory, clock: board.clock)
        card.interruptLine = try board.attachISA(card, ioBase: card.ioBase, irq: card.irq, name: "ne2000")
        return (NE2000Driver(bus: DriverBus(board: board), location: .isa(ioBase: UInt16(card.ioBase), irq: UInt8(card.irq))), card.port)
    }

    private func rtl8139(_ board: Board) -> (NICDriver, FramePort) {
        let card = RTL8139(macAddress: Self.mac, memory: board.memory, clock: board.clock)
        board.attach(card, at: PCIAddress(device: 3))
        board.assignResources()
        return (RTL8139Driver(bus: DriverBus(board: board)), card.port)
    }

    private func virtio(_ board: Board) -> (NICDriver, FramePort) {
        let card = VirtioNet(configuration: VirtioNetConfiguration(macAddress: Self.mac), memory: board.memory, clock: board.clock)
        board.attach(card, at: PCIAddress(device: 3))
        board.assignResources()
        return (VirtioNetDriver(bus: DriverBus(board: board)), card.port)
    }

    /// DHCP through a proxyDHCP, then pxelinux finds its config by MAC and
    /// loads a kernel and an initrd, which must land in memory intact.
    private func bootWholeChain(_ rig: ModelRig, file: StaticString = #filePath, line: UInt = #line) throws {
        rig.peer.mode = .withProxy
        rig.peer.bootFile = "pxelinux.0"
        rig.peer.files["pxelinux.cfg/01-52-54-00-ab-cd-ef"] = Array("""
            DEFAULT linux
            PROMPT 0
            LABEL linux
              KERNEL vmlinuz
              APPEND console=ttyS0 initrd=initrd.img
            """.utf8)
        rig.peer.files["vmlinuz"] = kernel
        rig.peer.files["initrd.img"] = initrd
        let dhcp = try rig.baseCode.boot()
        try rig.api.storeCachedPackets()
        XCTAssertEqual(dhcp.address, rig.peer.clientAddress, file: file, line: line)
        XCTAssertEqual(rig.undi.state, .opened, file: file, line: line)
        let boot = try PXELinuxLoader(api: rig.api).run()
        XCTAssertEqual(boot.configurationPath, "pxelinux.cfg/01-52-54-00-ab-cd-ef", file: file, line: line)
        XCTAssertEqual(boot.kernel.size, kernel.count, file: file, line: line)
        XCTAssertEqual(try rig.board.memory.readBytes(at: boot.kernel.address, count: kernel.count), kernel, file: file, line: line)
        XCTAssertEqual(boot.initrds.count, 1, file: file, line: line)
        if let rd = boot.initrds.first {
            XCTAssertEqual(try rig.board.memory.readBytes(at: rd.address, count: initrd.count), initrd, file: file, line: line)
        }
        XCTAssertEqual(boot.entry.commandLine, "console=ttyS0 initrd=initrd.img", file: file, line: line)
        let stats = try rig.undi.statistics()
        XCTAssertGreaterThan(stats.receiveGoodFrames, 300, file: file, line: line)
    }

    func testWholeChainOnRTL8029() throws {
        try bootWholeChain(try ModelRig(rtl8029))
    }

    func testWholeChainOnISANE2000() throws {
        try bootWholeChain(try ModelRig(ne2000ISA))
    }

    func testWholeChainOnRTL8139() throws {
        try bootWholeChain(try ModelRig(rtl8139))
    }

    func testWholeChainOnVirtioNet() throws {
        try bootWholeChain(try ModelRig(virtio))
    }

    func testWholeChainOnRTL8139WithLossAndWindowsize() throws {
        let rig = try ModelRig(rtl8139)
        rig.baseCode.tftpOptions.windowSize = 8
        rig.peer.dropBlocksOnce = [5, 77, 150]
        rig.peer.duplicateBlocks = [3, 40]
        rig.peer.ignoreDiscovers = 1
        try bootWholeChain(rig)
        XCTAssertEqual(rig.peer.readRequests.last?.option("windowsize"), "8")
    }

    func testUNDIOnTheRealModelAnswersThePXEAPI() throws {
        // GET_NIC_TYPE and GET_INFORMATION through guest memory report the
        // real card: the RTL8139's PCI IDs and its permanent address.
        let rig = try ModelRig(rtl8139)
        XCTAssertEqual(rig.undi.bringUp(), .success)
        let block = RealModeAddress(segment: 0x2000, offset: 0)
        try rig.board.memory.fill(at: block.linear, count: 64, with: 0)
        XCTAssertEqual(rig.api.callPXENV(bx: PXEOpcode.undiGetNICType.rawValue, es: block.segment, di: block.offset), .success)
        XCTAssertEqual(try rig.board.memory.readU8(block.linear + 2), 2)
        XCTAssertEqual(try rig.board.memory.readU16(block.linear + 3), 0x10EC)
        XCTAssertEqual(try rig.board.memory.readU16(block.linear + 5), 0x8139)
        XCTAssertEqual(try rig.board.memory.readU16(block.linear + 11), PCIAddress(device: 3).bdf)
        XCTAssertEqual(rig.api.callPXENV(bx: PXEOpcode.undiGetInformation.rawValue, es: block.segment, di: block.offset), .success)
        XCTAssertEqual(try rig.board.memory.readBytes(at: block.linear + 28, count: 6), Self.mac.bytes)
    }

    func testISRPollingOnTheRealModelSeesAFrameFromTheWire() throws {
        let rig = try ModelRig(virtio)
        XCTAssertEqual(rig.undi.bringUp(), .success)
        rig.peer.sendUDP(from: rig.peer.dhcpServer, sourcePort: 9, to: UDPEndpoint(mac: .broadcast, ip: .broadcast, port: 9), payload: [1, 2, 3])
        rig.board.advance(by: VirtualClock.millisecond)
        var seen: ISRFrame?
        for _ in 0..<10 {
            guard let r = try? rig.undi.isr(.getNext) else { break }
            if case .receive(let f) = r { seen = f; break }
            if case .done = r { rig.board.advance(by: VirtualClock.millisecond) }
        }
        let frame = try XCTUnwrap(seen)
        XCTAssertEqual(frame.packetType, .broadcast)
        XCTAssertEqual(frame.protocolType, .ip)
        XCTAssertEqual(frame.frameLength, 14 + 20 + 8 + 3)  // as the peer sent it (our wire carries unpadded frames)
    }

    /// ISR through the API on a real card: a broadcast arrives, START says
    /// OURS (the card's interrupt status has it), PROCESS returns it,
    /// GET_NEXT says DONE, and a second START says NOT_OURS. Then TRANSMIT
    /// through a TBD reaches the wire and PROCESS reports its completion.
    private func isrAndTransmitThroughTheAPI(_ rig: ModelRig, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(rig.undi.bringUp(), .success, file: file, line: line)
        let memory = rig.board.memory
        let block = RealModeAddress(segment: 0x2000, offset: 0)
        func isr(_ f: ISRFunction) throws -> UInt16 {
            try memory.fill(at: block.linear, count: 16, with: 0)
            try memory.writeU16(block.linear + 2, f.rawValue)
            XCTAssertEqual(rig.api.callPXENV(bx: PXEOpcode.undiISR.rawValue, es: block.segment, di: block.offset), .success, file: file, line: line)
            return try memory.readU16(block.linear + 2)
        }
        rig.peer.sendUDP(from: rig.peer.dhcpServer, sourcePort: 9, to: UDPEndpoint(mac: .broadcast, ip: .broadcast, port: 9),
                         payload: [UInt8](repeating: 0x42, count: 100))
        rig.board.advance(by: VirtualClock.millisecond)
        XCTAssertEqual(try isr(.start), 0, "OURS", file: file, line: line)
        XCTAssertEqual(try isr(.process), 3, "RECEIVE", file: file, line: line)
        XCTAssertEqual(try memory.readU16(block.linear + 6), 142, file: file, line: line)
        XCTAssertEqual(try memory.readU8(block.linear + 15), 1, "P_BROADCAST", file: file, line: line)
        let frameAt = RealModeAddress(packed: try memory.readU32(block.linear + 10))
        XCTAssertEqual(try memory.readBytes(at: frameAt.linear + 42, count: 100), [UInt8](repeating: 0x42, count: 100), file: file, line: line)
        XCTAssertEqual(try isr(.getNext), 0, "DONE", file: file, line: line)
        XCTAssertEqual(try isr(.start), 1, "NOT_OURS", file: file, line: line)

        let payload = [UInt8](repeating: 0x99, count: 200)
        try memory.write(at: 0x30000, bytes: payload)
        try memory.write(at: 0x23000, bytes: rig.peer.dhcpServer.mac.bytes)
        var tbd = [UInt8](repeating: 0, count: 72)
        tbd[0] = 200; tbd[5] = 0x30  // ImmedLength 200 at 3000:0000
        try memory.write(at: 0x21000, bytes: tbd)
        try memory.fill(at: block.linear, count: 20, with: 0)
        try memory.writeU8(block.linear + 2, 1)  // P_IP
        try memory.writeU32(block.linear + 4, RealModeAddress(segment: 0x2300, offset: 0).packed)
        try memory.writeU32(block.linear + 8, RealModeAddress(segment: 0x2100, offset: 0).packed)
        XCTAssertEqual(rig.api.callPXENV(bx: PXEOpcode.undiTransmit.rawValue, es: block.segment, di: block.offset), .success, file: file, line: line)
        rig.board.advance(by: VirtualClock.millisecond)
        XCTAssertEqual(rig.peer.framesSeen.last.map { Array($0[0..<6]) }, rig.peer.dhcpServer.mac.bytes, file: file, line: line)
        XCTAssertEqual(rig.peer.framesSeen.last.map { Array($0[14...]) }, payload, file: file, line: line)
        XCTAssertEqual(try isr(.process), 2, "TRANSMIT", file: file, line: line)
        XCTAssertEqual(try isr(.getNext), 0, "DONE", file: file, line: line)
    }

    func testISRAndTransmitThroughTheAPIOnRTL8029() throws {
        try isrAndTransmitThroughTheAPI(try ModelRig(rtl8029))
    }

    func testISRAndTransmitThroughTheAPIOnISANE2000() throws {
        try isrAndTransmitThroughTheAPI(try ModelRig(ne2000ISA))
    }

    func testISRAndTransmitThroughTheAPIOnRTL8139() throws {
        try isrAndTransmitThroughTheAPI(try ModelRig(rtl8139))
    }

    func testISRAndTransmitThroughTheAPIOnVirtioNet() throws {
        try isrAndTransmitThroughTheAPI(try ModelRig(virtio))
    }
}
