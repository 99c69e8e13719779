#if canImport(Glibc)
import Glibc
#endif
import NICCore

/// Real time for hosts that face live peers: nanoseconds since the host
/// started, from CLOCK_MONOTONIC, to advance a `VirtualClock` with.
struct MonotonicClock {
    private let origin: UInt64

    init() { origin = Self.raw() }

    var elapsed: UInt64 { Self.raw() &- origin }

    private static func raw() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

/// Set by SIGINT/SIGTERM so a live loop ends cleanly and prints its summary.
enum StopSignal {
    nonisolated(unsafe) static var raised: sig_atomic_t = 0

    static func install() {
        signal(SIGINT) { _ in StopSignal.raised = 1 }
        signal(SIGTERM) { _ in StopSignal.raised = 1 }
        signal(SIGPIPE, SIG_IGN)
    }
}

/// Writes one line to standard output at once (unbuffered), so logs of a
/// long-running command appear as they happen even through a pipe.
func emit(_ line: String) {
    var s = line + "\n"
    s.withUTF8 { p in _ = Glibc.write(1, p.baseAddress, p.count) }
}

/// One line of advice on standard error ("nicsim: note: ..."), for what a
/// user may want to change although the run goes on.
func warn(_ line: String) {
    var err = StandardError()
    print("nicsim: note: \(line)", to: &err)
}
