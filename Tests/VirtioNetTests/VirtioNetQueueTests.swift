import NICCore
import VirtioNet
import XCTest

final class VirtioNetQueueTests: XCTestCase {
    let data = VirtioTestGuest.dataBase

    /// 5.1.6.2: a transmit chain is a virtio_net_hdr and a frame; the device
    /// sends the frame without the header and returns the chain (len 0).
    func testTransmitSendsFrameAndReturnsChain() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac])
        let frame = VirtioTestGuest.frame(length: 100)
        g.put([UInt8](repeating: 0, count: 12) + frame, at: data)
        g.tx.setDescriptor(0, address: data, length: UInt32(12 + frame.count))
        g.tx.publish(0)
        g.kick(1)
        XCTAssertEqual(g.sink.frames, [frame])
        XCTAssertEqual(g.tx.usedIndex, 1)
        XCTAssertEqual(g.tx.usedElement(0).id, 0)
        XCTAssertEqual(g.tx.usedElement(0).length, 0)
        XCTAssertEqual(g.readISR(), 1)
    }

    /// Legacy without ANY_LAYOUT: a 10-byte header in its own descriptor,
    /// the frame chained after it (how legacy iPXE and Linux transmit).
    func testLegacyTransmitWithSeparateHeader() {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, variant: .legacy, queueSize: 16))
        XCTAssertEqual(g.start(features: [.mac]), 7)
        let frame = VirtioTestGuest.frame(length: 64)
        g.put(frame, at: data + 0x100)
        g.tx.setDescriptor(0, address: data, length: 10, flags: MockVirtQueue.next, next: 1)
        g.tx.setDescriptor(1, address: data + 0x100, length: UInt32(frame.count))
        g.tx.publish(0)
        g.kick(1)
        XCTAssertEqual(g.sink.frames, [frame])
        XCTAssertNil(g.device.lastError)
    }

    /// 5.1.6.2: with NEEDS_CSUM the device sums from csum_start to the end
    /// (the field holds the pseudo-header sum) and stores the result at
    /// csum_start + csum_offset; our backends get finished checksums.
    func testTransmitCompletesPartialChecksum() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac, .csum])
        var frame = VirtioTestGuest.frame(length: 60)
        // A fake L4 region from byte 34 with its checksum field at 34+6 = 40.
        frame[40] = 0x12
        frame[41] = 0x34
        var header = [UInt8](repeating: 0, count: 12)
        header[0] = 1
        header[6] = 34
        header[8] = 6
        g.put(header + frame, at: data)
        g.tx.setDescriptor(0, address: data, length: UInt32(12 + frame.count))
        g.tx.publish(0)
        g.kick(1)
        let sent = g.sink.frames.first ?? []
        XCTAssertEqual(sent.count, 60)
        // The receiver's check: pseudo-header sum plus the segment with the
        // stored checksum folds to ones'-complement zero.
        var check = InternetChecksum()
        check.add(word: 0x1234)
        check.add(bytes: sent[34...])
        XCTAssertEqual(check.foldedSum, 0xFFFF)
        XCTAssertEqual(Array(sent[0..<34]), Array(frame[0..<34]))
    }

    /// 2.7.5.3: with RING_INDIRECT_DESC a descriptor can point at a table of
    /// descriptors that holds the whole chain.
    func testIndirectDescriptorTableCarriesChain() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac, .indirectDesc])
        let frame = VirtioTestGuest.frame(length: 80)
        let table = data + 0x8000
        g.put([UInt8](repeating: 0, count: 12), at: data)
        g.put(frame, at: data + 0x100)
        g.tx.setDescriptor(0, address: data, length: 12, flags: MockVirtQueue.next, next: 1, table: table)
        g.tx.setDescriptor(1, address: data + 0x100, length: UInt32(frame.count), table: table)
        g.tx.setDescriptor(3, address: table, length: 32, flags: MockVirtQueue.indirect)
        g.tx.publish(3)
        g.kick(1)
        XCTAssertEqual(g.sink.frames, [frame])
        XCTAssertEqual(g.tx.usedElement(0).id, 3)
    }

    /// 5.1.6.3/5.1.6.4: a received frame lands behind a zeroed header with
    /// num_buffers = 1; the used length counts header plus frame.
    func testReceiveWritesHeaderAndFrame() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac])
        g.put([UInt8](repeating: 0xEE, count: 16), at: data)
        g.rx.setDescriptor(0, address: data, length: 2048, flags: MockVirtQueue.write)
        g.rx.publish(0)
        let frame = VirtioTestGuest.frame(length: 200)
        XCTAssertEqual(g.offer(frame), .delivered)
        XCTAssertEqual(g.rx.usedIndex, 1)
        XCTAssertEqual(g.rx.usedElement(0).length, UInt32(12 + 200))
        XCTAssertEqual(g.bytes(at: data, 12), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0])
        XCTAssertEqual(g.bytes(at: data + 12, 200), frame)
        XCTAssertEqual(g.device.counters.receivedFrames, 1)
    }

    /// 5.1.6.4: with MRG_RXBUF a frame larger than one buffer fills several,
    /// and num_buffers in the first header says how many.
    func testMergeableReceiveSpansSeveralBuffers() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac, .mrgRxbuf])
        for i in 0..<8 as Range<UInt16> {
            g.rx.setDescriptor(i, address: data + 0x1000 * UInt64(i), length: 512, flags: MockVirtQueue.write)
            g.rx.publish(i)
        }
        let frame = VirtioTestGuest.frame(length: 1514)
        XCTAssertEqual(g.offer(frame), .delivered)
        // 12 + 1514 = 1526 bytes over 512-byte buffers: 512, 512 and 502.
        XCTAssertEqual(g.rx.usedIndex, 3)
        XCTAssertEqual(g.bytes(at: data + 10, 2), [3, 0])
        XCTAssertEqual(g.rx.usedElement(2).length, 502)
        var gathered: [UInt8] = []
        for k in 0..<3 as Range<UInt16> {
            let e = g.rx.usedElement(k)
            XCTAssertEqual(e.id, UInt32(k))
            gathered += g.bytes(at: data + 0x1000 * UInt64(e.id), Int(e.length))
        }
        XCTAssertEqual(gathered.count, 1526)
        XCTAssertEqual(Array(gathered[12...]), frame)
    }

    /// A frame that needs more buffers than are posted is held, not split:
    /// the chains go back and the backend keeps the frame until a kick.
    func testMergeableFrameWaitsForEnoughBuffers() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac, .mrgRxbuf])
        g.rx.setDescriptor(0, address: data, length: 512, flags: MockVirtQueue.write)
        g.rx.publish(0)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(length: 1000)), .queued)
        XCTAssertEqual(g.rx.usedIndex, 0)
        for i in 1..<3 as Range<UInt16> {
            g.rx.setDescriptor(i, address: data + 0x1000 * UInt64(i), length: 512, flags: MockVirtQueue.write)
            g.rx.publish(i)
        }
        g.kick(0)
        XCTAssertEqual(g.rx.usedIndex, 2)
        XCTAssertEqual(g.device.port.pendingFrames, 0)
    }

    /// Without receive buffers the device can't take a frame; the port holds
    /// it and a kick on the receive queue delivers it.
    func testReceiveWithoutBuffersHoldsFrameUntilKick() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac])
        XCTAssertEqual(g.offer(VirtioTestGuest.frame()), .queued)
        g.rx.setDescriptor(0, address: data, length: 2048, flags: MockVirtQueue.write)
        g.rx.publish(0)
        g.kick(0)
        XCTAssertEqual(g.rx.usedIndex, 1)
        XCTAssertEqual(g.device.counters.receivedFrames, 1)
    }

    /// Before DRIVER_OK the device takes no frames.
    func testNoReceiveBeforeDriverOK() {
        let g = VirtioTestGuest()
        XCTAssertEqual(g.offer(VirtioTestGuest.frame()), .queued)
        XCTAssertEqual(g.device.counters.receivedFrames, 0)
    }

    /// 2.7.7: without EVENT_IDX, VIRTQ_AVAIL_F_NO_INTERRUPT suppresses the
    /// used-buffer interrupt.
    func testNoInterruptFlagSuppressesInterrupt() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac])
        g.rx.setAvailableFlags(1)
        g.rx.setDescriptor(0, address: data, length: 2048, flags: MockVirtQueue.write)
        g.rx.publish(0)
        g.offer(VirtioTestGuest.frame())
        XCTAssertEqual(g.rx.usedIndex, 1)
        XCTAssertFalse(g.intx.isAsserted)
    }

    /// 2.7.10: with EVENT_IDX the device interrupts only when the used index
    /// passes used_event, and publishes avail_event for the driver's kicks.
    func testEventIndexInterruptsOnlyPastUsedEvent() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac, .eventIdx])
        for i in 0..<4 as Range<UInt16> {
            g.rx.setDescriptor(i, address: data + 0x1000 * UInt64(i), length: 2048, flags: MockVirtQueue.write)
            g.rx.publish(i)
        }
        g.rx.setUsedEvent(2)  // interrupt when used idx moves past 2, i.e. at 3
        g.offer(VirtioTestGuest.frame())
        g.offer(VirtioTestGuest.frame())
        XCTAssertFalse(g.intx.isAsserted)
        XCTAssertEqual(g.rx.availableEvent, 2)
        g.offer(VirtioTestGuest.frame())
        XCTAssertTrue(g.intx.isAsserted)
        XCTAssertEqual(g.rx.availableEvent, 3)
    }

    /// 2.7.10: a device that runs out of receive buffers with EVENT_IDX sets
    /// avail_event to the index the driver has published, so the very next
    /// buffer the driver adds brings a kick (and the held frame in).
    func testEventIndexAsksForKickWhenOutOfBuffers() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac, .eventIdx, .mrgRxbuf])
        g.rx.setDescriptor(0, address: data, length: 512, flags: MockVirtQueue.write)
        g.rx.setDescriptor(1, address: data + 0x1000, length: 512, flags: MockVirtQueue.write)
        g.rx.publish(0)
        g.rx.publish(1)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(length: 1400)), .queued)
        XCTAssertEqual(g.rx.availableEvent, 2, "kick me once you publish past index 2")
        g.rx.setDescriptor(2, address: data + 0x2000, length: 512, flags: MockVirtQueue.write)
        g.rx.publish(2)
        g.kick(0)
        XCTAssertEqual(g.rx.usedIndex, 3)
        XCTAssertEqual(g.rx.availableEvent, 3)
    }

    /// Transmit with EVENT_IDX: avail_event tracks the next slot to read.
    func testEventIndexAvailEventFollowsTransmit() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac, .eventIdx])
        let frame = VirtioTestGuest.frame()
        g.put([UInt8](repeating: 0, count: 12) + frame, at: data)
        for i in 0..<3 as Range<UInt16> {
            g.tx.setDescriptor(i, address: data, length: UInt32(12 + frame.count))
            g.tx.publish(i)
        }
        g.kick(1)
        XCTAssertEqual(g.sink.frames.count, 3)
        XCTAssertEqual(g.tx.availableEvent, 3)
    }

    /// Header split over one-byte descriptors (ANY_LAYOUT): the device
    /// gathers exactly the header into its own scratch and the rest is frame.
    func testHeaderSplitOverTinyDescriptorsIsGathered() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac])
        let frame = VirtioTestGuest.frame(length: 60)
        let bytes = [UInt8](repeating: 0, count: 12) + frame
        g.put(bytes, at: data)
        for i in 0..<12 as Range<UInt16> {
            g.tx.setDescriptor(i, address: data + UInt64(i), length: 1, flags: MockVirtQueue.next, next: i + 1)
        }
        g.tx.setDescriptor(12, address: data + 12, length: UInt32(frame.count))
        g.tx.publish(0)
        g.kick(1)
        XCTAssertEqual(g.sink.frames, [frame])
    }
}
