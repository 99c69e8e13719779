import NICCore

/// Offsets in the legacy virtio-pci I/O BAR (virtio 1.x 4.1.4.8 "Legacy
/// Interfaces: A Note on PCI Device Layout").
public enum VirtioLegacyRegister {
    /// Device (host) features bits 0-31, 32-bit, read-only.
    public static let hostFeatures = 0x00
    /// Driver (guest) features bits 0-31, 32-bit.
    public static let guestFeatures = 0x04
    /// Queue Address: page frame number (4096-byte pages) of the selected queue, 32-bit.
    public static let queueAddress = 0x08
    /// Queue Size of the selected queue, 16-bit, read-only.
    public static let queueSize = 0x0C
    /// Queue Select, 16-bit.
    public static let queueSelect = 0x0E
    /// Queue Notify: write a queue index to kick it, 16-bit.
    public static let queueNotify = 0x10
    /// Device Status, 8-bit.
    public static let deviceStatus = 0x12
    /// ISR Status, 8-bit, cleared by reading.
    public static let isrStatus = 0x13
    /// MSI-X configuration vector, 16-bit (only while MSI-X is enabled).
    public static let configVector = 0x14
    /// MSI-X vector of the selected queue, 16-bit (only while MSI-X is enabled).
    public static let queueVector = 0x16
    /// The device config space without MSI-X enabled.
    public static let deviceConfig = 0x14
    /// The device config space while MSI-X is enabled.
    public static let deviceConfigWithMSIX = 0x18
}

/// The legacy register block behind BAR0 (I/O space).
final class VirtioLegacyRegisters: FieldRegisterBlock {
    /// The registers (20 bytes, 24 with an MSI-X capability) plus the
    /// device config, rounded up to a power of two: 32 or 64 bytes.
    static func barSize(hasMSIX: Bool) -> UInt32 {
        let registers = hasMSIX ? VirtioLegacyRegister.deviceConfigWithMSIX : VirtioLegacyRegister.deviceConfig
        var size: UInt32 = 4
        while size < UInt32(registers + VirtioNetConfigField.size) { size <<= 1 }
        return size
    }

    // SAFETY: the device creates this window and keeps it for its
    // lifetime; a Board or ABI host maps it only while it holds the
    // device. Held unretained, so a register cycle costs no reference
    // counting (the device is weakly referenced by its port, which makes
    // every retain of it a slow one).
    private let owner: Unmanaged<VirtioNet>
    private var device: VirtioNet { owner.takeUnretainedValue() }
    let size: UInt64

    init(device: VirtioNet, hasMSIX: Bool) {
        owner = .passUnretained(device)
        size = UInt64(Self.barSize(hasMSIX: hasMSIX))
    }

    /// Where the device config space starts now: it moves when MSI-X is on.
    private var deviceConfigStart: Int {
        owner._withUnsafeGuaranteedRef { $0.msixEnabled } ? VirtioLegacyRegister.deviceConfigWithMSIX : VirtioLegacyRegister.deviceConfig
    }

    func read(offset: UInt64, width: AccessWidth) -> UInt64 { fieldRead(offset: offset, width: width) }
    func write(offset: UInt64, width: AccessWidth, value: UInt64) { fieldWrite(offset: offset, width: width, value: value) }

    func field(at offset: Int) -> (start: Int, size: Int)? {
        typealias R = VirtioLegacyRegister
        let cfg = deviceConfigStart
        if offset >= cfg {
            let o = offset - cfg
            return o < VirtioNetConfigField.size ? (offset, 1) : nil
        }
        switch offset {
        case R.hostFeatures..<(R.hostFeatures + 4): return (R.hostFeatures, 4)
        case R.guestFeatures..<(R.guestFeatures + 4): return (R.guestFeatures, 4)
        case R.queueAddress..<(R.queueAddress + 4): return (R.queueAddress, 4)
        case R.queueSize..<(R.queueSize + 2): return (R.queueSize, 2)
        case R.queueSelect..<(R.queueSelect + 2): return (R.queueSelect, 2)
        case R.queueNotify..<(R.queueNotify + 2): return (R.queueNotify, 2)
        case R.deviceStatus: return (R.deviceStatus, 1)
        case R.isrStatus: return (R.isrStatus, 1)
        case R.configVector..<(R.configVector + 2): return (R.configVector, 2)
        case R.queueVector..<(R.queueVector + 2): return (R.queueVector, 2)
        default: return nil
        }
    }

    func readField(at start: Int) -> UInt64 {
        owner._withUnsafeGuaranteedRef { (device: VirtioNet) -> UInt64 in
            typealias R = VirtioLegacyRegister
            let cfg = device.msixEnabled ? R.deviceConfigWithMSIX : R.deviceConfig
            if start >= cfg { return UInt64(device.deviceConfigByte(start - cfg)) }
            switch start {
            case R.hostFeatures: return UInt64(device.legacyOfferedFeatures.word(0))
            case R.guestFeatures: return UInt64(device.driverFeatures.word(0))
            case R.queueAddress: return UInt64(device.selectedQueue?.legacyPFN ?? 0)
            case R.queueSize: return UInt64(device.selectedQueue?.maxSize ?? 0)
            case R.queueSelect: return UInt64(device.queueSelect)
            case R.queueNotify: return 0
            case R.deviceStatus: return UInt64(device.status.rawValue)
            case R.isrStatus: return UInt64(device.readAndClearISR())
            case R.configVector: return UInt64(device.msixConfigVector)
            case R.queueVector: return UInt64(device.selectedQueue?.msixVector ?? VirtQueue.noVector)
            default: return 0
            }
        }
    }

    func writeField(at start: Int, value: UInt64) {
        owner._withUnsafeGuaranteedRef { (device: VirtioNet) -> Void in
            typealias R = VirtioLegacyRegister
            let cfg = device.msixEnabled ? R.deviceConfigWithMSIX : R.deviceConfig
            if start >= cfg {
                device.writeDeviceConfigByte(start - cfg, UInt8(truncatingIfNeeded: value), legacy: true)
                return
            }
            switch start {
            case R.guestFeatures: device.writeLegacyGuestFeatures(UInt32(truncatingIfNeeded: value))
            case R.queueAddress:
                // A queue is set up once and released with PFN 0 (or a reset).
                guard let q = device.selectedQueue, !device.status.contains(.driverOK) || value == 0 else { return }
                q.setLegacyPFN(UInt32(truncatingIfNeeded: value))
            case R.queueSelect: device.queueSelect = UInt16(truncatingIfNeeded: value)
            case R.queueNotify: device.notify(queue: Int(UInt16(truncatingIfNeeded: value)))
            case R.deviceStatus: device.writeStatus(UInt8(truncatingIfNeeded: value))
            case R.configVector: device.msixConfigVector = device.acceptedVector(UInt16(truncatingIfNeeded: value))
            case R.queueVector:
                device.selectedQueue?.msixVector = device.acceptedVector(UInt16(truncatingIfNeeded: value))
            default: break
            }
        }
    }
}
