import NICCore

/// TCTR and TimerInt on the virtual clock. TCTR counts at the 33 MHz PCI
/// clock from the last write (any write resets it to 0); when TimerInt is
/// non-zero and TCTR reaches it, ISR.TimeOut is set. The 32-bit count
/// wraps, so the match recurs every 2^32 ticks.
extension RTL8139 {
    struct TimerState {
        /// Virtual time (ns) at which TCTR was 0.
        var base: UInt64 = 0
        var interval: UInt32 = 0
        var pending: TimerID?
    }

    static let ticksPerSecond: UInt64 = 33_000_000

    /// Full ticks since the last reset of the count.
    private var elapsedTicks: UInt64 {
        let delta = clock.now &- timer.base
        return delta / 1000 * 33 + delta % 1000 * 33 / 1000
    }

    var timerCount: UInt32 { UInt32(truncatingIfNeeded: elapsedTicks) }

    func resetTimer() {
        timer.interval = 0
        restartTimerCount()
    }

    func restartTimerCount() {
        timer.base = clock.now
        scheduleTimer()
    }

    func setTimerInterval(_ value: UInt32) {
        timer.interval = value
        scheduleTimer()
    }

    /// Arms the clock for the next time TCTR equals TimerInt.
    private func scheduleTimer() {
        if let id = timer.pending { clock.cancel(id) }
        timer.pending = nil
        guard timer.interval != 0 else { return }
        let now = elapsedTicks
        var target = UInt64(timer.interval)
        if now >= target {
            target += ((now - target) >> 32 + 1) << 32
        }
        // The first instant at which floor(ns * 33 / 1000) reaches `target`.
        let (high, low) = target.multipliedFullWidth(by: 1000)
        guard high < 33 else { return }
        let (q, r) = UInt64(33).dividingFullWidth((high, low))
        let offset = r == 0 ? q : q + 1
        // From now rather than from the base: a card restored from a
        // snapshot onto a younger clock has its base "before 0" (wrapped).
        let remaining = offset &- (clock.now &- timer.base)
        let (deadline, overflow) = clock.now.addingReportingOverflow(remaining)
        guard !overflow else { return }
        timer.pending = clock.schedule(at: deadline) { [weak self] in
            guard let self else { return }
            self.timer.pending = nil
            self.raise(InterruptBits.timeOut)
            self.scheduleTimer()
        }
    }
}

// MARK: Snapshot (in this file: scheduling is private to it)

extension RTL8139 {
    /// TCTR as nanoseconds since its count restarted, and TimerInt: what a
    /// snapshot keeps of the timer, independent of the host clock's origin.
    var timerSnapshot: (elapsed: UInt64, interval: UInt32) {
        (clock.now &- timer.base, timer.interval)
    }

    /// Restores the timer on this card's clock and arms the next TimerInt.
    func restoreTimer(elapsed: UInt64, interval: UInt32) {
        timer.base = clock.now &- elapsed
        timer.interval = interval
        scheduleTimer()
    }
}
