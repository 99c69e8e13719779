/// Frame and event counts of one virtio-net function.
public struct VirtioNetCounters: Sendable, Equatable {
    public var receivedFrames = 0
    public var receivedBytes = 0
    /// Frames the RX filter (mode, MAC table, VLAN table) refused.
    public var filteredFrames = 0
    /// Frames from the backend shorter than an Ethernet header or longer
    /// than the device takes (runts and giants).
    public var malformedFrames = 0
    /// Frames that could not fit in the receive buffers at all.
    public var oversizedFrames = 0
    public var transmittedFrames = 0
    public var transmittedBytes = 0
    /// Transmit chains completed without sending (bad length, GSO asked,
    /// bad checksum offsets).
    public var transmitDropped = 0
    /// Control commands answered VIRTIO_NET_OK and VIRTIO_NET_ERR.
    public var controlOK = 0
    public var controlErrors = 0
    /// Queue notifications (kicks) the driver wrote.
    public var notifications = 0
    /// Interrupts raised per cause (used buffers, configuration change).
    public var queueInterrupts = 0
    public var configInterrupts = 0
    public init() {}
}
