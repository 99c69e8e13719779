/// The device status field (virtio 1.x section 2.1): the driver walks it
/// ACKNOWLEDGE -> DRIVER -> FEATURES_OK -> DRIVER_OK; the device adds
/// NEEDS_RESET when it can no longer go on; writing 0 resets.
public struct VirtioDeviceStatus: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// ACKNOWLEDGE (1): the guest noticed the device.
    public static let acknowledge = VirtioDeviceStatus(rawValue: 1)
    /// DRIVER (2): the guest knows how to drive it.
    public static let driver = VirtioDeviceStatus(rawValue: 2)
    /// DRIVER_OK (4): the driver is set up; the device may use its queues.
    public static let driverOK = VirtioDeviceStatus(rawValue: 4)
    /// FEATURES_OK (8): the device accepted the driver's features. It does
    /// not stick if the driver accepted something that was not offered.
    public static let featuresOK = VirtioDeviceStatus(rawValue: 8)
    /// DEVICE_NEEDS_RESET (64): set by the device on an unrecoverable error.
    public static let needsReset = VirtioDeviceStatus(rawValue: 64)
    /// FAILED (128): the driver gave up on the device.
    public static let failed = VirtioDeviceStatus(rawValue: 128)
}
