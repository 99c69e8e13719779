import NICCore

/// An NE2000 on the ISA bus: the same DP8390 board at a jumpered port base
/// (0x300 by default) and IRQ (9 by default).
///
/// A host maps it with
/// `card.interruptLine = try board.attachISA(card, ioBase: card.ioBase, irq: card.irq, name: "ne2000")`
/// and `board.add(port: card.port)`.
public final class NE2000ISA: RegisterBlock, FrameReceiver, NetworkDevice {
    public static let defaultIOBase: UInt64 = 0x300
    public static let defaultIRQ = 9

    public let nic: DP8390
    public let ioBase: UInt64
    public let irq: Int
    public var port: FramePort { nic.port }
    public var macAddress: MACAddress { nic.macAddress }
    public var modelName: String { "NE2000" }

    /// The IRQ line the board gave this card (from `Board.attachISA`).
    public var interruptLine: InterruptLine? {
        get { nic.interruptLine }
        set {
            nic.interruptLine = newValue
            nic.updateInterrupt()
        }
    }

    /// - Parameters:
    ///   - chip: `.dp8390` for a National NE2000, `.rtl8029` for a Realtek
    ///     clone with the ID bytes and page 3.
    public init(macAddress: MACAddress, ioBase: UInt64 = NE2000ISA.defaultIOBase, irq: Int = NE2000ISA.defaultIRQ,
                chip: DP8390.Chip = .dp8390, port: FramePort = FramePort()) {
        nic = DP8390(chip: chip, macAddress: macAddress, port: port)
        self.ioBase = ioBase
        self.irq = irq
        port.receiver = self
    }

    /// The shape every nicsim model's initializer has; an ISA NE2000 is
    /// never a bus master and keeps no timers.
    public convenience init(macAddress: MACAddress, memory: GuestMemory, clock: VirtualClock) {
        self.init(macAddress: macAddress)
    }

    public var size: UInt64 { DP8390.portCount }

    public func read(offset: UInt64, width: AccessWidth) -> UInt64 {
        nic.portRead(offset: offset, width: width)
    }

    public func write(offset: UInt64, width: AccessWidth, value: UInt64) {
        nic.portWrite(offset: offset, width: width, value: value)
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
}

extension NE2000ISA: StationFilterSource {
    public var stationFilter: StationFilter { nic.stationFilter }
}
