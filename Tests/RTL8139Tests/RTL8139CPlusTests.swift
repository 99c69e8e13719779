import NICCore
import XCTest

@testable import RTL8139

final class RTL8139CPlusTests: XCTestCase {
    typealias R = RTL8139Register

    /// A frame may span several descriptors, FS on the first and LS on the
    /// last; the chip clears OWN on each and raises TOK once.
    func testTransmitGathersMultipleDescriptors() {
        let rig = Rig()
        rig.startCPlus()
        let frame = makeFrame(to: .broadcast, length: 300)
        try? rig.memory.write(at: 0x8000, bytes: Array(frame[0..<100]))
        try? rig.memory.write(at: 0x9000, bytes: Array(frame[100..<250]))
        try? rig.memory.write(at: 0xA000, bytes: Array(frame[250...]))
        let own = DescriptorBits.own
        rig.putDescriptor(ring: Rig.txRing, index: 0, command: own | DescriptorBits.fs | 100, buffer: 0x8000)
        rig.putDescriptor(ring: Rig.txRing, index: 1, command: own | 150, buffer: 0x9000)
        rig.putDescriptor(ring: Rig.txRing, index: 2, command: own | DescriptorBits.ls | 50, buffer: 0xA000)
        rig.w8(R.tppoll, TransmitPollBits.npq)
        XCTAssertEqual(rig.sent, [frame])
        for i in 0..<3 { XCTAssertEqual(rig.descriptor(ring: Rig.txRing, index: i).command & own, 0) }
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.tok, InterruptBits.tok)
    }

    /// EOR sends the chip back to descriptor 0.
    func testTransmitRingWrapsAtEOR() {
        let rig = Rig()
        rig.startCPlus()
        rig.sendCPlus(makeFrame(length: 60, seed: 1), index: 0, flags: DescriptorBits.eor)
        rig.sendCPlus(makeFrame(length: 60, seed: 2), index: 0, flags: DescriptorBits.eor)
        XCTAssertEqual(rig.sent.count, 2)
        XCTAssertEqual(rig.sent[1], makeFrame(length: 60, seed: 2))
    }

    /// TAGC in dword1 inserts an 802.1Q tag; the TCI sits byte-swapped in
    /// dword1's low 16 bits.
    func testTransmitInsertsVLANTag() {
        let rig = Rig()
        rig.startCPlus()
        let frame = makeFrame(to: .broadcast, length: 64)
        rig.sendCPlus(frame, vlan: DescriptorBits.tagc | 0x2301)
        XCTAssertEqual(rig.sent.count, 1)
        XCTAssertEqual(Array(rig.sent[0][12..<16]), [0x81, 0x00, 0x01, 0x23])
        XCTAssertEqual(Array(rig.sent[0][16...]), Array(frame[12...]))
    }

    /// IPCS and UDPCS fill in the IPv4 header and UDP checksums.
    func testIPAndUDPChecksumOffload() {
        let rig = Rig()
        rig.startCPlus()
        let data = payload(101)
        rig.sendCPlus(ipv4Frame(proto: 17, l4Header: udpHeader(length: 8 + data.count), payload: data),
                      flags: DescriptorBits.ipcs | DescriptorBits.udpcs)
        let check = checksumsVerify(rig.sent[0])
        XCTAssertTrue(check.ip)
        XCTAssertTrue(check.l4)
    }

    /// TCPCS fills in the TCP checksum over the pseudo header.
    func testTCPChecksumOffload() {
        let rig = Rig()
        rig.startCPlus()
        rig.sendCPlus(ipv4Frame(proto: 6, l4Header: tcpHeader(), payload: payload(333)),
                      flags: DescriptorBits.ipcs | DescriptorBits.tcpcs)
        let check = checksumsVerify(rig.sent[0])
        XCTAssertTrue(check.ip)
        XCTAssertTrue(check.l4)
    }

    /// Large send cuts the TCP payload into MSS-sized segments with
    /// advancing sequence numbers and IP IDs, per-segment lengths and
    /// checksums, and FIN/PSH on the last segment only.
    func testLargeSendSegmentsByMSS() {
        let rig = Rig()
        rig.startCPlus()
        let data = payload(2500)
        let mss: UInt32 = 1000
        rig.sendCPlus(ipv4Frame(proto: 6, l4Header: tcpHeader(sequence: 5000, flags: 0x19), payload: data),
                      flags: DescriptorBits.largeSend | mss << DescriptorBits.mssShift)
        XCTAssertEqual(rig.sent.count, 3)
        var reassembled: [UInt8] = []
        for (i, seg) in rig.sent.enumerated() {
            let check = checksumsVerify(seg)
            XCTAssertTrue(check.ip, "segment \(i) IP checksum")
            XCTAssertTrue(check.l4, "segment \(i) TCP checksum")
            let total = Int(seg[16]) << 8 | Int(seg[17])
            XCTAssertEqual(seg.count, 14 + total)
            XCTAssertEqual(Int(seg[18]) << 8 | Int(seg[19]), 0x1234 + i)
            let seq = UInt32(seg[38]) << 24 | UInt32(seg[39]) << 16 | UInt32(seg[40]) << 8 | UInt32(seg[41])
            XCTAssertEqual(seq, 5000 + UInt32(i) * mss)
            XCTAssertEqual(seg[47] & 0x09, i == 2 ? 0x09 : 0)
            reassembled += seg[54...]
        }
        XCTAssertEqual(reassembled, data)
    }

    /// Large send and VLAN insertion together: every segment carries the
    /// tag, and its IP and TCP checksums verify once the tag is removed.
    func testLargeSendWithVLANTagsEverySegment() {
        let rig = Rig()
        rig.startCPlus()
        rig.sendCPlus(ipv4Frame(proto: 6, l4Header: tcpHeader(), payload: payload(1200)),
                      flags: DescriptorBits.largeSend | 500 << DescriptorBits.mssShift, vlan: DescriptorBits.tagc | 0x0500)
        XCTAssertEqual(rig.sent.count, 3)
        for seg in rig.sent {
            XCTAssertEqual(Array(seg[12..<16]), [0x81, 0x00, 0x00, 0x05])
            let untagged = Array(seg[0..<12]) + Array(seg[16...])
            let check = checksumsVerify(untagged)
            XCTAssertTrue(check.ip)
            XCTAssertTrue(check.l4)
        }
    }

    /// A received frame fills one descriptor: OWN cleared, FS|LS, the PAM
    /// class bit and the length including FCS; EOR is kept.
    func testReceiveFillsDescriptor() throws {
        let rig = Rig()
        rig.startCPlus()
        rig.armReceive(count: 2, size: 1536)
        let frame = makeFrame(length: 100)
        XCTAssertEqual(rig.offer(frame), .accepted)
        let d = rig.descriptor(ring: Rig.rxRing, index: 0).command
        XCTAssertEqual(d & DescriptorBits.own, 0)
        XCTAssertEqual(d & (DescriptorBits.fs | DescriptorBits.ls), DescriptorBits.fs | DescriptorBits.ls)
        XCTAssertEqual(d & DescriptorBits.rxPhysical, DescriptorBits.rxPhysical)
        XCTAssertEqual(d & DescriptorBits.rxSizeMask, 104)
        XCTAssertEqual(try rig.memory.readBytes(at: 0x4_0000, count: 100), frame)
        rig.offer(makeFrame(to: .broadcast, length: 100))
        let d1 = rig.descriptor(ring: Rig.rxRing, index: 1).command
        XCTAssertEqual(d1 & (DescriptorBits.rxBroadcast | DescriptorBits.eor), DescriptorBits.rxBroadcast | DescriptorBits.eor)
    }

    /// With CPCR.RxVLAN the tag is removed from the frame and reported in
    /// dword1: TAVA and the TCI byte-swapped.
    func testReceiveStripsVLANTag() throws {
        let rig = Rig()
        rig.startCPlus(extra: CPlusCommandBits.rxVLAN)
        rig.armReceive(count: 1, size: 1536)
        let inner = makeFrame(length: 100)
        let tagged = Array(inner[0..<12]) + [0x81, 0x00, 0x01, 0x23] + Array(inner[12...])
        XCTAssertEqual(rig.offer(tagged), .accepted)
        let d = rig.descriptor(ring: Rig.rxRing, index: 0)
        XCTAssertEqual(d.vlan, DescriptorBits.tava | 0x2301)
        XCTAssertEqual(d.command & DescriptorBits.rxSizeMask, 104)
        XCTAssertEqual(try rig.memory.readBytes(at: 0x4_0000, count: 100), inner)
    }

    /// A frame larger than one buffer is scattered: FS on the first
    /// descriptor, LS (with the whole length) on the last.
    func testReceiveScattersOverDescriptors() throws {
        let rig = Rig()
        rig.startCPlus()
        rig.armReceive(count: 4, size: 256)
        let frame = makeFrame(length: 600)
        XCTAssertEqual(rig.offer(frame), .accepted)
        let d = (0..<3).map { rig.descriptor(ring: Rig.rxRing, index: $0).command }
        XCTAssertEqual(d[0] & (DescriptorBits.fs | DescriptorBits.ls | DescriptorBits.own), DescriptorBits.fs)
        XCTAssertEqual(d[1] & (DescriptorBits.fs | DescriptorBits.ls | DescriptorBits.own), 0)
        XCTAssertEqual(d[2] & (DescriptorBits.fs | DescriptorBits.ls | DescriptorBits.own), DescriptorBits.ls)
        XCTAssertEqual(d[2] & DescriptorBits.rxSizeMask, 604)
        var stored: [UInt8] = []
        for i in 0..<3 { stored += try rig.memory.readBytes(at: 0x4_0000 + UInt64(i * 0x1000), count: 256) }
        XCTAssertEqual(Array(stored[0..<600]), frame)
        XCTAssertNotEqual(rig.descriptor(ring: Rig.rxRing, index: 3).command & DescriptorBits.own, 0)
    }

    /// No descriptor owned by the chip: RDU (ISR bit 4) and MPC, nothing written.
    func testReceiveWithoutDescriptorsRaisesRDU() {
        let rig = Rig(policy: .drop)
        rig.startCPlus()
        rig.putDescriptor(ring: Rig.rxRing, index: 0, command: 1536, buffer: 0x4_0000)
        XCTAssertEqual(rig.offer(makeFrame()), .noRoom)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.rxovw, InterruptBits.rxovw)
        XCTAssertEqual(rig.r32(R.mpc), 1)
    }

    /// With CPCR.RxChkSum the descriptor reports the protocol and whether
    /// the IP and UDP checksums failed.
    func testReceiveChecksumStatus() {
        let rig = Rig()
        rig.startCPlus(extra: CPlusCommandBits.rxChecksum)
        rig.armReceive(count: 2, size: 1536)
        // Let the transmitter compute a valid frame, then receive it.
        rig.sendCPlus(ipv4Frame(proto: 17, l4Header: udpHeader(length: 58), payload: payload(50)),
                      flags: DescriptorBits.ipcs | DescriptorBits.udpcs)
        var good = rig.sent[0]
        rig.offer(good)
        let d0 = rig.descriptor(ring: Rig.rxRing, index: 0).command
        XCTAssertEqual((d0 >> 16) & 3, 2)
        XCTAssertEqual(d0 & (DescriptorBits.rxIPChecksumFail | DescriptorBits.rxUDPChecksumFail), 0)
        good[60] ^= 0xFF
        rig.offer(good)
        let d1 = rig.descriptor(ring: Rig.rxRing, index: 1).command
        XCTAssertEqual(d1 & (DescriptorBits.rxIPChecksumFail | DescriptorBits.rxUDPChecksumFail), DescriptorBits.rxUDPChecksumFail)
    }

    /// DTCCR: writing the address with Cmd dumps the tally counters (TxOk
    /// at +0, RxOk at +8, RxOkPhy at +40, RxOkBrd at +48) and Cmd clears.
    func testDTCCRDumpsTallyCounters() throws {
        let rig = Rig()
        rig.startCPlus()
        rig.armReceive(count: 2, size: 1536)
        rig.sendCPlus(makeFrame(length: 60))
        rig.offer(makeFrame())
        rig.offer(makeFrame(to: .broadcast))
        rig.w32(R.dtccr + 4, 0)
        rig.w32(R.dtccr, 0x6000 | 0x8)
        XCTAssertEqual(rig.r32(R.dtccr) & 0x8, 0)
        XCTAssertEqual(try rig.memory.readU64(0x6000), 1)
        XCTAssertEqual(try rig.memory.readU64(0x6008), 2)
        XCTAssertEqual(try rig.memory.readU64(0x6000 + 40), 1)
        XCTAssertEqual(try rig.memory.readU64(0x6000 + 48), 1)
    }

    /// Without a link the C+ descriptor comes back with the link-failure
    /// and error-summary bits, and nothing reaches the wire.
    func testCPlusTransmitWithoutLinkReportsLinkFailure() {
        let rig = Rig()
        rig.startCPlus()
        rig.nic.port.setLink(up: false)
        rig.sendCPlus(makeFrame(length: 60))
        XCTAssertTrue(rig.sent.isEmpty)
        let bits = DescriptorBits.txLinkFailure | DescriptorBits.txErrorSummary
        XCTAssertEqual(rig.descriptor(ring: Rig.txRing, index: 0).command & bits, bits)
        XCTAssertEqual(rig.r16(R.isr) & (InterruptBits.ter | InterruptBits.tok), InterruptBits.ter)
    }

    /// HPQ polls the high-priority ring at THPDS.
    func testHighPriorityRing() {
        let rig = Rig()
        rig.startCPlus()
        let frame = makeFrame(length: 60)
        try? rig.memory.write(at: 0x8000, bytes: frame)
        rig.putDescriptor(ring: Rig.highTxRing, index: 0,
                          command: DescriptorBits.own | DescriptorBits.fs | DescriptorBits.ls | DescriptorBits.eor | 60, buffer: 0x8000)
        rig.w8(R.tppoll, TransmitPollBits.hpq)
        XCTAssertEqual(rig.sent, [frame])
    }

    /// TPPoll.FSWInt raises the software interrupt.
    func testSoftwareInterrupt() {
        let rig = Rig()
        rig.w8(R.tppoll, TransmitPollBits.fswInt)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.swInt, InterruptBits.swInt)
    }
}
