/// Something outside the board that has work for the event loop now and
/// then: a live capture, a TAP, a socket, a trace reader. It sits beside
/// `FramePort` because backends are event sources and need nothing of the
/// Board to be one; the Board's loop (and any host's) polls them.
public protocol EventSource: AnyObject {
    /// Does whatever work is ready without blocking (hand arrived frames to
    /// their ports, for example). Returns true if it did anything.
    func poll() -> Bool
}
