/// An observer of a switch's traffic (a capture file, a test).
public protocol SwitchTap: AnyObject {
    /// A frame crossed port `index` at virtual time `time` (ns). The bytes
    /// are valid only during the call.
    func switchPort(_ index: Int, saw frame: UnsafeRawBufferPointer, direction: TraceDirection, at time: UInt64)
}
