import Board
import NICCore
import XCTest

final class EventLoopTests: XCTestCase {
    final class SlowReceiver: FrameReceiver {
        var room = 0
        var count = 0
        func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
            guard room > 0 else { return .noRoom }
            room -= 1
            count += 1
            return .accepted
        }
        func linkStateDidChange(up: Bool) {}
    }

    /// Held frames are delivered by the loop once the receiver has room again
    /// (here a timer stands in for the guest freeing ring space).
    func testLoopDeliversHeldFramesWhenRoomAppears() {
        let board = Board(memorySize: 1 << 20)
        let port = FramePort(policy: .hold(capacity: 8))
        let nic = SlowReceiver()
        port.receiver = nic
        board.add(port: port)
        for i in 0..<3 { [UInt8(i)].withUnsafeBytes { _ = port.offer($0) } }
        XCTAssertEqual(port.pendingFrames, 3)
        board.clock.schedule(after: 1_000) { nic.room = 3 }
        XCTAssertTrue(board.run(until: { nic.count == 3 }, timeout: 10_000))
        XCTAssertEqual(board.clock.now, 1_000)
    }

    /// run(until:) gives up after the timeout with the clock at the deadline.
    func testRunUntilTimesOut() {
        let board = Board(memorySize: 1 << 20)
        XCTAssertFalse(board.run(until: { false }, timeout: 5_000))
        XCTAssertEqual(board.clock.now, 5_000)
    }

    func testAdvanceFiresTimersInOrder() {
        let board = Board(memorySize: 1 << 20)
        var seen: [UInt64] = []
        board.clock.schedule(after: 30) { seen.append(board.clock.now) }
        board.clock.schedule(after: 10) { seen.append(board.clock.now) }
        board.advance(by: 100)
        XCTAssertEqual(seen, [10, 30])
        XCTAssertEqual(board.clock.now, 100)
    }
}
