import NICCore
import XCTest

@testable import RTL8139

/// Guest input that must never trap, loop without bound, or reach memory
/// outside guest RAM (the QEMU RTL8139 CVE list is the checklist).
final class RTL8139HardeningTests: XCTestCase {
    typealias R = RTL8139Register

    /// CVE-2015-5165 class: an IP total length far beyond the frame must
    /// not make the checksum offload read or send bytes that were never
    /// gathered. The frame goes out at exactly its gathered length.
    func testOffloadIgnoresOversizedIPTotalLength() {
        let rig = Rig()
        rig.startCPlus()
        // Leave stale bytes after the buffer: they must never appear on the wire.
        try? rig.memory.fill(at: 0x8000, count: 0x1_0000, with: 0xEE)
        let frame = ipv4Frame(proto: 6, l4Header: tcpHeader(), payload: payload(20), totalLength: 0xFFFF)
        rig.sendCPlus(frame, flags: DescriptorBits.ipcs | DescriptorBits.tcpcs)
        XCTAssertEqual(rig.sent.count, 1)
        XCTAssertEqual(rig.sent[0].count, frame.count)
        XCTAssertFalse(rig.sent[0][54...].contains(0xEE))
    }

    /// CVE-2015-5165 class: an IP total length shorter than the IP header
    /// (the underflow QEMU hit) disables the offload instead of wrapping.
    func testOffloadRejectsIPTotalLengthBelowHeader() {
        let rig = Rig()
        rig.startCPlus()
        let frame = ipv4Frame(proto: 6, l4Header: tcpHeader(), payload: payload(100), totalLength: 10)
        rig.sendCPlus(frame, flags: DescriptorBits.largeSend | 100 << DescriptorBits.mssShift)
        XCTAssertEqual(rig.sent, [frame], "sent unsegmented and unchanged")
    }

    /// An IP header length past the end of the frame disables the offload.
    func testOffloadRejectsIPHeaderLengthPastFrame() {
        let rig = Rig()
        rig.startCPlus()
        let frame = ipv4Frame(proto: 17, l4Header: [], payload: payload(26), ihl: 15)     // 60-byte header claimed, 46 bytes there
        rig.sendCPlus(frame, flags: DescriptorBits.ipcs | DescriptorBits.udpcs)
        XCTAssertEqual(rig.sent, [frame])
    }

    /// A TCP data offset larger than the segment disables TCP offload and
    /// large send.
    func testOffloadRejectsTCPDataOffsetPastSegment() {
        let rig = Rig()
        rig.startCPlus()
        let frame = ipv4Frame(proto: 6, l4Header: tcpHeader(dataOffsetWords: 15), payload: payload(10))
        rig.sendCPlus(frame, flags: DescriptorBits.largeSend | 8 << DescriptorBits.mssShift)
        XCTAssertEqual(rig.sent, [frame])
    }

    /// Large send with MSS 0: refused with TER, no division, no loop; the
    /// descriptor still goes back to the driver.
    func testLargeSendWithZeroMSSIsRefused() {
        let rig = Rig()
        rig.startCPlus()
        rig.sendCPlus(ipv4Frame(proto: 6, l4Header: tcpHeader(), payload: payload(3000)), flags: DescriptorBits.largeSend)
        XCTAssertTrue(rig.sent.isEmpty)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.ter, InterruptBits.ter)
        XCTAssertEqual(rig.descriptor(ring: Rig.txRing, index: 0).command & DescriptorBits.own, 0)
    }

    /// Large send with an MSS below 48 (docs/deviations.md RTL8139-TSO-MIN-MSS)
    /// is refused like MSS 0: TER, nothing sent, the descriptor returned.
    /// MSS 1 would cut one 64 KiB frame into 65,000 segments inside one
    /// TPPoll write, 64 descriptors into four million.
    func testLargeSendWithTinyMSSIsRefused() {
        let rig = Rig()
        rig.startCPlus()
        rig.sendCPlus(ipv4Frame(proto: 6, l4Header: tcpHeader(), payload: payload(100)),
                      flags: DescriptorBits.largeSend | 1 << DescriptorBits.mssShift)
        XCTAssertTrue(rig.sent.isEmpty)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.ter, InterruptBits.ter)
        XCTAssertEqual(rig.descriptor(ring: Rig.txRing, index: 0).command & DescriptorBits.own, 0)
    }

    /// At the minimum MSS, 48, a large send is segmented as usual, so one
    /// descriptor makes at most 64 KiB / 48 = 1366 segments.
    func testLargeSendAtTheMinimumMSSIsSegmented() {
        let rig = Rig()
        rig.startCPlus()
        rig.sendCPlus(ipv4Frame(proto: 6, l4Header: tcpHeader(), payload: payload(480)),
                      flags: DescriptorBits.largeSend | 48 << DescriptorBits.mssShift)
        XCTAssertEqual(rig.sent.count, 10)
        XCTAssertEqual(RTL8139.minimumLargeSendMSS, 48)
    }

    /// CVE-2021-3416 class: in loopback, received frames written over the
    /// transmit ring re-arm its descriptors. Each poll still visits at most
    /// 64 descriptors and loopback never re-enters transmit.
    func testLoopbackOverTransmitRingIsBounded() {
        let rig = Rig()
        rig.startCPlus(filter: ReceiveConfigBits.aap)
        rig.w32(R.tcr, TransmitConfigBits.loopbackMask)
        // Receive buffers are the transmit ring itself.
        for i in 0..<64 {
            rig.putDescriptor(ring: Rig.rxRing, index: i, command: DescriptorBits.own | 1536, buffer: Rig.txRing)
        }
        // A frame whose first dword re-arms descriptor 0 when it lands there.
        var frame = [UInt8](repeating: 0xFF, count: 64)
        let arm = DescriptorBits.own | DescriptorBits.fs | DescriptorBits.ls | 64
        withUnsafeBytes(of: arm.littleEndian) { frame.replaceSubrange(0..<4, with: $0) }
        try? rig.memory.write(at: 0x8000, bytes: frame)
        rig.putDescriptor(ring: Rig.txRing, index: 0, command: arm | DescriptorBits.eor, buffer: 0x8000)
        rig.w8(R.tppoll, TransmitPollBits.npq)
        XCTAssertLessThanOrEqual(rig.nic.tally.txOK, 64)
        XCTAssertTrue(rig.sent.isEmpty)
    }

    /// A transmit ring with no EOR and every descriptor owned by the chip
    /// is served 64 descriptors at a time, not forever.
    func testTransmitRingWithoutEORIsBounded() {
        let rig = Rig()
        rig.startCPlus()
        let frame = makeFrame(length: 60)
        try? rig.memory.write(at: 0x8000, bytes: frame)
        for i in 0..<200 {
            rig.putDescriptor(ring: Rig.txRing, index: i,
                              command: DescriptorBits.own | DescriptorBits.fs | DescriptorBits.ls | 60, buffer: 0x8000)
        }
        rig.w8(R.tppoll, TransmitPollBits.npq)
        XCTAssertEqual(rig.sent.count, 64)
    }

    /// A receive ring of zero-sized descriptors, all owned by the chip and
    /// without EOR: the search for buffer space stops after 64 descriptors
    /// and the frame, which can never fit, is discarded.
    func testReceiveRingOfEmptyBuffersIsBounded() {
        let rig = Rig()
        rig.startCPlus()
        for i in 0..<100 {
            rig.putDescriptor(ring: Rig.rxRing, index: i, command: DescriptorBits.own, buffer: 0x4_0000)
        }
        XCTAssertEqual(rig.offer(makeFrame()), .filtered)
        XCTAssertEqual(rig.r32(R.mpc), 1)
    }

    /// A frame larger than a whole, fully owned C+ ring (EOR after two
    /// small buffers) is discarded instead of waiting forever at the head
    /// of the port's queue; the next frame gets through.
    func testFrameLargerThanCPlusRingDoesNotBlockTheQueue() {
        let rig = Rig()
        rig.startCPlus()
        rig.armReceive(count: 2, size: 256)
        XCTAssertEqual(rig.offer(makeFrame(length: 1000)), .filtered)
        XCTAssertEqual(rig.offer(makeFrame(length: 100)), .accepted)
    }

    /// A LONG frame (accepted with AER) larger than the whole 8K classic
    /// ring is discarded, not held forever.
    func testFrameLargerThanClassicRingIsDiscarded() {
        let rig = Rig()
        rig.startClassicReceiver(filter: ReceiveConfigBits.apm | ReceiveConfigBits.aer)
        XCTAssertEqual(rig.offer(makeFrame(length: 9000)), .filtered)
        XCTAssertEqual(rig.r32(R.mpc), 1)
        XCTAssertEqual(rig.offer(makeFrame(length: 100)), .accepted)
    }

    /// A descriptor ring pointing outside RAM raises SERR and a PCI master
    /// abort, and nothing is sent.
    func testTransmitRingOutsideRAMRaisesSERR() {
        let rig = Rig()
        rig.startCPlus()
        rig.w32(R.tnpds, 0xFFFF_FFF0)
        rig.w8(R.tppoll, TransmitPollBits.npq)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.serr, InterruptBits.serr)
        XCTAssertTrue(rig.nic.config.status.contains(.receivedMasterAbort))
        XCTAssertTrue(rig.sent.isEmpty)
    }

    /// A receive ring (or buffer) outside RAM: SERR, no write anywhere.
    func testReceiveRingOutsideRAMRaisesSERR() {
        let rig = Rig()
        rig.startCPlus()
        rig.w32(R.rdsar + 4, 0x1)
        rig.offer(makeFrame())
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.serr, InterruptBits.serr)
        rig.w32(R.rdsar + 4, 0)
        rig.w16(R.isr, 0xFFFF)
        rig.putDescriptor(ring: Rig.rxRing, index: 0, command: DescriptorBits.own | 1536, buffer: (1 << 20) - 10)
        rig.offer(makeFrame())
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.serr, InterruptBits.serr)
    }

    /// A C+ frame gathered past 64 KiB is dropped with TER.
    func testCPlusFrameOver64KiBIsDropped() {
        let rig = Rig()
        rig.startCPlus()
        let own = DescriptorBits.own
        rig.putDescriptor(ring: Rig.txRing, index: 0, command: own | DescriptorBits.fs | 0xFFFF, buffer: 0x1_0000)
        rig.putDescriptor(ring: Rig.txRing, index: 1, command: own | DescriptorBits.ls | 0xFFFF, buffer: 0x1_0000)
        rig.w8(R.tppoll, TransmitPollBits.npq)
        XCTAssertTrue(rig.sent.isEmpty)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.ter, InterruptBits.ter)
        XCTAssertEqual(rig.descriptor(ring: Rig.txRing, index: 1).command & DescriptorBits.txErrorSummary, DescriptorBits.txErrorSummary)
    }

    /// Classic TSD sizes are 13 bits; anything over the 1792-byte FIFO
    /// (including the 8 KiB the field can hold) aborts with TABT and TER.
    func testClassicOversizeTransmitAborts() {
        let rig = Rig()
        rig.w8(R.cr, CommandBits.te)
        rig.w32(R.tsad0, 0x4000)
        rig.w32(R.tsd0, 0xDFFF)         // OWN clear; the size field keeps 0x1FFF
        XCTAssertTrue(rig.sent.isEmpty)
        XCTAssertEqual(rig.r32(R.tsd0) & TransmitStatusBits.sizeMask, 0x1FFF)
        XCTAssertEqual(rig.r32(R.tsd0) & TransmitStatusBits.tabt, TransmitStatusBits.tabt)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.ter, InterruptBits.ter)
    }

    /// A classic buffer address outside RAM aborts the slot with SERR.
    func testClassicTransmitBufferOutsideRAM() {
        let rig = Rig()
        rig.w8(R.cr, CommandBits.te)
        rig.w32(R.tsad0, 0xFFFF_FF00)
        rig.w32(R.tsd0, 200)
        XCTAssertTrue(rig.sent.isEmpty)
        XCTAssertEqual(rig.r16(R.isr) & (InterruptBits.serr | InterruptBits.ter), InterruptBits.serr | InterruptBits.ter)
    }

    /// RBSTART near the end of RAM: the write that would cross the end is
    /// refused whole, SERR is raised, and the last bytes of RAM are untouched.
    func testRBSTARTNearEndOfRAM() throws {
        let rig = Rig()
        let top = UInt64(1 << 20)
        try rig.memory.fill(at: top - 64, count: 64, with: 0xAB)
        rig.startClassicReceiver(ring: UInt32(top - 64))
        XCTAssertEqual(rig.offer(makeFrame(length: 200)), .accepted)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.serr, InterruptBits.serr)
        XCTAssertTrue(rig.nic.config.status.contains(.receivedMasterAbort))
        XCTAssertEqual(try rig.memory.readBytes(at: top - 60, count: 60), [UInt8](repeating: 0xAB, count: 60))
    }

    /// Without Bus Master Enable the chip performs no DMA at all.
    func testNoDMAWithoutBusMaster() throws {
        let rig = Rig()
        rig.startClassicReceiver()
        rig.nic.config.write(offset: PCIConfigRegister.command, width: .word, value: 0x3)
        rig.offer(makeFrame())
        XCTAssertEqual(try rig.memory.readBytes(at: 0x1_0000, count: 4), [0, 0, 0, 0])
    }

    /// DTCCR pointing outside RAM raises SERR and still completes the command.
    func testTallyDumpOutsideRAM() {
        let rig = Rig()
        rig.startCPlus()
        rig.w32(R.dtccr + 4, 0xFFFF)
        rig.w32(R.dtccr, 0x8)
        XCTAssertEqual(rig.r32(R.dtccr) & 0x8, 0)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.serr, InterruptBits.serr)
    }

    /// Runt and oversize frames from the backend never trap: under 14 bytes
    /// is dropped, over the staging buffer is dropped.
    func testDegenerateFrameSizes() {
        let rig = Rig()
        rig.startClassicReceiver(filter: ReceiveConfigBits.aap | ReceiveConfigBits.aer)
        XCTAssertEqual(rig.offer([]), .filtered)
        XCTAssertEqual(rig.offer([0xFF, 0xFF]), .filtered)
        XCTAssertEqual(rig.offer([UInt8](repeating: 0xFF, count: 20_000)), .filtered)
    }

    /// Every register offset and width, read and written with all-ones and
    /// zeros, leaves the model answering.
    func testRegisterSweepNeverTraps() {
        let rig = Rig()
        for width in [AccessWidth.byte, .word, .dword, .qword] {
            for o in 0..<256 where o + width.rawValue <= 256 {
                for v: UInt64 in [0, ~0] {
                    rig.regs.write(offset: UInt64(o), width: width, value: v)
                    _ = rig.regs.read(offset: UInt64(o), width: width)
                }
            }
        }
        rig.w8(R.cr, CommandBits.rst)
        XCTAssertEqual(rig.r8(R.cr) & CommandBits.rst, 0)
    }
}

/// A wire that reacts to each sent frame by queueing the next one at once,
/// from inside the card's transmit: the re-entrant host.
final class EagerWire: FrameTransmitter {
    var frames = 0
    var react: ((Int) -> Void)?
    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        frames += 1
        react?(frames)
    }
}

final class RTL8139ReentrancyTests: XCTestCase {
    typealias R = RTL8139Register

    /// TPPoll written from inside a transmit callback is served after the
    /// running ring walk, not nested in it: every frame goes out once.
    func testTransmitPollFromTransmitCallback() {
        let rig = Rig()
        let wire = EagerWire()
        rig.nic.port.transmitter = wire
        rig.startCPlus()
        let frame = makeFrame(length: 60)
        try? rig.memory.write(at: 0x8000, bytes: frame)
        let last = DescriptorBits.own | DescriptorBits.fs | DescriptorBits.ls | 60
        wire.react = { n in
            guard n < 20 else { return }
            rig.putDescriptor(ring: Rig.txRing, index: n % 16, command: last | (n % 16 == 15 ? DescriptorBits.eor : 0), buffer: 0x8000)
            rig.w8(R.tppoll, TransmitPollBits.npq)
        }
        rig.putDescriptor(ring: Rig.txRing, index: 0, command: last, buffer: 0x8000)
        rig.w8(R.tppoll, TransmitPollBits.npq)
        XCTAssertEqual(wire.frames, 20)
    }

    /// TSD written from inside a transmit callback is sent by the running
    /// loop, once, in slot order.
    func testTSDWriteFromTransmitCallback() {
        let rig = Rig()
        let wire = EagerWire()
        rig.nic.port.transmitter = wire
        rig.w8(R.cr, CommandBits.te)
        try? rig.memory.write(at: 0x4000, bytes: makeFrame(length: 60))
        for i in 0..<4 { rig.w32(R.tsad0 + 4 * i, 0x4000) }
        wire.react = { n in
            guard n < 6 else { return }
            rig.w32(R.tsd0 + 4 * (n % 4), 60)
        }
        rig.w32(R.tsd0, 60)
        XCTAssertEqual(wire.frames, 6)
        XCTAssertEqual(rig.nic.nextTransmitSlot, 2)
    }
}

final class RTL8139RandomGuestTests: XCTestCase {
    /// A seeded random guest: register writes of every width (biased to
    /// the command, ring and descriptor registers), garbage in RAM, frames
    /// of every size from the wire, and time passing. The model must keep
    /// answering, and everything it sends must come from guest RAM it was
    /// pointed at, so no frame exceeds 64 KiB plus a VLAN tag.
    func testRandomGuestNeverTrapsOrHangs() {
        var rng = SeededRandom(seed: 0x8139)
        let rig = Rig()
        let hot = [0x10, 0x14, 0x18, 0x1C, 0x20, 0x24, 0x28, 0x30, 0x37, 0x38, 0x3C, 0x3E, 0x40, 0x44,
                   0x48, 0x50, 0x54, 0x62, 0xD9, 0xE0, 0xE4, 0xE8]
        for step in 0..<100_000 {
            let r = rng.next()
            switch r % 8 {
            case 0, 1, 2:
                let offset = r & 0x100 != 0 ? hot[Int((r >> 9) % UInt64(hot.count))] : Int((r >> 9) & 0xFF)
                let width = [AccessWidth.byte, .word, .dword, .qword][Int((r >> 20) & 3)]
                guard offset + width.rawValue <= 256 else { continue }
                var value = rng.next()
                if offset == 0x37 { value &= ~UInt64(0x10) | (step % 500 == 0 ? 0x10 : 0) }  // reset rarely
                if [0x20, 0x24, 0x28, 0x30, 0xE4].contains(offset) { value &= 0xF_FFFF }    // mostly inside RAM
                rig.regs.write(offset: UInt64(offset), width: width, value: value)
            case 3:
                _ = rig.regs.read(offset: (r >> 8) & 0xFF, width: .byte)
            case 4:
                let address = (r >> 8) % (1 << 20 - 16)
                try? rig.memory.writeU64(address, rng.next())
                try? rig.memory.writeU64(address + 8, rng.next())
            case 5, 6:
                let length = Int((r >> 8) % 2000)
                var frame = [UInt8](repeating: UInt8(truncatingIfNeeded: r >> 16), count: length)
                if length >= 6, r & 0x10000 != 0 { frame.replaceSubrange(0..<6, with: Rig.mac.bytes) }
                rig.offer(frame)
            default:
                rig.clock.advance(by: (r >> 8) % VirtualClock.millisecond)
            }
        }
        XCTAssertTrue(rig.sent.allSatisfy { $0.count <= 64 * 1024 + 4 })
        rig.w8(RTL8139Register.cr, CommandBits.rst)
        XCTAssertEqual(rig.r8(RTL8139Register.cr) & CommandBits.rst, 0)
    }
}
