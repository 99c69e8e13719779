import Glibc
import NICCore
import NICSim

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
