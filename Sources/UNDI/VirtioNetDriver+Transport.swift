import Board
import NICCore

/// How the virtio-net driver reaches the device's registers: the legacy
/// I/O block, or the virtio 1.x structures found through the vendor
/// capabilities. Both speak in the same terms, so the driver above them is
/// one piece of code.
protocol VirtioDriverTransport: AnyObject {
    var isModern: Bool { get }
    func readStatus() -> UInt8
    func writeStatus(_ value: UInt8)
    /// Device features (64 bits modern, low 32 legacy).
    func deviceFeatures() -> UInt64
    func writeDriverFeatures(_ value: UInt64)
    func selectQueue(_ index: UInt16)
    /// Maximum size of the selected queue; 0 when it does not exist.
    func queueMaxSize() -> UInt16
    /// Hands the selected queue to the device. Legacy takes a 4096-aligned
    /// ring in the legacy layout at `ring.base` and its maximum size.
    func activateQueue(_ ring: VirtioDriverRing)
    func notify(_ index: UInt16)
    /// Reads (and so clears) ISR status.
    func readISR() -> UInt8
    func readConfig(_ offset: Int) -> UInt8
    func writeConfig(_ offset: Int, _ value: UInt8)
}

/// The legacy I/O block (virtio 1.x 4.1.4.8), without MSI-X enabled, so
/// the device config starts at 0x14.
final class VirtioLegacyDriverTransport: VirtioDriverTransport {
    private enum Reg {
        static let hostFeatures: UInt16 = 0x00
        static let guestFeatures: UInt16 = 0x04
        static let queueAddress: UInt16 = 0x08
        static let queueSize: UInt16 = 0x0C
        static let queueSelect: UInt16 = 0x0E
        static let queueNotify: UInt16 = 0x10
        static let status: UInt16 = 0x12
        static let isr: UInt16 = 0x13
        static let config: UInt16 = 0x14
    }

    let bus: DriverBus
    let ioBase: UInt16
    let isModern = false

    init(bus: DriverBus, ioBase: UInt16) {
        self.bus = bus
        self.ioBase = ioBase
    }

    func readStatus() -> UInt8 { bus.inb(ioBase + Reg.status) }
    func writeStatus(_ value: UInt8) { bus.outb(ioBase + Reg.status, value) }
    func deviceFeatures() -> UInt64 { UInt64(bus.inl(ioBase + Reg.hostFeatures)) }
    func writeDriverFeatures(_ value: UInt64) { bus.outl(ioBase + Reg.guestFeatures, UInt32(truncatingIfNeeded: value)) }
    func selectQueue(_ index: UInt16) { bus.outw(ioBase + Reg.queueSelect, index) }
    func queueMaxSize() -> UInt16 { bus.inw(ioBase + Reg.queueSize) }
    func activateQueue(_ ring: VirtioDriverRing) { bus.outl(ioBase + Reg.queueAddress, UInt32(truncatingIfNeeded: ring.base >> 12)) }
    func notify(_ index: UInt16) { bus.outw(ioBase + Reg.queueNotify, index) }
    func readISR() -> UInt8 { bus.inb(ioBase + Reg.isr) }
    func readConfig(_ offset: Int) -> UInt8 { bus.inb(ioBase + Reg.config + UInt16(offset)) }
    func writeConfig(_ offset: Int, _ value: UInt8) { bus.outb(ioBase + Reg.config + UInt16(offset), value) }
}

/// Where the virtio 1.x structures are, as the vendor capabilities say
/// (struct virtio_pci_cap, 4.1.4).
struct VirtioModernLayout {
    var common: UInt64
    var notify: UInt64
    var notifyMultiplier: UInt32
    var isr: UInt64
    var device: UInt64
}

/// The virtio 1.x common config, notify, ISR and device config in memory space.
final class VirtioModernDriverTransport: VirtioDriverTransport {
    private enum Common {
        static let deviceFeatureSelect: UInt64 = 0x00
        static let deviceFeature: UInt64 = 0x04
        static let driverFeatureSelect: UInt64 = 0x08
        static let driverFeature: UInt64 = 0x0C
        static let status: UInt64 = 0x14
        static let queueSelect: UInt64 = 0x16
        static let queueSize: UInt64 = 0x18
        static let queueMSIXVector: UInt64 = 0x1A
        static let queueEnable: UInt64 = 0x1C
        static let queueNotifyOff: UInt64 = 0x1E
        static let queueDesc: UInt64 = 0x20
        static let queueDriver: UInt64 = 0x28
        static let queueDevice: UInt64 = 0x30
    }

    let bus: DriverBus
    let layout: VirtioModernLayout
    let isModern = true
    @exclusivity(unchecked)
    private var notifyAddresses = [UInt64](repeating: 0, count: 8)

    init(bus: DriverBus, layout: VirtioModernLayout) {
        self.bus = bus
        self.layout = layout
    }

    func readStatus() -> UInt8 { bus.readb(layout.common + Common.status) }
    func writeStatus(_ value: UInt8) { bus.writeb(layout.common + Common.status, value) }

    func deviceFeatures() -> UInt64 {
        bus.writel(layout.common + Common.deviceFeatureSelect, 0)
        let low = UInt64(bus.readl(layout.common + Common.deviceFeature))
        bus.writel(layout.common + Common.deviceFeatureSelect, 1)
        let high = UInt64(bus.readl(layout.common + Common.deviceFeature))
        return high << 32 | low
    }

    func writeDriverFeatures(_ value: UInt64) {
        bus.writel(layout.common + Common.driverFeatureSelect, 0)
        bus.writel(layout.common + Common.driverFeature, UInt32(truncatingIfNeeded: value))
        bus.writel(layout.common + Common.driverFeatureSelect, 1)
        bus.writel(layout.common + Common.driverFeature, UInt32(truncatingIfNeeded: value >> 32))
    }

    func selectQueue(_ index: UInt16) { bus.writew(layout.common + Common.queueSelect, index) }
    func queueMaxSize() -> UInt16 { bus.readw(layout.common + Common.queueSize) }

    func activateQueue(_ ring: VirtioDriverRing) {
        let c = layout.common
        bus.writew(c + Common.queueSize, ring.size)
        bus.writew(c + Common.queueMSIXVector, 0xFFFF)
        // 64-bit fields as two 32-bit writes, low half first (4.1.3.1).
        for (field, value) in [(Common.queueDesc, ring.descriptors), (Common.queueDriver, ring.available), (Common.queueDevice, ring.used)] {
            bus.writel(c + field, UInt32(truncatingIfNeeded: value))
            bus.writel(c + field + 4, UInt32(truncatingIfNeeded: value >> 32))
        }
        let off = UInt64(bus.readw(c + Common.queueNotifyOff))
        if Int(ring.index) < notifyAddresses.count {
            notifyAddresses[Int(ring.index)] = layout.notify + off * UInt64(layout.notifyMultiplier)
        }
        bus.writew(c + Common.queueEnable, 1)
    }

    func notify(_ index: UInt16) {
        guard Int(index) < notifyAddresses.count, notifyAddresses[Int(index)] != 0 else { return }
        let address = notifyAddresses[Int(index)]
        bus.writew(address, index)
    }

    func readISR() -> UInt8 { bus.readb(layout.isr) }
    func readConfig(_ offset: Int) -> UInt8 { bus.readb(layout.device + UInt64(offset)) }
    func writeConfig(_ offset: Int, _ value: UInt8) { bus.writeb(layout.device + UInt64(offset), value) }
}
