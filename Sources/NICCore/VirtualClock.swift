/// A handle to a scheduled timer, for cancelling it.
public struct TimerID: Hashable, Sendable {
    public let rawValue: UInt64
}

/// Injected time, in nanoseconds since the clock was made.
///
/// Time moves only when the host says so (`advance(by:)`, `advance(to:)`,
/// `runNextTimer()`). Timers fire in deadline order; timers with the same
/// deadline fire in the order they were scheduled, so every run with the
/// same inputs fires the same timers in the same order.
public final class VirtualClock {
    @exclusivity(unchecked)
    public private(set) var now: UInt64 = 0

    private struct Timer {
        var period: UInt64
        var action: () -> Void
    }

    /// Timer IDs by deadline, FIFO among equal deadlines.
    @exclusivity(unchecked)
    private var queue = DeadlineQueue<UInt64>()
    @exclusivity(unchecked)
    private var timers: [UInt64: Timer] = [:]
    @exclusivity(unchecked)
    private var nextID: UInt64 = 1

    public init() {}

    /// Nanoseconds per unit, for readable call sites.
    public static let microsecond: UInt64 = 1_000
    public static let millisecond: UInt64 = 1_000_000
    public static let second: UInt64 = 1_000_000_000

    /// Runs `action` once `delay` ns from now, then every `period` ns if a
    /// period is given (a period of 0 means one-shot).
    @discardableResult
    public func schedule(after delay: UInt64, repeating period: UInt64 = 0, _ action: @escaping () -> Void) -> TimerID {
        let (deadline, overflow) = now.addingReportingOverflow(delay)
        return schedule(at: overflow ? .max : deadline, repeating: period, action)
    }

    /// Runs `action` at absolute time `deadline` (now, if it is in the past).
    @discardableResult
    public func schedule(at deadline: UInt64, repeating period: UInt64 = 0, _ action: @escaping () -> Void) -> TimerID {
        let id = nextID
        nextID += 1
        timers[id] = Timer(period: period, action: action)
        queue.push(deadline: max(deadline, now), id)
        return TimerID(rawValue: id)
    }

    /// Cancels a timer; cancelling one that fired or was cancelled is harmless.
    public func cancel(_ timer: TimerID) {
        timers[timer.rawValue] = nil
    }

    public func isScheduled(_ timer: TimerID) -> Bool {
        timers[timer.rawValue] != nil
    }

    /// The deadline of the next live timer, if any.
    public var nextDeadline: UInt64? {
        dropCancelled()
        return queue.first?.deadline
    }

    /// Moves time forward by `delta`, firing every timer due on the way.
    public func advance(by delta: UInt64) {
        let (target, overflow) = now.addingReportingOverflow(delta)
        advance(to: overflow ? .max : target)
    }

    /// Moves time to `target` (no-op if it is in the past), firing every
    /// timer due on the way with `now` set to its deadline.
    public func advance(to target: UInt64) {
        while let next = nextDeadline, next <= target {
            fireNext()
        }
        if target > now { now = target }
    }

    /// Jumps to the next timer's deadline and fires it. False if none is scheduled.
    @discardableResult
    public func runNextTimer() -> Bool {
        guard nextDeadline != nil else { return false }
        fireNext()
        return true
    }

    private func fireNext() {
        guard let entry = queue.popFirst() else { return }
        let id = entry.payload
        guard let timer = timers[id] else { return }
        now = max(now, entry.deadline)
        if timer.period > 0 {
            let (deadline, overflow) = entry.deadline.addingReportingOverflow(timer.period)
            if !overflow {
                queue.push(deadline: deadline, id)
            } else {
                timers[id] = nil
            }
        } else {
            timers[id] = nil
        }
        timer.action()
    }

    private func dropCancelled() {
        while let first = queue.first, timers[first.payload] == nil { queue.popFirst() }
    }
}
