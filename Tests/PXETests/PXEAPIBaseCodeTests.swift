import NICCore
import UNDI
import Wire
import XCTest

@testable import PXE

/// GET_CACHED_INFO, the TFTP and UDP calls, the preboot calls and both
/// calling conventions, through parameter blocks in guest memory.
final class PXEAPIBaseCodeTests: XCTestCase {
    private func bootedRig() throws -> PXETestRig {
        let rig = PXETestRig()
        try rig.boot()
        return rig
    }

    // MARK: Calling conventions

    func testBangPXEConventionReadsOpcodeAndFarPointerFromTheStack() throws {
        // !PXE: at entry SS:SP holds the far return address; the opcode is at
        // SP+4, the block's offset at SP+6 and segment at SP+8.
        let rig = try bootedRig()
        let stack = RealModeAddress(segment: 0x1000, offset: 0x0100)
        try rig.memory.write(at: stack.linear, bytes: [0x34, 0x12, 0x00, 0x10,  // return 1000:1234
                                                      0x71, 0x00,  // PXENV_GET_CACHED_INFO
                                                      0x00, 0x00, 0x00, 0x20])  // 2000:0000
        rig.block([], size: 12)
        rig.set16(2, 2)
        XCTAssertEqual(rig.api.callBangPXE(stack: stack), .success)
        XCTAssertEqual(rig.status(), .success)
        XCTAssertEqual(RealModeAddress(packed: rig.u32(6)), rig.api.layout.cachedPacket(.dhcpAck))
    }

    func testStatusIsWrittenAsTheFirstWord() throws {
        let rig = try bootedRig()
        rig.block([0xFF, 0xFF], size: 2)
        XCTAssertEqual(rig.call(.tftpClose), .failure)
        XCTAssertEqual(rig.u16(0), PXEStatus.tftpClosed.rawValue)
    }

    // MARK: GET_CACHED_INFO

    func testCachedInfoWithBufferSizeZeroPointsAtOurBOOTPLAYER() throws {
        let rig = try bootedRig()
        rig.block([], size: 12)
        rig.set16(2, 2)  // PXENV_PACKET_TYPE_DHCP_ACK
        rig.set16(10, 0xBEEF)  // BufferLimit: must stay as it is
        XCTAssertEqual(rig.call(.getCachedInfo), .success)
        let at = RealModeAddress(packed: rig.u32(6))
        XCTAssertEqual(at, rig.api.layout.cachedPacket(.dhcpAck))
        let ack = rig.baseCode.cachedPackets[.dhcpAck] ?? []
        XCTAssertEqual(Int(rig.u16(4)), ack.count)
        XCTAssertEqual(try rig.memory.readBytes(at: at.linear, count: ack.count), ack)
        XCTAssertEqual(try rig.memory.readBytes(at: at.linear + UInt64(ack.count), count: 1260 - ack.count),
                       [UInt8](repeating: 0, count: 1260 - ack.count))
        XCTAssertEqual(rig.u16(10), 0xBEEF)
    }

    func testCachedInfoCopiesIntoTheCallersBuffer() throws {
        let rig = try bootedRig()
        rig.block([], size: 12)
        rig.set16(2, 1)  // DHCP_DISCOVER
        rig.set16(4, 1260)
        rig.setAddress(6, rig.bufferAddress)
        XCTAssertEqual(rig.call(.getCachedInfo), .success)
        let discover = rig.baseCode.cachedPackets[.dhcpDiscover] ?? []
        XCTAssertEqual(Int(rig.u16(4)), discover.count)
        let copied = try rig.memory.readBytes(at: rig.bufferAddress.linear, count: discover.count)
        XCTAssertEqual(copied, discover)
        let parsed = try copied.withUnsafeBytes { try DHCPMessage(parsing: $0) }
        XCTAssertEqual(parsed.messageType, .discover)
        XCTAssertEqual(RealModeAddress(packed: rig.u32(6)), rig.bufferAddress)
    }

    func testCachedInfoCopiesNoMoreThanBufferSize() throws {
        let rig = try bootedRig()
        try rig.memory.fill(at: rig.bufferAddress.linear, count: 400, with: 0xCC)
        rig.block([], size: 12)
        rig.set16(2, 2)
        rig.set16(4, 100)
        rig.setAddress(6, rig.bufferAddress)
        XCTAssertEqual(rig.call(.getCachedInfo), .success)
        XCTAssertEqual(rig.u16(4), 100)
        XCTAssertEqual(try rig.memory.readU8(rig.bufferAddress.linear + 100), 0xCC)
    }

    func testCachedReplyIsTheBootServersAnswer() throws {
        let rig = PXETestRig()
        rig.peer.mode = .withProxy
        try rig.boot()
        rig.block([], size: 12)
        rig.set16(2, 3)  // PXENV_PACKET_TYPE_CACHED_REPLY
        XCTAssertEqual(rig.call(.getCachedInfo), .success)
        let at = RealModeAddress(packed: rig.u32(6))
        let bytes = try rig.memory.readBytes(at: at.linear, count: Int(rig.u16(4)))
        let reply = try bytes.withUnsafeBytes { try DHCPMessage(parsing: $0) }
        XCTAssertEqual(reply.serverIP, rig.peer.proxyServer.ip)
        XCTAssertTrue(reply.isPXEClient)
    }

    func testCachedInfoWithAnUnknownPacketTypeFails() throws {
        let rig = try bootedRig()
        rig.block([], size: 12)
        rig.set16(2, 4)
        XCTAssertEqual(rig.call(.getCachedInfo), .failure)
    }

    // MARK: TFTP

    private func tftpOpenBlock(_ rig: PXETestRig, file: String, packetSize: UInt16 = 1432) {
        // TFTP_OPEN: ServerIPAddress 2, GatewayIPAddress 6, FileName 10,
        // TFTPPort 138 (network order), PacketSize 140.
        rig.block([], size: 142)
        rig.setIP(2, rig.peer.dhcpServer.ip)
        rig.setString(10, file)
        rig.set16(138, UInt16(69).bigEndian)
        rig.set16(140, packetSize)
    }

    func testTFTPOpenReadCloseDeliversEveryPacket() throws {
        let rig = try bootedRig()
        let file = patternFile(1100)
        rig.peer.files["cfg"] = file
        rig.peer.maxBlockSize = 512
        tftpOpenBlock(rig, file: "cfg", packetSize: 1024)
        XCTAssertEqual(rig.call(.tftpOpen), .success)
        XCTAssertEqual(rig.u16(140), 512)  // the size the server agreed to
        var got: [UInt8] = []
        var numbers: [UInt16] = []
        for _ in 0..<10 {
            // TFTP_READ: PacketNumber 2, BufferSize 4, Buffer 6.
            rig.block([], size: 10)
            rig.setAddress(6, rig.bufferAddress)
            XCTAssertEqual(rig.call(.tftpRead), .success)
            numbers.append(rig.u16(2))
            let n = Int(rig.u16(4))
            got += try rig.memory.readBytes(at: rig.bufferAddress.linear, count: n)
            if n < 512 { break }
        }
        XCTAssertEqual(numbers, [1, 2, 3])
        XCTAssertEqual(got, file)
        rig.block([], size: 2)
        XCTAssertEqual(rig.call(.tftpClose), .success)
    }

    /// PXE 2.1 TFTP_READ: the buffer holds PacketSize bytes, the size
    /// TFTP_OPEN agreed. A rogue server's larger block fails the read and
    /// writes nothing past those bytes.
    func testTFTPReadNeverWritesPastThePacketSize() throws {
        let rig = try bootedRig()
        rig.peer.files["cfg"] = patternFile(1100)
        rig.peer.maxBlockSize = 512
        rig.peer.oversizeDataBy = 300
        tftpOpenBlock(rig, file: "cfg", packetSize: 512)
        XCTAssertEqual(rig.call(.tftpOpen), .success)
        XCTAssertEqual(rig.u16(140), 512)
        try rig.memory.fill(at: rig.bufferAddress.linear, count: 1024, with: 0x5A)
        rig.block([], size: 10)
        rig.setAddress(6, rig.bufferAddress)
        XCTAssertEqual(rig.call(.tftpRead), .failure)
        XCTAssertEqual(rig.status(), .tftpCannotReadFromConnection)
        XCTAssertEqual(try rig.memory.readBytes(at: rig.bufferAddress.linear + 512, count: 512), [UInt8](repeating: 0x5A, count: 512))
    }

    func testTFTPOpenOfAMissingFileIsFileNotFound() throws {
        let rig = try bootedRig()
        tftpOpenBlock(rig, file: "nope")
        XCTAssertEqual(rig.call(.tftpOpen), .failure)
        XCTAssertEqual(rig.status(), .tftpFileNotFound)
    }

    func testTFTPOpenWithPacketSizeBelow512IsRefused() throws {
        let rig = try bootedRig()
        tftpOpenBlock(rig, file: "x", packetSize: 256)
        XCTAssertEqual(rig.call(.tftpOpen), .failure)
        XCTAssertEqual(rig.status(), .tftpInvalidPacketSize)
    }

    func testTFTPOpenTwiceIsTFTPOpen() throws {
        let rig = try bootedRig()
        rig.peer.files["a"] = patternFile(5000)
        tftpOpenBlock(rig, file: "a")
        XCTAssertEqual(rig.call(.tftpOpen), .success)
        tftpOpenBlock(rig, file: "a")
        XCTAssertEqual(rig.call(.tftpOpen), .failure)
        XCTAssertEqual(rig.status(), .tftpOpen)
    }

    func testTFTPReadWithoutOpenIsTFTPClosed() throws {
        let rig = try bootedRig()
        rig.block([], size: 10)
        XCTAssertEqual(rig.call(.tftpRead), .failure)
        XCTAssertEqual(rig.status(), .tftpClosed)
    }

    private func readFileBlock(_ rig: PXETestRig, file: String, room: UInt32, at address: UInt32) {
        // TFTP_READ_FILE: FileName 2, BufferSize 130, Buffer 134,
        // ServerIPAddress 138, GatewayIPAddress 142.
        rig.block([], size: 158)
        rig.setString(2, file)
        rig.set32(130, room)
        rig.set32(134, address)
        rig.setIP(138, rig.peer.dhcpServer.ip)
    }

    func testTFTPReadFileLoadsTheFileAtThePhysicalAddress() throws {
        let rig = try bootedRig()
        let file = patternFile(70_000)
        rig.peer.files["vmlinuz"] = file
        readFileBlock(rig, file: "vmlinuz", room: 100_000, at: 0x10_0000)
        XCTAssertEqual(rig.call(.tftpReadFile), .success)
        XCTAssertEqual(rig.u32(130), 70_000)
        XCTAssertEqual(try rig.memory.readBytes(at: 0x10_0000, count: 70_000), file)
    }

    func testTFTPReadFileLargerThanTheBufferFails() throws {
        let rig = try bootedRig()
        rig.peer.files["big"] = patternFile(5000)
        readFileBlock(rig, file: "big", room: 4000, at: 0x10_0000)
        XCTAssertEqual(rig.call(.tftpReadFile), .failure)
        XCTAssertEqual(rig.status(), .outOfResources)
        XCTAssertEqual(try rig.memory.readU8(0x10_0000 + 4000), 0)
    }

    func testTFTPGetFileSizeLayout() throws {
        // TFTP_GET_FSIZE: ServerIPAddress 2, GatewayIPAddress 6, FileName 10, FileSize 138.
        let rig = try bootedRig()
        rig.peer.files["initrd.img"] = patternFile(31_337)
        rig.block([], size: 142)
        rig.setIP(2, rig.peer.dhcpServer.ip)
        rig.setString(10, "initrd.img")
        XCTAssertEqual(rig.call(.tftpGetFileSize), .success)
        XCTAssertEqual(rig.u32(138), 31_337)
    }

    func testRestartTFTPLoadsTheNBPAt7C00() throws {
        let rig = try bootedRig()
        let nbp = patternFile(3000, seed: 9)
        rig.peer.files["next.0"] = nbp
        readFileBlock(rig, file: "next.0", room: 0x8000, at: 0)
        XCTAssertEqual(rig.call(.restartTFTP), .success)
        XCTAssertEqual(try rig.memory.readBytes(at: 0x7C00, count: 3000), nbp)
        XCTAssertEqual(rig.api.restartedNBP?.file, "next.0")
        XCTAssertEqual(rig.api.restartedNBP?.size, 3000)
    }

    // MARK: UDP

    private func udpOpen(_ rig: PXETestRig, source: IPv4Address = .any) {
        rig.block([], size: 6)
        rig.setIP(2, source)
        XCTAssertEqual(rig.call(.udpOpen), .success)
    }

    private func udpWriteBlock(_ rig: PXETestRig, to ip: IPv4Address, gateway: IPv4Address = .any, payload: [UInt8]) throws {
        // UDP_WRITE: ip 2, gw 6, src_port 10, dst_port 12, buffer_size 14, buffer 16.
        try rig.memory.write(at: rig.bufferAddress.linear, bytes: payload)
        rig.block([], size: 20)
        rig.setIP(2, ip)
        rig.setIP(6, gateway)
        rig.set16(10, UInt16(4000).bigEndian)
        rig.set16(12, UInt16(5000).bigEndian)
        rig.set16(14, UInt16(payload.count))
        rig.setAddress(16, rig.bufferAddress)
    }

    func testUDPWriteResolvesTheDestinationAndSends() throws {
        let rig = try bootedRig()
        udpOpen(rig)
        try udpWriteBlock(rig, to: rig.peer.proxyServer.ip, payload: Array("hello".utf8))
        XCTAssertEqual(rig.call(.udpWrite), .success)
        let (d, p) = try XCTUnwrap(rig.peer.udpToOthers.last)
        XCTAssertEqual(p, Array("hello".utf8))
        XCTAssertEqual(d.ethernet.destination, rig.peer.proxyServer.mac)
        XCTAssertEqual(d.ip.source, rig.peer.clientAddress)
        XCTAssertEqual(d.udp.sourcePort, 4000)
        XCTAssertEqual(d.udp.destinationPort, 5000)
    }

    func testUDPWriteOffLinkGoesThroughTheRouter() throws {
        let rig = try bootedRig()
        udpOpen(rig)
        try udpWriteBlock(rig, to: IPv4Address(172, 16, 0, 9), payload: [1, 2, 3])
        XCTAssertEqual(rig.call(.udpWrite), .success)
        let (d, _) = try XCTUnwrap(rig.peer.udpToOthers.last)
        XCTAssertEqual(d.ethernet.destination, rig.peer.router.mac)
        XCTAssertEqual(d.ip.destination, IPv4Address(172, 16, 0, 9))
    }

    func testUDPWriteOffLinkUsesTheCallersGateway() throws {
        let rig = try bootedRig()
        udpOpen(rig)
        try udpWriteBlock(rig, to: IPv4Address(172, 16, 0, 9), gateway: rig.peer.proxyServer.ip, payload: [1])
        XCTAssertEqual(rig.call(.udpWrite), .success)
        XCTAssertEqual(rig.peer.udpToOthers.last?.0.ethernet.destination, rig.peer.proxyServer.mac)
    }

    func testUDPWriteToAnAddressNobodyHasIsARPTimeout() throws {
        let rig = try bootedRig()
        udpOpen(rig)
        try udpWriteBlock(rig, to: IPv4Address(10, 0, 0, 77), payload: [1])
        XCTAssertEqual(rig.call(.udpWrite), .failure)
        XCTAssertEqual(rig.status(), .arpTimeout)
    }

    func testUDPWriteWithoutOpenIsUDPClosed() throws {
        let rig = try bootedRig()
        try udpWriteBlock(rig, to: rig.peer.dhcpServer.ip, payload: [1])
        XCTAssertEqual(rig.call(.udpWrite), .failure)
        XCTAssertEqual(rig.status(), .udpClosed)
    }

    func testUDPReadReturnsAMatchingDatagramAndItsAddresses() throws {
        // UDP_READ: src_ip 2, dest_ip 6, s_port 10, d_port 12, buffer_size 14, buffer 16.
        let rig = try bootedRig()
        udpOpen(rig)
        rig.peer.sendUDP(from: rig.peer.proxyServer, sourcePort: 7000,
                         to: UDPEndpoint(mac: rig.nic.stationAddress, ip: rig.peer.clientAddress, port: 2069), payload: [9, 8, 7])
        rig.board.advance(by: VirtualClock.millisecond)
        rig.block([], size: 20)
        rig.set16(12, UInt16(2069).bigEndian)
        rig.set16(14, 100)
        rig.setAddress(16, rig.bufferAddress)
        XCTAssertEqual(rig.call(.udpRead), .success)
        XCTAssertEqual(IPv4Address(rawValue: UInt32(bigEndian: rig.u32(2))), rig.peer.proxyServer.ip)
        XCTAssertEqual(IPv4Address(rawValue: UInt32(bigEndian: rig.u32(6))), rig.peer.clientAddress)
        XCTAssertEqual(UInt16(bigEndian: rig.u16(10)), 7000)
        XCTAssertEqual(UInt16(bigEndian: rig.u16(12)), 2069)
        XCTAssertEqual(rig.u16(14), 3)
        XCTAssertEqual(try rig.memory.readBytes(at: rig.bufferAddress.linear, count: 3), [9, 8, 7])
    }

    func testUDPReadFiltersOnDestinationPortAndTreatsSourceFieldsAsOutputs() throws {
        // PXE 2.1 §3.4.4: dest_ip and d_port are filters; src_ip and s_port
        // are outputs. Stale values left in them (pxelinux keeps its block
        // static) must not hide the next datagram.
        let rig = try bootedRig()
        udpOpen(rig)
        rig.peer.sendUDP(from: rig.peer.dhcpServer, sourcePort: 7000,
                         to: UDPEndpoint(mac: rig.nic.stationAddress, ip: rig.peer.clientAddress, port: 3000), payload: [1])
        rig.peer.sendUDP(from: rig.peer.proxyServer, sourcePort: 7001,
                         to: UDPEndpoint(mac: rig.nic.stationAddress, ip: rig.peer.clientAddress, port: 2069), payload: [2])
        rig.board.advance(by: VirtualClock.millisecond)
        rig.block([], size: 20)
        rig.setIP(2, rig.peer.dhcpServer.ip)
        rig.set16(10, UInt16(9999).bigEndian)
        rig.set16(12, UInt16(2069).bigEndian)
        rig.set16(14, 10)
        rig.setAddress(16, rig.bufferAddress)
        XCTAssertEqual(rig.call(.udpRead), .success)
        XCTAssertEqual(try rig.memory.readU8(rig.bufferAddress.linear), 2)
        XCTAssertEqual(IPv4Address(rawValue: UInt32(bigEndian: rig.u32(2))), rig.peer.proxyServer.ip)
        XCTAssertEqual(UInt16(bigEndian: rig.u16(10)), 7001)
    }

    func testUDPReadWithNothingWaitingFailsWithoutWaiting() throws {
        let rig = try bootedRig()
        udpOpen(rig)
        let before = rig.clock.now
        rig.block([], size: 20)
        rig.set16(14, 10)
        rig.setAddress(16, rig.bufferAddress)
        XCTAssertEqual(rig.call(.udpRead), .failure)
        XCTAssertEqual(rig.status(), .failure)
        XCTAssertEqual(rig.clock.now, before)
    }

    func testUDPOpenWithASourceAddressSetsOurAddress() throws {
        let rig = try bootedRig()
        udpOpen(rig, source: IPv4Address(10, 0, 0, 123))
        XCTAssertEqual(rig.baseCode.ip.address, IPv4Address(10, 0, 0, 123))
    }

    func testUDPCloseTwiceIsUDPClosed() throws {
        let rig = try bootedRig()
        udpOpen(rig)
        rig.block([], size: 2)
        XCTAssertEqual(rig.call(.udpClose), .success)
        XCTAssertEqual(rig.call(.udpClose), .failure)
        XCTAssertEqual(rig.status(), .udpClosed)
    }

    func testTFTPOpenWhileUDPIsOpenIsUDPOpen() throws {
        let rig = try bootedRig()
        udpOpen(rig)
        tftpOpenBlock(rig, file: "x")
        XCTAssertEqual(rig.call(.tftpOpen), .failure)
        XCTAssertEqual(rig.status(), .udpOpen)
    }

    // MARK: Preboot

    func testStopBaseMakesBaseCodeCallsFailUntilStartBase() throws {
        let rig = try bootedRig()
        rig.block([], size: 2)
        XCTAssertEqual(rig.call(.stopBase), .success)
        rig.block([], size: 12)
        rig.set16(2, 2)
        XCTAssertEqual(rig.call(.getCachedInfo), .failure)
        XCTAssertEqual(rig.status(), .badFunction)
        rig.block([], size: 2)
        XCTAssertEqual(rig.call(.startBase), .success)
        rig.block([], size: 12)
        rig.set16(2, 2)
        XCTAssertEqual(rig.call(.getCachedInfo), .success)
    }

    func testUnloadStackIsFinal() throws {
        let rig = try bootedRig()
        rig.block([], size: 12)
        XCTAssertEqual(rig.call(.unloadStack), .success)
        rig.block([], size: 2)
        XCTAssertEqual(rig.call(.startBase), .failure)
        XCTAssertEqual(rig.status(), .badFunction)
    }

    func testPXELinuxUnloadSequenceEndsWithTheUNDIStopped() throws {
        // pxelinux unloads with UNDI_SHUTDOWN, UNLOAD_STACK, STOP_UNDI.
        let rig = try bootedRig()
        rig.block([], size: 12)
        XCTAssertEqual(rig.call(.undiShutdown), .success)
        XCTAssertEqual(rig.call(.unloadStack), .success)
        XCTAssertEqual(rig.call(.stopUNDI), .success)
        XCTAssertEqual(rig.undi.state, .stopped)
    }

    func testStartUNDIChecksTheBusDevFuncInAX() {
        let rig = PXETestRig()
        rig.block([], size: 12)
        rig.set16(2, 0x0020)  // 00:04.0, not our 00:03.0
        XCTAssertEqual(rig.call(.startUNDI), .failure)
        XCTAssertEqual(rig.status(), .undiInvalidParameter)
        rig.set16(2, 0x0018)
        XCTAssertEqual(rig.call(.startUNDI), .success)
        XCTAssertEqual(rig.undi.state, .started)
    }

    func testCallLogRecordsOpcodesAndStatuses() throws {
        let rig = try bootedRig()
        rig.block([], size: 2)
        rig.call(.tftpClose)
        XCTAssertEqual(rig.api.callLog.last?.opcode, 0x0021)
        XCTAssertEqual(rig.api.callLog.last?.status, .tftpClosed)
    }
}
