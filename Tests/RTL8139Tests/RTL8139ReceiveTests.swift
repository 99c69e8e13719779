import NICCore
import XCTest

@testable import RTL8139

final class RTL8139ReceiveTests: XCTestCase {
    typealias R = RTL8139Register
    let ring: UInt64 = 0x1_0000

    /// Each frame in the classic ring starts with a 4-byte header: status
    /// (ROK plus the PAM/BAR/MAR class) and the length including the 4-byte
    /// CRC, followed by the frame and its FCS.
    func testClassicHeaderStatusLengthAndFCS() throws {
        let rig = Rig()
        rig.startClassicReceiver()
        let frame = makeFrame(length: 100)
        XCTAssertEqual(rig.offer(frame), .accepted)
        let stored = try rig.memory.readBytes(at: ring, count: 4 + 104)
        let header = le32(stored, 0)
        XCTAssertEqual(UInt16(header & 0xFFFF), ReceiveStatusBits.rok | ReceiveStatusBits.pam)
        XCTAssertEqual(header >> 16, 104)
        XCTAssertEqual(Array(stored[4..<104]), frame)
        let fcs = frame.withUnsafeBytes { EthernetFCS.compute($0) }
        XCTAssertEqual(le32(stored, 104), fcs)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.rok, InterruptBits.rok)
    }

    /// CBR advances to the next 4-byte boundary after each frame.
    func testFramesAreDwordAligned() {
        let rig = Rig()
        rig.startClassicReceiver()
        rig.offer(makeFrame(length: 61))
        XCTAssertEqual(rig.r16(R.cbr), UInt16((4 + 65 + 3) & ~3))
        XCTAssertEqual(rig.r8(R.cr) & CommandBits.bufe, 0)
    }

    /// Short frames are padded to 60 bytes before the FCS.
    func testShortFramesArePaddedTo60() throws {
        let rig = Rig()
        rig.startClassicReceiver()
        rig.offer(makeFrame(length: 42))
        XCTAssertEqual(le32(try rig.memory.readBytes(at: ring, count: 4), 0) >> 16, 64)
    }

    /// APM accepts frames to IDR and nothing else unicast.
    func testAPMAcceptsOnlyOurAddress() {
        let rig = Rig()
        rig.startClassicReceiver(filter: ReceiveConfigBits.apm)
        XCTAssertEqual(rig.offer(makeFrame()), .accepted)
        XCTAssertEqual(rig.offer(makeFrame(to: MACAddress(2, 9, 9, 9, 9, 9))), .filtered)
        XCTAssertEqual(rig.offer(makeFrame(to: .broadcast)), .filtered)
    }

    /// AB accepts broadcast, classified BAR.
    func testABAcceptsBroadcastWithBAR() throws {
        let rig = Rig()
        rig.startClassicReceiver(filter: ReceiveConfigBits.ab)
        XCTAssertEqual(rig.offer(makeFrame()), .filtered)
        XCTAssertEqual(rig.offer(makeFrame(to: .broadcast)), .accepted)
        XCTAssertEqual(UInt16(le32(try rig.memory.readBytes(at: ring, count: 4), 0) & 0xFFFF),
                       ReceiveStatusBits.rok | ReceiveStatusBits.bar)
    }

    /// AM accepts multicast only when the address's hash bit is set in MAR.
    func testAMUsesTheMulticastHash() throws {
        let rig = Rig()
        rig.startClassicReceiver(filter: ReceiveConfigBits.am)
        let group = MACAddress(0x01, 0x00, 0x5E, 0x00, 0x00, 0x01)
        XCTAssertEqual(rig.offer(makeFrame(to: group)), .filtered)
        let (byte, mask) = MulticastHash.marPosition(of: group)
        rig.w8(R.mar0 + byte, mask)
        XCTAssertEqual(rig.offer(makeFrame(to: group)), .accepted)
        XCTAssertEqual(UInt16(le32(try rig.memory.readBytes(at: ring, count: 4), 0) & 0xFFFF),
                       ReceiveStatusBits.rok | ReceiveStatusBits.mar)
    }

    /// AAP accepts every frame, still classifying broadcasts.
    func testAAPAcceptsEverything() {
        let rig = Rig()
        rig.startClassicReceiver(filter: ReceiveConfigBits.aap)
        XCTAssertEqual(rig.offer(makeFrame(to: MACAddress(2, 9, 9, 9, 9, 9))), .accepted)
        XCTAssertEqual(rig.offer(makeFrame(to: .broadcast)), .accepted)
        XCTAssertEqual(rig.offer(makeFrame(to: MACAddress(0x01, 0, 0x5E, 1, 2, 3))), .accepted)
    }

    /// With no filter bits nothing is accepted.
    func testNoFilterBitsRejectEverything() {
        let rig = Rig()
        rig.startClassicReceiver(filter: 0)
        XCTAssertEqual(rig.offer(makeFrame()), .filtered)
        XCTAssertEqual(rig.offer(makeFrame(to: .broadcast)), .filtered)
    }

    /// Frames over 4 KiB carry LONG status and are stored only with AER,
    /// raising RER instead of ROK.
    func testLongFramesNeedAER() throws {
        let rig = Rig()
        rig.startClassicReceiver(rblen: 1, filter: ReceiveConfigBits.apm)
        XCTAssertEqual(rig.offer(makeFrame(length: 5000)), .filtered)
        rig.w32(R.rcr, rig.r32(R.rcr) | ReceiveConfigBits.aer)
        XCTAssertEqual(rig.offer(makeFrame(length: 5000)), .accepted)
        let status = UInt16(le32(try rig.memory.readBytes(at: ring, count: 4), 0) & 0xFFFF)
        XCTAssertEqual(status & (ReceiveStatusBits.long | ReceiveStatusBits.rok), ReceiveStatusBits.long)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.rer, InterruptBits.rer)
    }

    /// The receiver takes nothing while CR.RE is clear.
    func testReceiverOffTakesNothing() {
        let rig = Rig()
        rig.startClassicReceiver()
        rig.w8(R.cr, CommandBits.te)
        XCTAssertEqual(rig.offer(makeFrame()), .noRoom)
    }

    /// WRAP=0: a frame that reaches the end of the ring continues at its start.
    func testRingWrapsToStartWithoutWRAP() throws {
        let rig = Rig()
        rig.startClassicReceiver(wrap: false)
        // Move both pointers near the end of the 8K ring.
        rig.nic.writePointer = 8192 - 40
        rig.w16(R.capr, UInt16(8192 - 40 - 16))
        let frame = makeFrame(length: 100)
        XCTAssertEqual(rig.offer(frame), .accepted)
        let tail = try rig.memory.readBytes(at: ring + 8192 - 40, count: 40)
        let head = try rig.memory.readBytes(at: ring, count: 68)
        let stored = tail + head
        XCTAssertEqual(le32(stored, 0) >> 16, 104)
        XCTAssertEqual(Array(stored[4..<104]), frame)
        XCTAssertEqual(rig.r16(R.cbr), UInt16((8192 - 40 + 108) % 8192))
        XCTAssertEqual(try rig.memory.readBytes(at: ring + 8192, count: 4), [0, 0, 0, 0], "nothing past the ring end")
    }

    /// WRAP=1: the frame runs on past the end of the ring into the slack;
    /// CBR still continues modulo the ring size.
    func testRingOverflowsPastEndWithWRAP() throws {
        let rig = Rig()
        rig.startClassicReceiver(wrap: true)
        rig.nic.writePointer = 8192 - 40
        rig.w16(R.capr, UInt16(8192 - 40 - 16))
        let frame = makeFrame(length: 100)
        XCTAssertEqual(rig.offer(frame), .accepted)
        let stored = try rig.memory.readBytes(at: ring + 8192 - 40, count: 108)
        XCTAssertEqual(Array(stored[4..<104]), frame)
        XCTAssertEqual(rig.r16(R.cbr), UInt16((8192 - 40 + 108) % 8192))
    }

    /// A full ring misses the frame: RXOVW in ISR; when the wire drops what
    /// the card can't take, the frame overflowed the FIFO: FOVW, and MPC counts it.
    func testFullRingSetsRXOVWAndCountsMPC() {
        let rig = Rig(policy: .drop)
        rig.startClassicReceiver()
        var accepted = 0
        while rig.offer(makeFrame(length: 1000)) == .accepted { accepted += 1 }
        XCTAssertEqual(accepted, 8)     // 8 x 1008 = 8064 bytes fit in the 8K ring; a ninth does not
        XCTAssertEqual(rig.r16(R.isr) & (InterruptBits.rxovw | InterruptBits.fovw), InterruptBits.rxovw | InterruptBits.fovw)
        XCTAssertEqual(rig.r32(R.mpc), 1)
    }

    /// Behind a port that holds frames, a full ring still raises RXOVW, but
    /// the frame waits in the port (the chip's FIFO) and MPC does not count it.
    func testHeldFrameIsNotCountedAsMissed() {
        let rig = Rig()
        rig.startClassicReceiver()
        let frame = makeFrame(length: 1000)
        while frame.withUnsafeBytes({ rig.nic.port.offer($0) }) == .delivered {}
        XCTAssertEqual(rig.r16(R.isr) & (InterruptBits.rxovw | InterruptBits.fovw), InterruptBits.rxovw)
        XCTAssertEqual(rig.r32(R.mpc), 0)
        XCTAssertEqual(rig.nic.port.pendingFrames, 1)
    }

    /// Reading a frame and moving CAPR frees its space; BUFE returns when
    /// CAPR+16 catches up with CBR.
    func testCAPRFreesSpaceAndBUFE() {
        let rig = Rig()
        rig.startClassicReceiver()
        rig.offer(makeFrame(length: 100))
        XCTAssertEqual(rig.r8(R.cr) & CommandBits.bufe, 0)
        rig.w16(R.capr, rig.r16(R.cbr) &- 16)
        XCTAssertEqual(rig.r8(R.cr) & CommandBits.bufe, CommandBits.bufe)
    }

    /// The 64K ring always wraps, WRAP or not.
    func testSixtyFourKRingIgnoresWRAP() throws {
        let rig = Rig()
        rig.startClassicReceiver(rblen: 3, wrap: true)
        rig.nic.writePointer = 65536 - 20
        rig.w16(R.capr, UInt16(65536 - 20 - 16))
        XCTAssertEqual(rig.offer(makeFrame(length: 100)), .accepted)
        XCTAssertEqual(rig.r16(R.cbr), UInt16((65536 - 20 + 108) % 65536))
    }
}
