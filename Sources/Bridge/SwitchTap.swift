/// An observer of a switch's traffic (a capture file, a test).
public protocol SwitchTap: AnyObject {
    /// A frame crossed port `index` at virtual time `time` (ns). The bytes
    /// are valid only during the call.
    func switchPort(_ index: Int, saw frame: UnsafeRawBufferPointer, direction: TraceDirection, at time: UInt64)
    /// The receiving side of port `index` dropped `frame` (FCS removed)
    /// because its FCS was wrong: what a capture on a real wire marks as a
    /// CRC error.
    func switchPort(_ index: Int, droppedBadFCS frame: UnsafeRawBufferPointer, at time: UInt64)
}

extension SwitchTap {
    public func switchPort(_ index: Int, droppedBadFCS frame: UnsafeRawBufferPointer, at time: UInt64) {}
}
