import Board
import NICCore
#if canImport(Glibc)
import Glibc
#endif

/// Keeps virtual time from running ahead of real time when the board talks
/// to live peers (a host interface, a QEMU guest): their replies take real
/// milliseconds, so DHCP and TFTP timeouts must too. Registered as an
/// event source, it sleeps while the virtual clock is ahead.
public final class RealTimePacer: EventSource {
    private let clock: VirtualClock
    private let wall = MonotonicClock()
    private let origin: UInt64

    public init(clock: VirtualClock) {
        self.clock = clock
        origin = clock.now
    }

    public func poll() -> Bool {
        let virtual = clock.now &- origin
        let real = wall.elapsed
        if virtual > real {
            // At most 2 ms per pass, so the other sources are polled often.
            usleep(useconds_t(min(virtual - real, 2 * VirtualClock.millisecond) / 1000))
        }
        return false
    }
}

/// Real time for hosts that face live peers: nanoseconds since this value
/// was made, from CLOCK_MONOTONIC, to pace a `VirtualClock` with.
public struct MonotonicClock: Sendable {
    private let origin: UInt64

    public init() { origin = Self.raw() }

    /// Nanoseconds since `init`.
    public var elapsed: UInt64 { Self.raw() &- origin }

    private static func raw() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
