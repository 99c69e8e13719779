import NICCore

/// The Realtek RTL8029AS: an NE2000-compatible DP8390 on the PCI bus
/// (RTL8029AS datasheet). Vendor 10ec, device 8029, class 02/00/00, one
/// 256-byte I/O BAR of which the first 32 ports are the NE2000 board, INTA.
///
/// A host plugs it in with `board.attach(card, at: PCIAddress(device: N))`
/// and `board.add(port: card.port)`.
public final class RTL8029: PCIFunction, FrameReceiver, NetworkDevice {
    public static let vendorID: UInt16 = 0x10EC
    public static let deviceID: UInt16 = 0x8029
    /// BAR0 size: 256 bytes of I/O space, 32 of them decoded.
    public static let ioSize: UInt32 = 256

    public let config: PCIConfigSpace
    public let nic: DP8390
    public var port: FramePort { nic.port }
    public var macAddress: MACAddress { nic.macAddress }
    public var modelName: String { "RTL8029" }
    private let window: IOWindow

    /// - Parameters:
    ///   - macAddress: the station address burnt into the PROM.
    ///   - port: the wire side (default: hold up to 64 frames).
    public init(macAddress: MACAddress, port: FramePort = FramePort()) {
        config = PCIConfigSpace(identity: PCIIdentity(
            vendorID: RTL8029.vendorID, deviceID: RTL8029.deviceID, revisionID: 0,
            classCode: 0x02_00_00, subsystemVendorID: RTL8029.vendorID, subsystemID: RTL8029.deviceID,
            interruptPin: 1))
        config.declareBAR(0, .io(size: RTL8029.ioSize))
        nic = DP8390(chip: .rtl8029, macAddress: macAddress, port: port)
        window = IOWindow(nic: nic)
        nic.interruptLine = config
        port.receiver = self
    }

    /// The shape every nicsim model's initializer has. The RTL8029 never
    /// masters the bus (the host moves every byte through the data port)
    /// and keeps no timers, so `memory` and `clock` are not used.
    public convenience init(macAddress: MACAddress, memory: GuestMemory, clock: VirtualClock) {
        self.init(macAddress: macAddress)
    }

    public func registers(forBAR index: Int) -> RegisterBlock? {
        index == 0 ? window : nil
    }

    public func hardwareReset() {
        nic.powerOnReset()
    }

    public func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
        nic.receive(frame: frame)
    }

    public func linkStateDidChange(up: Bool) {
        nic.linkStateDidChange(up: up)
    }

    /// BAR0: the board's 32 ports, then 224 undecoded ones that float high.
    private final class IOWindow: RegisterBlock {
        // SAFETY: the card owns both the core and this window; hosts map
        // it only while they hold the card. Held unretained, so a port
        // cycle costs no reference counting.
        private let nic: Unmanaged<DP8390>
        init(nic: DP8390) { self.nic = .passUnretained(nic) }
        var size: UInt64 { UInt64(RTL8029.ioSize) }

        func read(offset: UInt64, width: AccessWidth) -> UInt64 {
            guard offset < DP8390.portCount else { return width.mask }
            return nic._withUnsafeGuaranteedRef { $0.portRead(offset: offset, width: width) }
        }

        func write(offset: UInt64, width: AccessWidth, value: UInt64) {
            guard offset < DP8390.portCount else { return }
            nic._withUnsafeGuaranteedRef { $0.portWrite(offset: offset, width: width, value: value) }
        }
    }
}

extension RTL8029: StationFilterSource {
    public var stationFilter: StationFilter { nic.stationFilter }
}
