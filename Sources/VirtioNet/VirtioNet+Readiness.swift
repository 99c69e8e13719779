import NICCore

/// virtio-net takes frames once DRIVER_OK is set (and no fatal error) with
/// its receive queue enabled (5.1.6.3).
extension VirtioNet: ReceiveReadiness {
    public var mightReceive: Bool { isRunning && queues[QueueIndex.receive].isEnabled }
}
