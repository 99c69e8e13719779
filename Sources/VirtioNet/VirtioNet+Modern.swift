import NICCore

/// virtio 1.x PCI capability types (struct virtio_pci_cap.cfg_type, 4.1.4).
public enum VirtioPCICapabilityType {
    /// VIRTIO_PCI_CAP_COMMON_CFG.
    public static let common: UInt8 = 1
    /// VIRTIO_PCI_CAP_NOTIFY_CFG.
    public static let notify: UInt8 = 2
    /// VIRTIO_PCI_CAP_ISR_CFG.
    public static let isr: UInt8 = 3
    /// VIRTIO_PCI_CAP_DEVICE_CFG.
    public static let device: UInt8 = 4
    /// VIRTIO_PCI_CAP_PCI_CFG: a window onto the BARs through config space.
    public static let pciConfig: UInt8 = 5
    /// The PCI capability ID of a vendor-specific capability.
    public static let vendorCapabilityID: UInt8 = 0x09
}

/// Offsets in struct virtio_pci_common_cfg (virtio 1.x 4.1.4.3).
public enum VirtioCommonConfig {
    /// device_feature_select le32.
    public static let deviceFeatureSelect = 0x00
    /// device_feature le32, read-only: the selected 32 bits of device features.
    public static let deviceFeature = 0x04
    /// driver_feature_select le32.
    public static let driverFeatureSelect = 0x08
    /// driver_feature le32.
    public static let driverFeature = 0x0C
    /// config_msix_vector le16.
    public static let msixConfig = 0x10
    /// num_queues le16, read-only.
    public static let numQueues = 0x12
    /// device_status u8.
    public static let deviceStatus = 0x14
    /// config_generation u8, read-only.
    public static let configGeneration = 0x15
    /// queue_select le16.
    public static let queueSelect = 0x16
    /// queue_size le16: the maximum at reset; the driver may write a smaller size.
    public static let queueSize = 0x18
    /// queue_msix_vector le16.
    public static let queueMSIXVector = 0x1A
    /// queue_enable le16.
    public static let queueEnable = 0x1C
    /// queue_notify_off le16, read-only.
    public static let queueNotifyOff = 0x1E
    /// queue_desc le64: descriptor table address.
    public static let queueDesc = 0x20
    /// queue_driver le64: available ring address.
    public static let queueDriver = 0x28
    /// queue_device le64: used ring address.
    public static let queueDevice = 0x30
    /// Bytes of the structure.
    public static let size = 0x38
}

/// The memory BAR holding the virtio 1.x structures, laid out as QEMU lays
/// them out: common config at 0x0000, ISR at 0x1000, device config at
/// 0x2000, notifications at 0x3000 (queue N at 0x3000 + 4 * N).
final class VirtioModernRegisters: FieldRegisterBlock {
    static let barSize: UInt64 = 0x4000
    static let commonOffset = 0x0000
    static let isrOffset = 0x1000
    static let deviceOffset = 0x2000
    static let notifyOffset = 0x3000
    /// notify_off_multiplier: bytes between queues' notification addresses.
    static let notifyMultiplier = 4
    static let regionSize = 0x1000

    // SAFETY: as for the legacy window: the device owns this one and its
    // hosts map it only while they hold the device. Unretained, so a
    // register cycle costs no reference counting.
    private let owner: Unmanaged<VirtioNet>
    private var device: VirtioNet { owner.takeUnretainedValue() }
    let size = VirtioModernRegisters.barSize

    init(device: VirtioNet) { owner = .passUnretained(device) }

    /// Adds the vendor capabilities (struct virtio_pci_cap: cap_vndr,
    /// cap_next, cap_len, cfg_type, bar, id, padding[2], offset le32,
    /// length le32; the notify one adds notify_off_multiplier le32, the
    /// PCI configuration access one pci_cfg_data[4]). Returns the offset
    /// of the PCI configuration access capability.
    static func addCapabilities(to config: PCIConfigSpace, bar: Int) -> Int {
        func body(_ type: UInt8, offset: Int, length: Int, extra: UInt32? = nil) -> [UInt8] {
            let capLength = extra == nil ? 16 : 20
            var b: [UInt8] = [UInt8(capLength), type, UInt8(bar), 0, 0, 0]
            for v in [UInt32(offset), UInt32(length)] + (extra.map { [$0] } ?? []) {
                b += [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8),
                      UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 24)]
            }
            return b
        }
        typealias T = VirtioPCICapabilityType
        config.addCapability(id: T.vendorCapabilityID, body: body(T.common, offset: commonOffset, length: regionSize))
        config.addCapability(id: T.vendorCapabilityID, body: body(T.isr, offset: isrOffset, length: regionSize))
        config.addCapability(id: T.vendorCapabilityID, body: body(T.device, offset: deviceOffset, length: regionSize))
        config.addCapability(id: T.vendorCapabilityID, body: body(T.notify, offset: notifyOffset, length: regionSize,
                                                                 extra: UInt32(notifyMultiplier)))
        // 4.1.4.9: bar, offset, length and pci_cfg_data are the driver's to write.
        var window = body(T.pciConfig, offset: 0, length: 0, extra: 0)
        window[0] = UInt8(VirtioPCIConfigWindow.capabilityLength)
        var writable = [UInt8](repeating: 0, count: window.count)
        writable[2] = 0xFF
        for i in 6..<window.count { writable[i] = 0xFF }
        return config.addCapability(id: T.vendorCapabilityID, body: window, writable: writable)
    }

    func read(offset: UInt64, width: AccessWidth) -> UInt64 { fieldRead(offset: offset, width: width) }
    func write(offset: UInt64, width: AccessWidth, value: UInt64) { fieldWrite(offset: offset, width: width, value: value) }

    // MARK: Fields

    func field(at offset: Int) -> (start: Int, size: Int)? {
        typealias C = VirtioCommonConfig
        switch offset {
        case Self.isrOffset: return (offset, 1)
        case Self.deviceOffset..<(Self.deviceOffset + VirtioNetConfigField.size): return (offset, 1)
        case Self.notifyOffset..<(Self.notifyOffset + Self.regionSize):
            let start = offset - (offset - Self.notifyOffset) % Self.notifyMultiplier
            return (start, Self.notifyMultiplier)
        case C.deviceFeatureSelect..<C.msixConfig: return (offset & ~3, 4)
        case C.msixConfig..<C.deviceStatus: return (offset & ~1, 2)
        case C.deviceStatus, C.configGeneration: return (offset, 1)
        case C.queueSelect..<C.queueDesc: return (offset & ~1, 2)
        case C.queueDesc..<C.size: return (offset & ~7, 8)
        default: return nil
        }
    }

    func readField(at start: Int) -> UInt64 {
        owner._withUnsafeGuaranteedRef { (device: VirtioNet) -> UInt64 in
            typealias C = VirtioCommonConfig
            let q = device.selectedQueue
            switch start {
            case Self.isrOffset: return UInt64(device.readAndClearISR())
            case Self.deviceOffset..<(Self.deviceOffset + VirtioNetConfigField.size):
                return UInt64(device.deviceConfigByte(start - Self.deviceOffset))
            case Self.notifyOffset...: return 0
            case C.deviceFeatureSelect: return UInt64(device.deviceFeatureSelect)
            case C.deviceFeature: return UInt64(device.offeredFeatures.word(device.deviceFeatureSelect))
            case C.driverFeatureSelect: return UInt64(device.driverFeatureSelect)
            case C.driverFeature: return UInt64(device.driverFeatures.word(device.driverFeatureSelect))
            case C.msixConfig: return UInt64(device.msixConfigVector)
            case C.numQueues: return UInt64(device.queues.count)
            case C.deviceStatus: return UInt64(device.status.rawValue)
            case C.configGeneration: return UInt64(device.configGeneration)
            case C.queueSelect: return UInt64(device.queueSelect)
            // A queue that does not exist reads as size 0 (4.1.4.3).
            case C.queueSize: return UInt64(q?.size ?? 0)
            case C.queueMSIXVector: return UInt64(q?.msixVector ?? VirtQueue.noVector)
            case C.queueEnable: return q?.isEnabled == true ? 1 : 0
            case C.queueNotifyOff: return UInt64(q?.index ?? 0)
            case C.queueDesc: return q?.descriptorTable ?? 0
            case C.queueDriver: return q?.availableRing ?? 0
            case C.queueDevice: return q?.usedRing ?? 0
            default: return 0
            }
        }
    }

    func writeField(at start: Int, value: UInt64) {
        owner._withUnsafeGuaranteedRef { (device: VirtioNet) -> Void in
            typealias C = VirtioCommonConfig
            let v32 = UInt32(truncatingIfNeeded: value)
            let v16 = UInt16(truncatingIfNeeded: value)
            switch start {
            case Self.deviceOffset..<(Self.deviceOffset + VirtioNetConfigField.size):
                device.writeDeviceConfigByte(start - Self.deviceOffset, UInt8(truncatingIfNeeded: value), legacy: false)
            case Self.notifyOffset...:
                device.notify(queue: (start - Self.notifyOffset) / Self.notifyMultiplier)
            case C.deviceFeatureSelect: device.deviceFeatureSelect = v32
            case C.driverFeatureSelect: device.driverFeatureSelect = v32
            case C.driverFeature: device.writeDriverFeatures(word: device.driverFeatureSelect, value: v32)
            case C.msixConfig: device.msixConfigVector = device.acceptedVector(v16)
            case C.deviceStatus: device.writeStatus(UInt8(truncatingIfNeeded: value))
            case C.queueSelect: device.queueSelect = v16
            case C.queueMSIXVector: device.selectedQueue?.msixVector = device.acceptedVector(v16)
            default: writeQueueSetup(at: start, value: value)
            }
        }
    }

    /// Queue set-up fields: writable until the queue is enabled (4.1.4.3.2).
    private func writeQueueSetup(at start: Int, value: UInt64) {
        typealias C = VirtioCommonConfig
        guard let q = device.selectedQueue, !q.isEnabled else { return }
        switch start {
        case C.queueSize:
            let n = UInt16(truncatingIfNeeded: value)
            if n > 0 && n <= q.maxSize { q.size = n }
        case C.queueEnable:
            if value & 1 != 0 { q.enable() }
        case C.queueDesc: q.descriptorTable = value
        case C.queueDriver: q.availableRing = value
        case C.queueDevice: q.usedRing = value
        default: break
        }
    }
}
