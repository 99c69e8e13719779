import Board
import NICCore
#if canImport(Glibc)
import Glibc
#endif

/// Keeps virtual time from running ahead of real time when the board talks
/// to live peers (a host interface, a QEMU guest): their replies take real
/// milliseconds, so DHCP and TFTP timeouts must too. Registered as an
/// event source, it sleeps while the virtual clock is ahead.
final class RealTimePacer: EventSource {
    private let clock: VirtualClock
    private let wall = MonotonicClock()
    private let origin: UInt64

    init(clock: VirtualClock) {
        self.clock = clock
        origin = clock.now
    }

    func poll() -> Bool {
        let virtual = clock.now &- origin
        let real = wall.elapsed
        if virtual > real {
            // At most 2 ms per pass, so the other sources are polled often.
            usleep(useconds_t(min(virtual - real, 2 * VirtualClock.millisecond) / 1000))
        }
        return false
    }
}
