import NICCore
import VirtioNet
import XCTest

/// Packed virtqueues (virtio 1.x 2.8), offered when configured.
final class VirtioNetPackedTests: XCTestCase {
    let data = VirtioTestGuest.dataBase

    private func guest(_ extra: VirtioFeatures = []) -> (VirtioTestGuest, rx: MockPackedQueue, tx: MockPackedQueue) {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, packedRing: true), queueSize: 8)
        XCTAssertTrue(g.device.offeredFeatures.contains(.ringPacked))
        XCTAssertEqual(g.start(features: VirtioFeatures([.version1, .mac, .ringPacked]).union(extra)), 0xF)
        return (g, MockPackedQueue(g.rx), MockPackedQueue(g.tx))
    }

    /// RING_PACKED is only offered when asked for, and never to legacy drivers.
    func testPackedRingOfferedOnlyWhenConfigured() {
        XCTAssertFalse(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac).offeredFeatures.contains(.ringPacked))
        XCTAssertFalse(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, variant: .legacy, packedRing: true).offeredFeatures.contains(.ringPacked))
    }

    /// 2.8.1/2.8.6: a list of header and frame descriptors; the device writes
    /// one used descriptor with the list's buffer ID at its first slot,
    /// AVAIL and USED both equal to its wrap counter.
    func testPackedTransmitListIsUsedOnce() {
        let (g, _, tx) = guest()
        let frame = VirtioTestGuest.frame(length: 70)
        g.put([UInt8](repeating: 0, count: 12), at: data)
        g.put(frame, at: data + 0x100)
        tx.add([(data, 12, false), (data + 0x100, UInt32(frame.count), false)], id: 5)
        g.kick(1)
        XCTAssertEqual(g.sink.frames, [frame])
        let used = tx.takeUsed()
        XCTAssertEqual(used?.id, 5)
        XCTAssertEqual(used.map { $0.flags & 0x8080 }, 0x8080)
        XCTAssertEqual(used.map { $0.flags & MockPackedQueue.write }, 0, "nothing written: no WRITE flag")
        XCTAssertNil(tx.takeUsed())
    }

    /// Both wrap counters toggle at the end of the ring; lists keep flowing
    /// across several rounds.
    func testPackedRingWrapsAround() {
        let (g, _, tx) = guest()
        var sent: [[UInt8]] = []
        for n in 0..<11 {
            let frame = VirtioTestGuest.frame(length: 60 + n)
            let at = data + UInt64(n) * 0x800
            g.put([UInt8](repeating: 0, count: 12) + frame, at: at)
            tx.add([(at, 12, false), (at + 12, UInt32(frame.count), false)], id: UInt16(n % 4))
            g.kick(1)
            XCTAssertEqual(tx.takeUsed()?.id, UInt16(n % 4), "list \(n)")
            sent.append(frame)
        }
        XCTAssertEqual(g.sink.frames, sent)
        XCTAssertNil(g.device.lastError)
    }

    /// MRG_RXBUF over packed buffers: one used descriptor per buffer, lengths
    /// written, num_buffers in the first header.
    func testPackedMergeableReceive() {
        let (g, rx, _) = guest([.mrgRxbuf])
        for i in 0..<4 as Range<UInt16> {
            rx.add([(data + 0x1000 * UInt64(i), 512, true)], id: 10 + i)
        }
        let frame = VirtioTestGuest.frame(length: 1400)
        XCTAssertEqual(g.offer(frame), .delivered)
        var gathered: [UInt8] = []
        for k in 0..<3 {
            guard let u = rx.takeUsed() else { return XCTFail("used \(k) missing") }
            XCTAssertEqual(u.id, 10 + UInt16(k))
            XCTAssertNotEqual(u.flags & MockPackedQueue.write, 0)
            gathered += g.bytes(at: data + 0x1000 * UInt64(k), Int(u.length))
        }
        XCTAssertNil(rx.takeUsed())
        XCTAssertEqual(Array(gathered[10..<12]), [3, 0])
        XCTAssertEqual(Array(gathered[12...]), frame)
    }

    /// 2.8.7: an indirect table of packed descriptors carries the list.
    func testPackedIndirectTable() {
        let (g, _, tx) = guest([.indirectDesc])
        let frame = VirtioTestGuest.frame(length: 90)
        let table = data + 0x8000
        g.put([UInt8](repeating: 0, count: 12) + frame, at: data)
        tx.writeDescriptor(slot: 0, address: data, length: 12, id: 0, flags: 0, table: table)
        tx.writeDescriptor(slot: 1, address: data + 12, length: UInt32(frame.count), id: 0, flags: 0, table: table)
        tx.add([(table, 32, false)], id: 3, extraFlags: MockPackedQueue.indirect)
        g.kick(1)
        XCTAssertEqual(g.sink.frames, [frame])
        XCTAssertEqual(tx.takeUsed()?.id, 3)
    }

    /// 2.8.14: driver event suppression DISABLE stops used-buffer
    /// interrupts; ENABLE lets them through; DESC (with EVENT_IDX) asks for
    /// one at a given descriptor.
    func testPackedDriverEventSuppression() {
        let (g, rx, _) = guest([.eventIdx])
        for i in 0..<6 as Range<UInt16> { rx.add([(data + 0x1000 * UInt64(i), 2048, true)], id: i) }
        rx.setDriverEvent(flags: 1)
        g.offer(VirtioTestGuest.frame())
        XCTAssertFalse(g.intx.isAsserted)
        rx.setDriverEvent(flags: 2, offset: 3, wrap: true)
        g.offer(VirtioTestGuest.frame())
        g.offer(VirtioTestGuest.frame())
        XCTAssertFalse(g.intx.isAsserted, "slots 1 and 2 are not the event slot")
        g.offer(VirtioTestGuest.frame())
        XCTAssertTrue(g.intx.isAsserted, "slot 3 is")
        _ = g.readISR()
        rx.setDriverEvent(flags: 0)
        g.offer(VirtioTestGuest.frame())
        XCTAssertTrue(g.intx.isAsserted)
    }

    /// A list that never ends (every descriptor has NEXT) is bounded by the ring size.
    func testPackedEndlessListNeedsReset() {
        let (g, _, tx) = guest()
        tx.add(Array(repeating: (data, 16, false), count: 8), id: 0, extraFlags: MockPackedQueue.next)
        g.kick(1)
        XCTAssertEqual(g.device.lastError, .queue(1, .chainTooLong(limit: 8)))
    }

    /// A list whose later descriptor is not available yet.
    func testPackedPartialListNeedsReset() {
        let (g, _, tx) = guest()
        tx.writeDescriptor(slot: 0, address: data, length: 12, id: 0, flags: MockPackedQueue.avail | MockPackedQueue.next)
        g.kick(1)
        XCTAssertEqual(g.device.lastError, .queue(1, .chainNotAvailable(slot: 1)))
    }

    /// 2.8.7: indirect descriptors can't sit in a NEXT-linked list.
    func testPackedIndirectInsideListNeedsReset() {
        let (g, _, tx) = guest([.indirectDesc])
        tx.add([(data, 12, false), (data + 0x8000, 32, false)], id: 0, extraFlags: MockPackedQueue.indirect)
        g.kick(1)
        XCTAssertEqual(g.device.lastError, .queue(1, .indirectInChain))
    }

    /// Buffers outside RAM, as on the split ring.
    func testPackedBufferOutsideRAMNeedsReset() {
        let (g, _, tx) = guest()
        tx.add([(UInt64(4 << 20) - 4, 64, false)], id: 0)
        g.kick(1)
        XCTAssertEqual(g.device.lastError, .queue(1, .outsideRAM(address: UInt64(4 << 20) - 4, length: 64)))
        XCTAssertEqual(g.status & 0x40, 0x40)
    }
}
