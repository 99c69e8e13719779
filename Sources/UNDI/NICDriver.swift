import Board
import NICCore

/// Receive filter bits, valued as UNDI's PXENV_UNDI_OPEN PktFilter
/// (FLTR_DIRECTED, FLTR_BRDCST, FLTR_PRMSCS, FLTR_SRC_RTG).
public struct ReceiveFilter: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// Frames to our station address.
    public static let directed = ReceiveFilter(rawValue: 0x0001)
    /// Frames to ff:ff:ff:ff:ff:ff.
    public static let broadcast = ReceiveFilter(rawValue: 0x0002)
    /// Every frame.
    public static let promiscuous = ReceiveFilter(rawValue: 0x0004)
    /// Source-routed frames (accepted for compatibility; Ethernet has none).
    public static let sourceRouting = ReceiveFilter(rawValue: 0x0008)
}

/// Where and what the card is, for GET_NIC_TYPE and GET_INFORMATION.
public struct NICInfo: Sendable, Equatable {
    public enum Bus: Sendable, Equatable {
        case pci(PCIAddress)
        case isa(ioBase: UInt16)
    }

    public var bus: Bus
    public var vendorID: UInt16
    public var deviceID: UInt16
    public var subsystemVendorID: UInt16
    public var subsystemID: UInt16
    public var classCode: UInt32
    public var revision: UInt8
    /// Base of the card's I/O registers (0 when it has none).
    public var ioBase: UInt16
    /// IRQ the card's interrupt reaches, 0 if unknown or polled.
    public var irq: UInt8

    public init(bus: Bus, vendorID: UInt16, deviceID: UInt16, subsystemVendorID: UInt16 = 0, subsystemID: UInt16 = 0,
                classCode: UInt32 = 0x02_00_00, revision: UInt8 = 0, ioBase: UInt16 = 0, irq: UInt8 = 0) {
        self.bus = bus
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.subsystemVendorID = subsystemVendorID
        self.subsystemID = subsystemID
        self.classCode = classCode
        self.revision = revision
        self.ioBase = ioBase
        self.irq = irq
    }
}

/// Frame and error counts a driver keeps (UNDI GET_STATISTICS).
public struct DriverStatistics: Sendable, Equatable {
    public var transmitted = 0
    public var received = 0
    public var receiveCRCErrors = 0
    /// Frames lost for want of receive buffers (overflow, missed).
    public var receiveResourceErrors = 0
    public init() {}
}

/// One NIC-specific driver under the universal UNDI state machine.
///
/// A driver reaches its card only through a `DriverBus`. The UNDI layer
/// calls it in this order: `probe` once, then `open`/`close` any number of
/// times, `transmit` and `receive` while open, and `shutdown` last.
/// `receive` is polled; a driver never blocks waiting for a frame.
public protocol NICDriver: AnyObject {
    /// Short name of the card, e.g. "RTL8139".
    var name: String { get }
    var info: NICInfo { get }
    /// The burnt-in address, read from the card's PROM or EEPROM.
    var permanentAddress: MACAddress { get }
    /// The address the receiver filters on now.
    var stationAddress: MACAddress { get }
    /// Largest frame `transmit` takes, without FCS (1514 for Ethernet).
    var maxFrameSize: Int { get }
    var linkUp: Bool { get }
    var statistics: DriverStatistics { get }

    /// Finds the card, resets it and reads its permanent address.
    func probe() throws(DriverError)
    /// Resets the card and sets it up, receiver and transmitter on, with
    /// this filter and multicast list.
    func open(filter: ReceiveFilter, multicast: [MACAddress]) throws(DriverError)
    /// Stops the receiver and transmitter; the card keeps its set-up.
    func close()
    /// Leaves the card reset and quiet (no DMA, no interrupts).
    func shutdown()
    func setStationAddress(_ address: MACAddress) throws(DriverError)
    func setReceiveFilter(_ filter: ReceiveFilter, multicast: [MACAddress]) throws(DriverError)
    /// Sends one complete frame (from the destination address; no FCS).
    /// Frames shorter than 60 bytes are padded by the driver or the card.
    func transmit(_ frame: UnsafeRawBufferPointer) throws(DriverError)
    /// Takes the next received frame, if any, copying it into `buffer`.
    /// Returns its full length (bytes past `buffer.count` are dropped), or
    /// nil when no frame is waiting.
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int?
    /// Enables or masks the card's interrupt.
    func setInterruptsEnabled(_ enabled: Bool)
    /// True when the card has an interrupt cause pending (UNDI ISR START's
    /// "is it ours").
    func interruptPending() -> Bool
    /// Acknowledges whatever causes are pending.
    func acknowledgeInterrupts()
    func clearStatistics()
}
