import NICCore

/// virtio-net sends its MSI-X messages (used buffers, configuration changes)
/// through the table in BAR1; a function built with no vectors sends none.
extension VirtioNet: MessageSignalingFunction {
    public func connectMessages(_ deliver: @escaping (_ address: UInt64, _ data: UInt32) -> Void) {
        msix?.onMessage = deliver
    }
}
