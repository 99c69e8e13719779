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
