import NICCore
import UNDI
import Wire
import XCTest

@testable import PXE

/// The UNDI opcodes through parameter blocks in guest memory, byte-exact
/// against the s_PXENV_UNDI_xxx layouts of PXE 2.1.
final class PXEAPIUNDITests: XCTestCase {
    /// A rig whose UNDI has only been through START_UNDI, as a loader leaves it.
    private func startedRig() -> PXETestRig {
        let rig = PXETestRig()
        XCTAssertEqual(rig.undi.startUNDI(), .success)
        return rig
    }

    private func openRig() -> PXETestRig {
        let rig = PXETestRig()
        XCTAssertEqual(rig.undi.bringUp(), .success)
        return rig
    }

    func testBringUpThroughTheAPIReachesOpened() {
        let rig = startedRig()
        rig.block([], size: 16)
        XCTAssertEqual(rig.call(.undiStartup), .success)
        rig.block([], size: 16)
        XCTAssertEqual(rig.call(.undiInitialize), .success)
        // OPEN: OpenFlag 2, PktFilter 4 (FLTR_DIRECTED | FLTR_BRDCST), R_Mcast_Buf 6.
        rig.block([], size: 140)
        rig.set16(4, 0x0003)
        rig.set16(6, 1)
        try? rig.memory.write(at: rig.blockAddress.linear + 8, bytes: [0x01, 0x00, 0x5E, 0x00, 0x00, 0x01])
        XCTAssertEqual(rig.call(.undiOpen), .success)
        XCTAssertEqual(rig.status(), .success)
        XCTAssertEqual(rig.undi.state, .opened)
        XCTAssertEqual(rig.nic.filter, [.directed, .broadcast])
        XCTAssertEqual(rig.nic.multicast, [MACAddress(0x01, 0x00, 0x5E, 0x00, 0x00, 0x01)])
    }

    func testOutOfOrderCallWritesInvalidStateAndExitFailure() {
        let rig = startedRig()
        rig.block([0xAA, 0xAA], size: 16)
        XCTAssertEqual(rig.call(.undiOpen), .failure)
        XCTAssertEqual(rig.u16(0), 0x006A)  // PXENV_STATUS_UNDI_INVALID_STATE
    }

    func testUnknownOpcodeIsUnsupported() {
        let rig = openRig()
        rig.block([], size: 16)
        XCTAssertEqual(rig.api.callPXENV(bx: 0x0099, es: rig.blockAddress.segment, di: rig.blockAddress.offset), .failure)
        XCTAssertEqual(rig.u16(0), 0x0003)  // PXENV_STATUS_UNSUPPORTED
    }

    func testTransmitWithAnIPProtocolGathersTheTBD() throws {
        // TRANSMIT: Protocol 2 = P_IP, XmitFlag 3 = XMT_DESTADDR, DestAddr 4, TBD 8.
        let rig = openRig()
        let tbd = RealModeAddress(segment: 0x2100, offset: 0)
        let immediate = RealModeAddress(segment: 0x2200, offset: 0x10)
        let dest = RealModeAddress(segment: 0x2300, offset: 0)
        let peer = MACAddress(0x02, 0xAB, 0xCD, 0, 0, 1)
        try rig.memory.write(at: dest.linear, bytes: peer.bytes)
        try rig.memory.write(at: immediate.linear, bytes: [UInt8](repeating: 0x11, count: 20))
        // Data block 0: SEGOFF16 (type 1); data block 1: physical (type 0).
        try rig.memory.write(at: 0x24000, bytes: [UInt8](repeating: 0x22, count: 30))
        try rig.memory.write(at: 0x25000, bytes: [UInt8](repeating: 0x33, count: 10))
        var t = [UInt8](repeating: 0, count: 72)
        t[0] = 20  // ImmedLength
        t[2] = 0x10; t[3] = 0; t[4] = 0x00; t[5] = 0x22  // Xmit 2200:0010
        t[6] = 2  // DataBlkCount
        t[8] = 1; t[10] = 30; t[12] = 0x00; t[13] = 0x00; t[14] = 0x00; t[15] = 0x24  // 2400:0000
        t[16] = 0; t[18] = 10; t[20] = 0x00; t[21] = 0x50; t[22] = 0x02; t[23] = 0x00  // physical 0x25000
        try rig.memory.write(at: tbd.linear, bytes: t)
        rig.block([], size: 20)
        rig.set8(2, 1)
        rig.set8(3, 0)
        rig.setAddress(4, dest)
        rig.setAddress(8, tbd)
        XCTAssertEqual(rig.call(.undiTransmit), .success)
        let sent = try XCTUnwrap(rig.nic.transmitted.last)
        XCTAssertEqual(Array(sent[0..<6]), peer.bytes)
        XCTAssertEqual(Array(sent[12..<14]), [0x08, 0x00])
        XCTAssertEqual(Array(sent[14..<74]), [UInt8](repeating: 0x11, count: 20) + [UInt8](repeating: 0x22, count: 30) + [UInt8](repeating: 0x33, count: 10))
    }

    func testTransmitUnknownProtocolSendsTheImmediateBufferAsTheFrame() throws {
        let rig = openRig()
        let frame = [UInt8](repeating: 0xFF, count: 6) + rig.nic.stationAddress.bytes + [0x88, 0xB5] + [UInt8](repeating: 7, count: 50)
        try rig.memory.write(at: 0x22000, bytes: frame)
        var t = [UInt8](repeating: 0, count: 72)
        t[0] = UInt8(frame.count); t[4] = 0x00; t[5] = 0x22
        try rig.memory.write(at: 0x21000, bytes: t)
        rig.block([], size: 20)
        rig.set8(2, 0)  // P_UNKNOWN
        rig.setAddress(8, RealModeAddress(segment: 0x2100, offset: 0))
        XCTAssertEqual(rig.call(.undiTransmit), .success)
        XCTAssertEqual(rig.nic.transmitted.last, frame)
    }

    func testTransmitBroadcastFlagIgnoresDestAddr() throws {
        let rig = openRig()
        try rig.memory.write(at: 0x22000, bytes: [UInt8](repeating: 1, count: 28))
        var t = [UInt8](repeating: 0, count: 72)
        t[0] = 28; t[5] = 0x22
        try rig.memory.write(at: 0x21000, bytes: t)
        rig.block([], size: 20)
        rig.set8(2, 2)  // P_ARP
        rig.set8(3, 1)  // XMT_BROADCAST
        rig.setAddress(8, RealModeAddress(segment: 0x2100, offset: 0))
        XCTAssertEqual(rig.call(.undiTransmit), .success)
        XCTAssertEqual(Array(rig.nic.transmitted.last?[0..<6] ?? []), MACAddress.broadcast.bytes)
        XCTAssertEqual(rig.nic.transmitted.last?.count, 60)
    }

    func testTransmitWithMoreThanEightDataBlocksIsInvalidParameter() throws {
        // MAX_DATA_BLKS is 8.
        let rig = openRig()
        var t = [UInt8](repeating: 0, count: 72)
        t[6] = 9
        try rig.memory.write(at: 0x21000, bytes: t)
        rig.block([], size: 20)
        rig.set8(2, 1)
        rig.set8(3, 1)
        rig.setAddress(8, RealModeAddress(segment: 0x2100, offset: 0))
        XCTAssertEqual(rig.call(.undiTransmit), .failure)
        XCTAssertEqual(rig.status(), .undiInvalidParameter)
        XCTAssertTrue(rig.nic.transmitted.isEmpty)
    }

    func testTransmitWithADataBlockOutsideMemoryIsInvalidParameter() throws {
        // A 32-bit physical TDDataPtr beyond guest RAM: refused, nothing sent.
        let rig = openRig()
        var t = [UInt8](repeating: 0, count: 72)
        t[6] = 1
        t[8] = 0; t[10] = 40; t[12] = 0x00; t[13] = 0x00; t[14] = 0x00; t[15] = 0xF0  // 0xF0000000
        try rig.memory.write(at: 0x21000, bytes: t)
        rig.block([], size: 20)
        rig.set8(2, 1)
        rig.set8(3, 1)
        rig.setAddress(8, RealModeAddress(segment: 0x2100, offset: 0))
        XCTAssertEqual(rig.call(.undiTransmit), .failure)
        XCTAssertEqual(rig.status(), .undiInvalidParameter)
        XCTAssertTrue(rig.nic.transmitted.isEmpty)
    }

    func testParameterBlockOutsideMemoryFailsWithoutWriting() {
        let rig = openRig()
        let exit = rig.api.call(opcode: PXEOpcode.undiGetStatistics.rawValue, block: RealModeAddress(segment: 0xFFFF, offset: 0xFFFF))
        XCTAssertEqual(exit, .success)  // 0x10FFEF is inside 8 MiB of RAM
        let tiny = FlatMemory(size: 0x1000)
        let api = PXEAPI(baseCode: rig.baseCode, memory: tiny)
        XCTAssertEqual(api.call(opcode: PXEOpcode.undiGetStatistics.rawValue, block: RealModeAddress(segment: 0x2000, offset: 0)), .failure)
    }

    func testISRReceiveFillsEveryFieldAndCopiesTheFrame() throws {
        // ISR: FuncFlag 2, BufferLength 4, FrameLength 6, FrameHeaderLength 8,
        // Frame 10, ProtType 14, PktType 15.
        let rig = openRig()
        var frame = MACAddress.broadcast.bytes + MACAddress(0x02, 0, 0, 0, 0, 9).bytes + [0x08, 0x06]
        frame += [UInt8](repeating: 0x5A, count: 46)
        rig.nic.deliver(frame)
        rig.block([], size: 16)
        rig.set16(2, 2)  // PXENV_UNDI_ISR_IN_PROCESS
        XCTAssertEqual(rig.call(.undiISR), .success)
        XCTAssertEqual(rig.u16(2), 3)  // PXENV_UNDI_ISR_OUT_RECEIVE
        XCTAssertEqual(rig.u16(4), 60)
        XCTAssertEqual(rig.u16(6), 60)
        XCTAssertEqual(rig.u16(8), 14)
        let at = RealModeAddress(packed: rig.u32(10))
        XCTAssertEqual(at, rig.api.layout.receiveBuffer)
        XCTAssertEqual(try rig.memory.readBytes(at: at.linear, count: 60), frame)
        XCTAssertEqual(rig.u8(14), 2)  // P_ARP
        XCTAssertEqual(rig.u8(15), 1)  // P_BROADCAST
        rig.set16(2, 3)  // IN_GET_NEXT
        XCTAssertEqual(rig.call(.undiISR), .success)
        XCTAssertEqual(rig.u16(2), 0)  // OUT_DONE
        XCTAssertEqual(rig.u16(4), 0)
    }

    func testISRStartSaysNotOursWhenNothingIsPending() {
        let rig = openRig()
        rig.block([], size: 16)
        rig.set16(2, 1)
        XCTAssertEqual(rig.call(.undiISR), .success)
        XCTAssertEqual(rig.u16(2), 1)  // PXENV_UNDI_ISR_OUT_NOT_OURS
    }

    func testISRWithAnUnknownFuncFlagIsInvalidParameter() {
        let rig = openRig()
        rig.block([], size: 16)
        rig.set16(2, 9)
        XCTAssertEqual(rig.call(.undiISR), .failure)
        XCTAssertEqual(rig.status(), .undiInvalidParameter)
    }

    func testGetInformationLayout() {
        let rig = startedRig()
        rig.undi.startup()
        rig.block([], size: 50)
        XCTAssertEqual(rig.call(.undiGetInformation), .success)
        XCTAssertEqual(rig.u16(2), 0xC000)  // BaseIo
        XCTAssertEqual(rig.u16(4), 11)  // IntNumber
        XCTAssertEqual(rig.u16(6), 1500)  // MaxTranUnit
        XCTAssertEqual(rig.u16(8), 1)  // HwType ETHER_TYPE
        XCTAssertEqual(rig.u16(10), 6)  // HwAddrLen
        XCTAssertEqual(rig.blockBytes(18)[12..<18].map { $0 }, rig.nic.stationAddress.bytes)
        XCTAssertEqual(rig.blockBytes(34)[28..<34].map { $0 }, rig.nic.permanentAddress.bytes)
        XCTAssertEqual(rig.u16(44), rig.api.layout.undiCodeSegment)  // ROMAddress
    }

    func testGetStatisticsLayout() {
        let rig = openRig()
        rig.nic.deliver(ethernetFrameTo(rig.nic.stationAddress))
        rig.nic.deliver(ethernetFrameTo(rig.nic.stationAddress))
        rig.block([], size: 18)
        XCTAssertEqual(rig.call(.undiGetStatistics), .success)
        XCTAssertEqual(rig.u32(2), 0)  // XmtGoodFrames
        XCTAssertEqual(rig.u32(6), 2)  // RcvGoodFrames
        rig.block([], size: 2)
        XCTAssertEqual(rig.call(.undiClearStatistics), .success)
        rig.block([], size: 18)
        rig.call(.undiGetStatistics)
        XCTAssertEqual(rig.u32(6), 0)
    }

    func testSetStationAddressReadsTheFirstSixBytes() {
        let rig = openRig()
        rig.block([0, 0, 0x02, 0x10, 0x20, 0x30, 0x40, 0x50], size: 18)
        XCTAssertEqual(rig.call(.undiSetStationAddress), .success)
        XCTAssertEqual(rig.nic.stationAddress, MACAddress(0x02, 0x10, 0x20, 0x30, 0x40, 0x50))
    }

    func testSetPacketFilterTakesOneByte() {
        let rig = openRig()
        rig.block([0, 0, 0x04], size: 3)  // FLTR_PRMSCS
        XCTAssertEqual(rig.call(.undiSetPacketFilter), .success)
        XCTAssertEqual(rig.nic.filter, .promiscuous)
    }

    func testSetMulticastAddressReadsTheCountedList() throws {
        // R_Mcast_Buf: MCastAddrCount then 16-byte MAC_ADDR_t entries.
        let rig = openRig()
        rig.block([], size: 130)
        rig.set16(2, 2)
        try rig.memory.write(at: rig.blockAddress.linear + 4, bytes: [0x01, 0, 0x5E, 0, 0, 1])
        try rig.memory.write(at: rig.blockAddress.linear + 20, bytes: [0x01, 0, 0x5E, 0, 0, 2])
        XCTAssertEqual(rig.call(.undiSetMulticastAddress), .success)
        XCTAssertEqual(rig.nic.multicast, [MACAddress(0x01, 0, 0x5E, 0, 0, 1), MACAddress(0x01, 0, 0x5E, 0, 0, 2)])
    }

    func testGetMulticastAddressLayout() {
        let rig = startedRig()
        rig.undi.startup()
        rig.block([], size: 22)
        rig.setIP(2, IPv4Address(239, 255, 1, 2))
        XCTAssertEqual(rig.call(.undiGetMulticastAddress), .success)
        XCTAssertEqual(Array(rig.blockBytes(12)[6..<12]), [0x01, 0x00, 0x5E, 0x7F, 0x01, 0x02])
    }

    func testGetNICTypeLayoutForPCI() {
        let rig = startedRig()
        rig.undi.startup()
        rig.block([], size: 17)
        XCTAssertEqual(rig.call(.undiGetNICType), .success)
        XCTAssertEqual(rig.u8(2), 2)  // PCI_NIC
        XCTAssertEqual(rig.u16(3), 0x10EC)
        XCTAssertEqual(rig.u16(5), 0x8139)
        XCTAssertEqual(rig.u8(7), 0x02)  // Base_Class network
        XCTAssertEqual(rig.u8(8), 0x00)
        XCTAssertEqual(rig.u8(10), 0x20)  // Rev
        XCTAssertEqual(rig.u16(11), 0x0018)  // 00:03.0
        XCTAssertEqual(rig.u16(13), 0x1AF4)
        XCTAssertEqual(rig.u16(15), 0x1100)
    }

    func testGetNICTypeLayoutForAnISACardIsPnP() {
        // pnp_nic_info: EISA_Dev_ID 3, Base_Class 7, Sub_Class 8, Prog_Intf 9, CardSelNum 10.
        let rig = PXETestRig()
        rig.nic.info = NICInfo(bus: .isa(ioBase: 0x300), vendorID: 0, deviceID: 0, ioBase: 0x300, irq: 9)
        XCTAssertEqual(rig.undi.startUNDI(), .success)
        rig.undi.startup()
        rig.block([], size: 17)
        XCTAssertEqual(rig.call(.undiGetNICType), .success)
        XCTAssertEqual(rig.u8(2), 3)  // PnP_NIC
        XCTAssertEqual(Array(rig.blockBytes(7)[3..<7]), [0x41, 0xD0, 0x80, 0xD6])  // PNP80D6, compressed EISA ID
        XCTAssertEqual(rig.u8(7), 0x02)
        XCTAssertEqual(rig.u16(10), 0xFFFF)
    }

    func testGetIfaceInfoLayout() {
        let rig = startedRig()
        rig.undi.startup()
        rig.block([UInt8](repeating: 0xEE, count: 42), size: 42)
        XCTAssertEqual(rig.call(.undiGetIfaceInfo), .success)
        XCTAssertEqual(Array(rig.blockBytes(18)[2..<18]), Array("DIX+802.3".utf8) + [UInt8](repeating: 0, count: 7))
        XCTAssertEqual(rig.u32(18), 100_000_000)
        XCTAssertNotEqual(rig.u32(22) & 0x1000, 0)  // SUPPORTED_IRQ
        XCTAssertEqual(Array(rig.blockBytes(42)[26..<42]), [UInt8](repeating: 0, count: 16))
    }

    func testOpcode0015IsStopUNDIByDefault() {
        let rig = startedRig()
        rig.block([], size: 2)
        XCTAssertEqual(rig.call(.stopUNDI), .success)
        XCTAssertEqual(rig.undi.state, .stopped)
    }

    func testOpcode0015CanBeTakenAsGetState() {
        let rig = openRig()
        rig.api.opcode0015 = .getState
        rig.block([], size: 3)
        XCTAssertEqual(rig.call(.stopUNDI), .success)
        XCTAssertEqual(rig.u8(2), 3)  // PXE_UNDI_GET_STATE_OPENED
        XCTAssertEqual(rig.undi.state, .opened)
    }

    func testShutdownAndCleanupThroughTheAPI() {
        let rig = openRig()
        rig.block([], size: 2)
        XCTAssertEqual(rig.call(.undiClose), .success)
        XCTAssertEqual(rig.call(.undiShutdown), .success)
        XCTAssertEqual(rig.call(.undiCleanup), .success)
        XCTAssertEqual(rig.call(.stopUNDI), .success)
        XCTAssertEqual(rig.undi.state, .stopped)
    }

    func testResetAdapterThroughTheAPIKeepsTheCardOpen() {
        let rig = openRig()
        rig.block([], size: 130)
        XCTAssertEqual(rig.call(.undiResetAdapter), .success)
        XCTAssertTrue(rig.nic.isOpen)
    }

    func testInitiateDiagsAndForceInterruptThroughTheAPI() {
        let rig = openRig()
        rig.block([], size: 2)
        XCTAssertEqual(rig.call(.undiForceInterrupt), .success)
        XCTAssertEqual(rig.call(.undiInitiateDiags), .failure)
        XCTAssertEqual(rig.status(), .undiInvalidState)
    }

    private func ethernetFrameTo(_ mac: MACAddress) -> [UInt8] {
        mac.bytes + [0x02, 0, 0, 0, 0, 9, 0x08, 0x00] + [UInt8](repeating: 0, count: 46)
    }
}
