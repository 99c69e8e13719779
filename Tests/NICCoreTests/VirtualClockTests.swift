import NICCore
import XCTest

final class VirtualClockTests: XCTestCase {
    /// Timers fire in deadline order; equal deadlines fire in scheduling order.
    func testTimersFireInDeadlineThenSchedulingOrder() {
        let clock = VirtualClock()
        var fired: [String] = []
        clock.schedule(after: 300) { fired.append("c@\(clock.now)") }
        clock.schedule(after: 100) { fired.append("a@\(clock.now)") }
        clock.schedule(after: 200) { fired.append("b1@\(clock.now)") }
        clock.schedule(after: 200) { fired.append("b2@\(clock.now)") }
        clock.advance(by: 250)
        XCTAssertEqual(fired, ["a@100", "b1@200", "b2@200"])
        XCTAssertEqual(clock.now, 250)
        clock.advance(by: 1000)
        XCTAssertEqual(fired.last, "c@300")
        XCTAssertEqual(clock.now, 1250)
    }

    func testPeriodicTimerRepeatsUntilCancelled() {
        let clock = VirtualClock()
        var ticks: [UInt64] = []
        var id: TimerID?
        id = clock.schedule(after: 10, repeating: 10) {
            ticks.append(clock.now)
            if ticks.count == 3, let id { clock.cancel(id) }
        }
        clock.advance(by: 100)
        XCTAssertEqual(ticks, [10, 20, 30])
        XCTAssertFalse(clock.isScheduled(id!))
    }

    func testCancelledTimerNeverFires() {
        let clock = VirtualClock()
        var fired = false
        let id = clock.schedule(after: 5) { fired = true }
        clock.cancel(id)
        clock.advance(by: 10)
        XCTAssertFalse(fired)
        XCTAssertNil(clock.nextDeadline)
    }

    /// A timer scheduled from inside another fires in the same advance when it is due.
    func testTimerScheduledDuringAdvanceFiresIfDue() {
        let clock = VirtualClock()
        var order: [UInt64] = []
        clock.schedule(after: 10) {
            order.append(clock.now)
            clock.schedule(after: 5) { order.append(clock.now) }
        }
        clock.advance(by: 20)
        XCTAssertEqual(order, [10, 15])
    }

    func testRunNextTimerJumpsToDeadline() {
        let clock = VirtualClock()
        clock.schedule(at: 1_000_000) {}
        XCTAssertTrue(clock.runNextTimer())
        XCTAssertEqual(clock.now, 1_000_000)
        XCTAssertFalse(clock.runNextTimer())
    }

    func testHugeDelayDoesNotOverflow() {
        let clock = VirtualClock()
        clock.advance(by: 10)
        clock.schedule(after: UInt64.max) {}
        XCTAssertEqual(clock.nextDeadline, UInt64.max)
        clock.advance(by: UInt64.max)
        XCTAssertEqual(clock.now, UInt64.max)
    }
}
