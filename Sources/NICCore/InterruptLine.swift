/// A level-triggered interrupt line from a device to its host.
///
/// Models compute the level from their own status and mask registers after
/// every state change and call `set(asserted:)`; repeating the same level is
/// harmless.
public protocol InterruptLine: AnyObject {
    func set(asserted: Bool)
}

/// An interrupt line that remembers its level and counts rising edges:
/// the host side for tests and for simple hosts that poll.
public final class InterruptLatch: InterruptLine {
    @exclusivity(unchecked)
    public private(set) var isAsserted = false
    /// Number of low-to-high transitions seen.
    @exclusivity(unchecked)
    public private(set) var risingEdges = 0
    /// Called on every change of level.
    @exclusivity(unchecked)
    public var onChange: ((Bool) -> Void)?

    public init(onChange: ((Bool) -> Void)? = nil) {
        self.onChange = onChange
    }

    public func set(asserted: Bool) {
        guard asserted != isAsserted else { return }
        isAsserted = asserted
        if asserted { risingEdges += 1 }
        onChange?(asserted)
    }
}
