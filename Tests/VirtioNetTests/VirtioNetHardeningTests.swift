import NICCore
import VirtioNet
import XCTest

/// Every way a guest can break a queue ends in DEVICE_NEEDS_RESET with a
/// typed reason, never a trap, and the device stops using its queues.
final class VirtioNetHardeningTests: XCTestCase {
    let data = VirtioTestGuest.dataBase
    let needsReset: UInt8 = 0x40

    private func modern(_ features: VirtioFeatures = [.version1, .mac]) -> VirtioTestGuest {
        let g = VirtioTestGuest()
        XCTAssertEqual(g.start(features: features), 0xF)
        return g
    }

    private func assertNeedsReset(_ g: VirtioTestGuest, _ expected: VirtioNetError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(g.device.lastError, expected, file: file, line: line)
        XCTAssertEqual(g.status & needsReset, needsReset, file: file, line: line)
        XCTAssertEqual(g.readISR() & 2, 2, "a configuration-change interrupt tells the driver", file: file, line: line)
    }

    private func headerAndFrame(_ g: VirtioTestGuest) -> UInt32 {
        let frame = VirtioTestGuest.frame()
        g.put([UInt8](repeating: 0, count: 12) + frame, at: data)
        return UInt32(12 + frame.count)
    }

    /// 2.7.5.3.1: an available-ring entry naming a descriptor past the table.
    func testHeadIndexOutOfRangeNeedsReset() {
        let g = modern()
        g.tx.publish(16)
        g.kick(1)
        assertNeedsReset(g, .queue(1, .descriptorIndexOutOfRange(index: 16, tableSize: 16)))
        XCTAssertTrue(g.sink.frames.isEmpty)
    }

    /// A `next` field past the table.
    func testNextIndexOutOfRangeNeedsReset() {
        let g = modern()
        g.tx.setDescriptor(0, address: data, length: 12, flags: MockVirtQueue.next, next: 999)
        g.tx.publish(0)
        g.kick(1)
        assertNeedsReset(g, .queue(1, .descriptorIndexOutOfRange(index: 999, tableSize: 16)))
    }

    /// A descriptor loop: the walk stops after the table size.
    func testDescriptorLoopNeedsReset() {
        let g = modern()
        g.tx.setDescriptor(0, address: data, length: 12, flags: MockVirtQueue.next, next: 1)
        g.tx.setDescriptor(1, address: data, length: 12, flags: MockVirtQueue.next, next: 0)
        g.tx.publish(0)
        g.kick(1)
        assertNeedsReset(g, .queue(1, .chainTooLong(limit: 16)))
    }

    /// A chain longer than the queue without a loop can't exist in a
    /// table of queue size; inside an indirect table the limit is its size.
    func testIndirectLoopNeedsReset() {
        let g = modern([.version1, .mac, .indirectDesc])
        let table = data + 0x8000
        g.tx.setDescriptor(0, address: data, length: 12, flags: MockVirtQueue.next, next: 1, table: table)
        g.tx.setDescriptor(1, address: data, length: 12, flags: MockVirtQueue.next, next: 0, table: table)
        g.tx.setDescriptor(0, address: table, length: 32, flags: MockVirtQueue.indirect)
        g.tx.publish(0)
        g.kick(1)
        assertNeedsReset(g, .queue(1, .chainTooLong(limit: 2)))
    }

    /// 2.7.5.3.1: an indirect table's length must be a nonzero multiple of 16.
    func testIndirectTableOfBadSizeNeedsReset() {
        let g = modern([.version1, .mac, .indirectDesc])
        g.tx.setDescriptor(0, address: data + 0x8000, length: 24, flags: MockVirtQueue.indirect)
        g.tx.publish(0)
        g.kick(1)
        assertNeedsReset(g, .queue(1, .indirectTableBadSize(length: 24)))
    }

    /// An indirect table larger than the device walks is refused too.
    func testHugeIndirectTableNeedsReset() {
        let g = modern([.version1, .mac, .indirectDesc])
        g.tx.setDescriptor(0, address: data, length: 16 * 2048, flags: MockVirtQueue.indirect)
        g.tx.publish(0)
        g.kick(1)
        assertNeedsReset(g, .queue(1, .indirectTableBadSize(length: 16 * 2048)))
    }

    /// 2.7.5.3.1: the device must not follow an indirect descriptor inside
    /// an indirect table.
    func testNestedIndirectNeedsReset() {
        let g = modern([.version1, .mac, .indirectDesc])
        let table = data + 0x8000
        g.tx.setDescriptor(0, address: table, length: 16, flags: MockVirtQueue.indirect, table: table)
        g.tx.setDescriptor(0, address: table, length: 16, flags: MockVirtQueue.indirect)
        g.tx.publish(0)
        g.kick(1)
        assertNeedsReset(g, .queue(1, .nestedIndirect))
    }

    /// INDIRECT without RING_INDIRECT_DESC negotiated.
    func testIndirectWithoutFeatureNeedsReset() {
        let g = modern()
        g.tx.setDescriptor(0, address: data + 0x8000, length: 32, flags: MockVirtQueue.indirect)
        g.tx.publish(0)
        g.kick(1)
        assertNeedsReset(g, .queue(1, .indirectNotNegotiated))
    }

    /// The used ring belongs to the device: a guest that moves the used
    /// index is caught when the device next publishes.
    func testGuestMovingUsedIndexNeedsReset() {
        let g = modern()
        let length = headerAndFrame(g)
        g.tx.setDescriptor(0, address: data, length: length)
        g.tx.publish(0)
        g.tx.forceUsedIndex(5)
        g.kick(1)
        assertNeedsReset(g, .queue(1, .usedIndexMoved(expected: 0, found: 5)))
    }

    /// The available index may run ahead by at most the queue size.
    func testAvailableIndexJumpNeedsReset() {
        let g = modern()
        g.tx.forceAvailableIndex(17)
        g.kick(1)
        assertNeedsReset(g, .queue(1, .availableIndexJump(lastSeen: 0, published: 17)))
    }

    /// A buffer that runs past the end of RAM.
    func testBufferOutsideRAMNeedsReset() {
        let g = modern()
        let ramEnd = UInt64(4 << 20)
        g.tx.setDescriptor(0, address: ramEnd - 8, length: 100)
        g.tx.publish(0)
        g.kick(1)
        assertNeedsReset(g, .queue(1, .outsideRAM(address: ramEnd - 8, length: 100)))
    }

    /// Address arithmetic that would wrap is outside RAM too.
    func testWrappingBufferAddressNeedsReset() {
        let g = modern()
        g.rx.setDescriptor(0, address: UInt64.max - 3, length: 2048, flags: MockVirtQueue.write)
        g.rx.publish(0)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame()), .filtered)
        assertNeedsReset(g, .queue(0, .outsideRAM(address: UInt64.max - 3, length: 2048)))
    }

    /// Rings placed outside RAM fail on first use, before any access.
    func testRingOutsideRAMNeedsReset() {
        let g = VirtioTestGuest()
        g.setStatus(1); g.setStatus(3)
        g.writeDriverFeatures([.version1, .mac]); g.setStatus(11)
        g.setCommon(VirtioCommonConfig.queueSelect, .word, 1)
        g.setCommon(VirtioCommonConfig.queueDriver, .qword, 0xFFFF_FFFF_0000)
        g.setCommon(VirtioCommonConfig.queueEnable, .word, 1)
        g.setStatus(15)
        g.kick(1)
        // The available ring of 256 entries: 6 + 2 * 256 bytes.
        assertNeedsReset(g, .queue(1, .outsideRAM(address: 0xFFFF_FFFF_0000, length: 518)))
    }

    /// Ring addresses at the very top of the address space: the arithmetic
    /// wraps instead of trapping, and the range check refuses it.
    func testRingsAtTopOfAddressSpaceNeedReset() {
        for packed in [false, true] {
            for field in [VirtioCommonConfig.queueDesc, VirtioCommonConfig.queueDriver, VirtioCommonConfig.queueDevice] {
                let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, packedRing: true))
                g.setStatus(1); g.setStatus(3)
                g.writeDriverFeatures(packed ? [.version1, .mac, .ringPacked, .eventIdx] : [.version1, .mac, .eventIdx])
                g.setStatus(11)
                for q in 0..<2 {
                    g.setCommon(VirtioCommonConfig.queueSelect, .word, UInt64(q))
                    g.setCommon(VirtioCommonConfig.queueDesc, .qword, 0x1_0000)
                    g.setCommon(VirtioCommonConfig.queueDriver, .qword, 0x2_0000)
                    g.setCommon(VirtioCommonConfig.queueDevice, .qword, 0x3_0000)
                    g.setCommon(field, .qword, UInt64.max - 1)
                    g.setCommon(VirtioCommonConfig.queueEnable, .word, 1)
                }
                g.setStatus(15)
                g.put([UInt8](repeating: 0xFF, count: 64), at: 0x1_0000)
                g.put([0x00, 0x00, 0x01, 0x00, 0x00, 0x00], at: 0x2_0000)
                g.kick(1)
                g.offer(VirtioTestGuest.frame())
                XCTAssertTrue(g.device.lastError != nil, "packed \(packed), field \(field)")
            }
        }
    }

    /// Without Bus Master Enable the device can't reach the rings.
    func testBusMasterDisabledNeedsReset() {
        let g = modern()
        g.device.config.write(offset: PCIConfigRegister.command, width: .word, value: 0x3)
        g.kick(1)
        assertNeedsReset(g, .queue(1, .dma(.busMasterDisabled)))
    }

    /// 2.7.4.2: device-readable buffers must come before device-writable ones.
    func testReadableAfterWritableNeedsReset() {
        let g = modern()
        g.tx.setDescriptor(0, address: data, length: 12, flags: MockVirtQueue.write | MockVirtQueue.next, next: 1)
        g.tx.setDescriptor(1, address: data, length: 60)
        g.tx.publish(0)
        g.kick(1)
        assertNeedsReset(g, .queue(1, .readableAfterWritable))
    }

    /// Legacy without ANY_LAYOUT: the header must be the first element
    /// on transmit...
    func testLegacyTransmitHeaderNotInFirstElementNeedsReset() {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, variant: .legacy, queueSize: 16))
        g.start(features: [.mac])
        g.put([UInt8](repeating: 0, count: 100), at: data)
        g.tx.setDescriptor(0, address: data, length: 4, flags: MockVirtQueue.next, next: 1)
        g.tx.setDescriptor(1, address: data + 4, length: 70)
        g.tx.publish(0)
        g.kick(1)
        assertNeedsReset(g, .headerNotInFirstElement(queue: 1))
    }

    /// ...and on receive.
    func testLegacyReceiveHeaderNotInFirstElementNeedsReset() {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, variant: .legacy, queueSize: 16))
        g.start(features: [.mac])
        g.rx.setDescriptor(0, address: data, length: 4, flags: MockVirtQueue.write | MockVirtQueue.next, next: 1)
        g.rx.setDescriptor(1, address: data + 4, length: 2000, flags: MockVirtQueue.write)
        g.rx.publish(0)
        g.offer(VirtioTestGuest.frame())
        assertNeedsReset(g, .headerNotInFirstElement(queue: 0))
    }

    /// With ANY_LAYOUT the same split header is fine.
    func testLegacySplitHeaderAcceptedWithAnyLayout() {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, variant: .legacy, queueSize: 16))
        g.start(features: [.mac, .anyLayout])
        let frame = VirtioTestGuest.frame()
        g.put([UInt8](repeating: 0, count: 10) + frame, at: data)
        g.tx.setDescriptor(0, address: data, length: 4, flags: MockVirtQueue.next, next: 1)
        g.tx.setDescriptor(1, address: data + 4, length: UInt32(6 + frame.count))
        g.tx.publish(0)
        g.kick(1)
        XCTAssertEqual(g.sink.frames, [frame])
        XCTAssertNil(g.device.lastError)
    }

    /// A transmit chain shorter than the header it must carry (the
    /// CVE-2023-6693 class: nothing is copied past the chain or the scratch).
    func testTransmitChainShorterThanHeaderNeedsReset() {
        let g = modern()
        g.tx.setDescriptor(0, address: data, length: 5)
        g.tx.publish(0)
        g.kick(1)
        assertNeedsReset(g, .headerTruncated(queue: 1, bytes: 5))
    }

    /// A receive chain that can't hold the header.
    func testReceiveChainShorterThanHeaderNeedsReset() {
        let g = modern()
        g.rx.setDescriptor(0, address: data, length: 8, flags: MockVirtQueue.write)
        g.rx.publish(0)
        g.offer(VirtioTestGuest.frame())
        assertNeedsReset(g, .headerTruncated(queue: 0, bytes: 8))
    }

    /// CVE-2015-7295 class: runts and giants from the backend are dropped
    /// before they reach the queue.
    func testRuntAndGiantFramesFromBackendAreDropped() {
        let g = modern()
        g.rx.setDescriptor(0, address: data, length: 65535, flags: MockVirtQueue.write)
        g.rx.publish(0)
        XCTAssertEqual(g.offer([1, 2, 3]), .filtered)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(length: 1519)), .filtered)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(length: 60_000)), .filtered)
        XCTAssertEqual(g.device.counters.malformedFrames, 3)
        XCTAssertEqual(g.rx.usedIndex, 0)
        XCTAssertNil(g.device.lastError)
    }

    /// Without MRG_RXBUF a frame larger than the one chain is dropped and
    /// the chain stays available for the next frame.
    func testFrameLargerThanSingleChainIsDropped() {
        let g = modern()
        g.rx.setDescriptor(0, address: data, length: 100, flags: MockVirtQueue.write)
        g.rx.publish(0)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(length: 1000)), .filtered)
        XCTAssertEqual(g.device.counters.oversizedFrames, 1)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame(length: 60)), .delivered)
        XCTAssertEqual(g.rx.usedIndex, 1)
    }

    /// Transmit frames longer than MTU + headers, and GSO requests (not
    /// offered), are completed without being sent.
    func testOversizedAndGSOTransmitsAreDropped() {
        let g = modern()
        g.put([UInt8](repeating: 0, count: 12) + VirtioTestGuest.frame(length: 3000), at: data)
        g.tx.setDescriptor(0, address: data, length: 12 + 3000)
        g.put([0, 1] + [UInt8](repeating: 0, count: 10) + VirtioTestGuest.frame(), at: data + 0x2000)
        g.tx.setDescriptor(1, address: data + 0x2000, length: 72)
        g.tx.publish(0)
        g.tx.publish(1)
        g.kick(1)
        XCTAssertTrue(g.sink.frames.isEmpty)
        XCTAssertEqual(g.device.counters.transmitDropped, 2)
        XCTAssertEqual(g.tx.usedIndex, 2)
        XCTAssertNil(g.device.lastError)
    }

    /// After NEEDS_RESET the device ignores kicks and frames; a reset and a
    /// fresh start bring it back.
    func testNeedsResetStopsQueuesUntilReset() {
        let g = modern()
        g.tx.publish(16)
        g.kick(1)
        XCTAssertEqual(g.status & needsReset, needsReset)
        let length = headerAndFrame(g)
        g.tx.setDescriptor(0, address: data, length: length)
        g.tx.publish(0)
        g.kick(1)
        XCTAssertTrue(g.sink.frames.isEmpty)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame()), .queued)
        // The driver can't clear the device's bit by writing status.
        g.setStatus(0xF)
        XCTAssertEqual(g.status & needsReset, needsReset)
        g.tx = MockVirtQueue(memory: g.memory, base: 0x5_0000, size: 16)
        g.start(features: [.version1, .mac])
        XCTAssertNil(g.device.lastError)
        g.tx.setDescriptor(0, address: data, length: length)
        g.tx.publish(0)
        g.kick(1)
        XCTAssertEqual(g.sink.frames.count, 1)
    }

    /// Random descriptor tables and ring indices, split and packed, never
    /// trap or hang; the device either works or reports NEEDS_RESET.
    func testRandomQueueContentsNeverTrap() {
        var random = SeededRandom(seed: 0x5EED)
        for round in 0..<300 {
            let packed = round % 2 == 1
            let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, packedRing: true))
            var features: VirtioFeatures = [.version1, .mac, .indirectDesc, .mrgRxbuf, .eventIdx]
            if packed { features.insert(.ringPacked) }
            XCTAssertEqual(g.start(features: features), 0xF)
            for q in [g.rx, g.tx] {
                let span = Int(q.used + 4096 - q.base)
                let noise = (0..<span).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                g.put(noise, at: q.base)
            }
            g.kick(1)
            g.offer(VirtioTestGuest.frame(length: 60 + Int(random.next() % 1400)))
            g.kick(0)
            XCTAssertTrue(g.device.lastError != nil || g.device.isRunning)
        }
    }
}
