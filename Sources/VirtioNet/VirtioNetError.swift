/// Why the device stopped and set DEVICE_NEEDS_RESET.
public enum VirtioNetError: Error, Equatable, Sendable {
    /// Queue `queue` could not be used as laid out.
    case queue(Int, VirtQueueError)
    /// Without ANY_LAYOUT or VERSION_1, the virtio-net header must be the
    /// whole first buffer of a chain (legacy 2.4.4 "Message Framing").
    case headerNotInFirstElement(queue: Int)
    /// The chain is shorter than the virtio-net header it must carry.
    case headerTruncated(queue: Int, bytes: Int)
    /// A control-queue chain without a device-writable ack byte.
    case controlWithoutAck
}

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
    /// Interrupts raised per cause (used buffers, configuration change).
    public var queueInterrupts = 0
    public var configInterrupts = 0
    public init() {}
}
