import NICCore
import XCTest

/// A receiver that takes frames only while it has room.
final class ScriptedReceiver: FrameReceiver {
    var room: Int
    var received: [[UInt8]] = []
    var filterFirstByte: UInt8?
    var linkEvents: [Bool] = []

    init(room: Int) { self.room = room }

    func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
        if let f = filterFirstByte, frame.first == f { return .filtered }
        guard room > 0 else { return .noRoom }
        room -= 1
        received.append(Array(frame))
        return .accepted
    }

    func linkStateDidChange(up: Bool) { linkEvents.append(up) }
}

final class Recorder: FrameTransmitter {
    var frames: [[UInt8]] = []
    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) { frames.append(Array(frame)) }
}

final class FramePortTests: XCTestCase {
    func offer(_ port: FramePort, _ bytes: [UInt8]) -> OfferResult {
        bytes.withUnsafeBytes { port.offer($0) }
    }

    /// With hold, frames the NIC can't take wait in order and are delivered by pump.
    func testHoldKeepsOrderAndDeliversOnPump() {
        let port = FramePort(policy: .hold(capacity: 2))
        let nic = ScriptedReceiver(room: 1)
        port.receiver = nic
        XCTAssertEqual(offer(port, [1]), .delivered)
        XCTAssertEqual(offer(port, [2]), .queued)
        XCTAssertEqual(offer(port, [3]), .queued)
        XCTAssertEqual(offer(port, [4]), .dropped)  // queue full
        XCTAssertEqual(port.pendingFrames, 2)
        nic.room = 10
        XCTAssertEqual(port.pump(), 2)
        XCTAssertEqual(nic.received, [[1], [2], [3]])
        XCTAssertEqual(port.counters.droppedNoRoom, 1)
        XCTAssertEqual(port.counters.heldFrames, 2)
        XCTAssertEqual(port.counters.deliveredFrames, 3)
    }

    /// While any frame is queued, a new frame queues behind it even if the NIC has room.
    func testNewFramesQueueBehindHeldOnes() {
        let port = FramePort(policy: .hold(capacity: 4))
        let nic = ScriptedReceiver(room: 0)
        port.receiver = nic
        XCTAssertEqual(offer(port, [1]), .queued)
        nic.room = 5
        XCTAssertEqual(offer(port, [2]), .queued)
        port.pump()
        XCTAssertEqual(nic.received, [[1], [2]])
    }

    func testDropPolicyCountsAndDrops() {
        let port = FramePort(policy: .drop)
        let nic = ScriptedReceiver(room: 0)
        port.receiver = nic
        XCTAssertEqual(offer(port, [1]), .dropped)
        XCTAssertEqual(port.counters.droppedNoRoom, 1)
        XCTAssertEqual(port.pendingFrames, 0)
    }

    func testFilteredFramesAreCountedNotHeld() {
        let port = FramePort()
        let nic = ScriptedReceiver(room: 5)
        nic.filterFirstByte = 9
        port.receiver = nic
        XCTAssertEqual(offer(port, [9, 9]), .filtered)
        XCTAssertEqual(port.counters.filteredFrames, 1)
        XCTAssertEqual(port.pendingFrames, 0)
    }

    /// Link down: the NIC is told, held frames are discarded, traffic both ways is dropped and counted.
    func testLinkDownDropsBothWaysAndNotifies() {
        let port = FramePort(policy: .hold(capacity: 4))
        let nic = ScriptedReceiver(room: 0)
        let wire = Recorder()
        port.receiver = nic
        port.transmitter = wire
        _ = offer(port, [1])
        port.setLink(up: false)
        XCTAssertEqual(nic.linkEvents, [false])
        XCTAssertEqual(port.pendingFrames, 0)
        XCTAssertEqual(offer(port, [2]), .dropped)
        [UInt8]([3]).withUnsafeBytes { port.transmit($0) }
        XCTAssertTrue(wire.frames.isEmpty)
        XCTAssertEqual(port.counters.droppedLinkDown, 3)
        port.setLink(up: true)
        [UInt8]([4]).withUnsafeBytes { port.transmit($0) }
        XCTAssertEqual(wire.frames, [[4]])
        XCTAssertEqual(nic.linkEvents, [false, true])
    }

    func testFrameQueueRefusesOversizeAndWraps() {
        let q = FrameQueue(capacity: 2, maxFrameSize: 4)
        XCTAssertFalse([UInt8](repeating: 0, count: 5).withUnsafeBytes { q.push($0) })
        for round in 0..<5 {
            XCTAssertTrue([UInt8(round)].withUnsafeBytes { q.push($0) })
            XCTAssertEqual(q.withFront { Array($0) }, [UInt8(round)])
            q.pop()
        }
        XCTAssertTrue(q.isEmpty)
    }

    func testFrameBufferPadsAndClamps() {
        let b = FrameBuffer(capacity: 64)
        [UInt8](repeating: 0xAB, count: 10).withUnsafeBytes { _ = b.assign($0) }
        b.pad(to: 60)
        XCTAssertEqual(b.count, 60)
        XCTAssertEqual(b[9], 0xAB)
        XCTAssertEqual(b[10], 0)
        XCTAssertEqual([UInt8](repeating: 1, count: 100).withUnsafeBytes { b.append($0) }, 4)
        XCTAssertEqual(b.count, 64)
        b.setCount(1000)
        XCTAssertEqual(b.count, 64)
    }
}
