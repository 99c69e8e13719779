/// A receiver that can say when it surely can't take a frame (stopped,
/// its driver not ready), so a host can hold frames instead of offering
/// them in vain. Like QEMU's `can_receive`: a hint, not a promise: an
/// offer can still answer `.noRoom` when the ring turns out to be full.
public protocol ReceiveReadiness: AnyObject {
    /// False when an offered frame would surely get `.noRoom`.
    var mightReceive: Bool { get }
}
