import NICCore
import VirtioNet
import XCTest

/// Collects what the device puts on the wire.
final class FrameSink: FrameTransmitter {
    var frames: [[UInt8]] = []
    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) { frames.append(Array(frame)) }
}

/// A guest in test code: RAM, one virtio-net function reached through its
/// register blocks, and mock queues at fixed addresses. It plays a driver
/// step by step, so each test can stop where it wants and misbehave.
final class VirtioTestGuest {
    static let mac = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
    let memory = FlatMemory(size: 4 << 20)
    let clock = VirtualClock()
    let device: VirtioNet
    let sink = FrameSink()
    let intx = InterruptLatch()
    let useModern: Bool
    var rx: MockVirtQueue
    var tx: MockVirtQueue
    var ctrl: MockVirtQueue
    /// Data area for buffers, well clear of the rings.
    static let dataBase: UInt64 = 0x10_0000

    init(_ configuration: VirtioNetConfiguration = VirtioNetConfiguration(macAddress: VirtioTestGuest.mac),
         modern: Bool? = nil, queueSize: UInt16 = 16) {
        device = VirtioNet(configuration: configuration, memory: memory, clock: clock)
        useModern = modern ?? configuration.variant.hasModernInterface
        device.config.upstream = intx
        device.port.transmitter = sink
        // Bus master, memory and I/O decode on, as firmware leaves them.
        device.config.write(offset: PCIConfigRegister.command, width: .word, value: 0x7)
        let size = useModern ? queueSize : configuration.queueSize
        rx = MockVirtQueue(memory: memory, base: 0x1_0000, size: size)
        tx = MockVirtQueue(memory: memory, base: 0x4_0000, size: size)
        ctrl = MockVirtQueue(memory: memory, base: 0x7_0000, size: useModern ? min(queueSize, configuration.controlQueueSize) : configuration.controlQueueSize)
    }

    // MARK: Register access

    var legacy: RegisterBlock? { device.registers(forBAR: VirtioNet.BARIndex.legacy) }
    var modern: RegisterBlock? { device.registers(forBAR: VirtioNet.BARIndex.modern) }

    func common(_ offset: Int, _ width: AccessWidth) -> UInt64 { modern?.read(offset: UInt64(offset), width: width) ?? 0xDEAD }
    func setCommon(_ offset: Int, _ width: AccessWidth, _ value: UInt64) { modern?.write(offset: UInt64(offset), width: width, value: value) }
    func legacyRead(_ offset: Int, _ width: AccessWidth) -> UInt64 { legacy?.read(offset: UInt64(offset), width: width) ?? 0xDEAD }
    func legacyWrite(_ offset: Int, _ width: AccessWidth, _ value: UInt64) { legacy?.write(offset: UInt64(offset), width: width, value: value) }

    var status: UInt8 {
        UInt8(truncatingIfNeeded: useModern ? common(VirtioCommonConfig.deviceStatus, .byte) : legacyRead(VirtioLegacyRegister.deviceStatus, .byte))
    }

    func setStatus(_ value: UInt8) {
        if useModern { setCommon(VirtioCommonConfig.deviceStatus, .byte, UInt64(value)) } else { legacyWrite(VirtioLegacyRegister.deviceStatus, .byte, UInt64(value)) }
    }

    func readISR() -> UInt8 {
        UInt8(truncatingIfNeeded: useModern ? modern?.read(offset: 0x1000, width: .byte) ?? 0 : legacyRead(VirtioLegacyRegister.isrStatus, .byte))
    }

    var deviceFeatures: VirtioFeatures {
        if useModern {
            setCommon(VirtioCommonConfig.deviceFeatureSelect, .dword, 0)
            let low = common(VirtioCommonConfig.deviceFeature, .dword)
            setCommon(VirtioCommonConfig.deviceFeatureSelect, .dword, 1)
            let high = common(VirtioCommonConfig.deviceFeature, .dword)
            return VirtioFeatures(rawValue: high << 32 | low)
        }
        return VirtioFeatures(rawValue: legacyRead(VirtioLegacyRegister.hostFeatures, .dword))
    }

    func writeDriverFeatures(_ f: VirtioFeatures) {
        if useModern {
            setCommon(VirtioCommonConfig.driverFeatureSelect, .dword, 0)
            setCommon(VirtioCommonConfig.driverFeature, .dword, f.rawValue & 0xFFFF_FFFF)
            setCommon(VirtioCommonConfig.driverFeatureSelect, .dword, 1)
            setCommon(VirtioCommonConfig.driverFeature, .dword, f.rawValue >> 32)
        } else {
            legacyWrite(VirtioLegacyRegister.guestFeatures, .dword, f.rawValue & 0xFFFF_FFFF)
        }
    }

    func kick(_ queue: Int) {
        if useModern { modern?.write(offset: 0x3000 + 4 * UInt64(queue), width: .word, value: UInt64(queue)) } else { legacyWrite(VirtioLegacyRegister.queueNotify, .word, UInt64(queue)) }
    }

    private func setUpQueue(_ index: Int, _ q: MockVirtQueue) {
        if useModern {
            setCommon(VirtioCommonConfig.queueSelect, .word, UInt64(index))
            setCommon(VirtioCommonConfig.queueSize, .word, UInt64(q.size))
            setCommon(VirtioCommonConfig.queueDesc, .qword, q.descriptors)
            setCommon(VirtioCommonConfig.queueDriver, .qword, q.available)
            setCommon(VirtioCommonConfig.queueDevice, .qword, q.used)
            setCommon(VirtioCommonConfig.queueEnable, .word, 1)
        } else {
            legacyWrite(VirtioLegacyRegister.queueSelect, .word, UInt64(index))
            legacyWrite(VirtioLegacyRegister.queueAddress, .dword, q.base >> 12)
        }
    }

    /// The whole driver start-up: reset, ACKNOWLEDGE, DRIVER, features,
    /// FEATURES_OK (modern), queues, DRIVER_OK. Returns the status read back.
    @discardableResult
    func start(features: VirtioFeatures) -> UInt8 {
        setStatus(0)
        setStatus(1)
        setStatus(3)
        writeDriverFeatures(features)
        if useModern {
            setStatus(3 | 8)
            guard status & 8 != 0 else { return status }
        }
        setUpQueue(0, rx)
        setUpQueue(1, tx)
        if device.queues.count > 2 { setUpQueue(2, ctrl) }
        setStatus(useModern ? 0xF : 0x7)
        return status
    }

    /// The usual modern feature set of a Linux-like driver.
    static let modernFeatures: VirtioFeatures = [.version1, .mac, .status, .ctrlVQ, .ctrlRx, .ctrlRxExtra, .ctrlVLAN, .ctrlMACAddr]

    // MARK: Buffers

    /// Puts `bytes` at `address`.
    func put(_ bytes: [UInt8], at address: UInt64) {
        try? memory.write(at: address, bytes: bytes)
    }

    func bytes(at address: UInt64, _ count: Int) -> [UInt8] {
        (try? memory.readBytes(at: address, count: count)) ?? []
    }

    /// Offers a frame from the wire.
    @discardableResult
    func offer(_ frame: [UInt8]) -> OfferResult {
        frame.withUnsafeBytes { device.port.offer($0) }
    }

    /// An Ethernet frame to `destination` with a payload of `length` bytes.
    static func frame(to destination: MACAddress = VirtioTestGuest.mac, length: Int = 60, fill: UInt8 = 0xA5, type: (UInt8, UInt8) = (0x08, 0x00)) -> [UInt8] {
        var f = destination.bytes + [0x02, 0, 0, 0, 0, 1] + [type.0, type.1]
        while f.count < length { f.append(fill &+ UInt8(truncatingIfNeeded: f.count)) }
        return f
    }
}
