import Board
import NICCatalogue
import NICCore

/// Where the universal UNDI stands, as PXENV_UNDI_GET_STATE reports it
/// (PXE_UNDI_GET_STATE_STARTED, _INITIALIZED, _OPENED); `stopped` is
/// before PXENV_START_UNDI and after PXENV_STOP_UNDI.
public enum UNDIState: UInt8, Sendable {
    case stopped = 0
    case started = 1
    case initialized = 2
    case opened = 3
}

/// The universal network driver interface: one PXE 2.1 UNDI state machine
/// over any `NICDriver`.
///
/// Calls follow the PXE 2.1 order: START_UNDI, STARTUP, INITIALIZE, OPEN,
/// then TRANSMIT/ISR while open, and CLOSE, SHUTDOWN, CLEANUP, STOP_UNDI
/// on the way down. A call made out of that order returns
/// `PXEStatus.undiInvalidState` and changes nothing. Every opcode has a typed
/// method here (`UNDI+Opcodes.swift`, `UNDI+Transmit.swift`, `UNDI+ISR.swift`,
/// `UNDI+Information.swift`); the PXE API dispatcher maps parameter blocks in
/// guest memory onto them.
///
/// The frame path uses two buffers allocated here once: one the transmit
/// fragments are gathered into, one a received frame is copied into for ISR.
public final class UNDI {
    /// Steps of the PXE start-up sequence. GET_STATE folds `loaded` and
    /// `startedUp` into STARTED.
    enum Phase: Int, Comparable {
        case stopped, loaded, startedUp, initialized, opened
        static func < (a: Phase, b: Phase) -> Bool { a.rawValue < b.rawValue }
    }

    public let driver: NICDriver
    public let bus: DriverBus
    @exclusivity(unchecked)
    var phase: Phase = .stopped
    /// True once `driver.probe()` has found the card and read its address.
    @exclusivity(unchecked)
    var probed = false
    /// The card is reset and quiet (after SHUTDOWN), so INITIALIZE must
    /// probe it again.
    @exclusivity(unchecked)
    var needsReinitialize = false

    /// Filter and multicast list the NIC is (or will be) opened with.
    @exclusivity(unchecked)
    public internal(set) var packetFilter: ReceiveFilter = [.directed, .broadcast]
    @exclusivity(unchecked)
    public internal(set) var multicastList: [MACAddress] = []

    /// Real-mode segment of the option ROM, reported by GET_INFORMATION.
    @exclusivity(unchecked)
    public var romSegment: UInt16 = 0
    /// Link speed in bit/s for GET_IFACE_INFO.
    @exclusivity(unchecked)
    public var linkSpeed: UInt32

    // ISR bookkeeping.
    /// Transmissions completed but not yet reported by ISR GET_NEXT.
    @exclusivity(unchecked)
    var pendingTransmitCompletions = 0
    /// FORCE_INTERRUPT was called: the next ISR START says OURS.
    @exclusivity(unchecked)
    var forcedInterrupt = false
    /// Between ISR START (or PROCESS) and the GET_NEXT that says DONE.
    @exclusivity(unchecked)
    var isrInProgress = false

    let transmitBuffer: FrameBuffer
    let receiveBuffer: FrameBuffer

    /// Largest multicast list UNDI takes (MAXNUM_MCADDR).
    public static let maxMulticastAddresses = 8
    /// Ethernet frames are padded to 60 bytes before the FCS.
    public static let minimumFrameSize = 60
    /// Ethernet II media header: destination, source, type.
    public static let mediaHeaderLength = 14

    public init(driver: NICDriver, bus: DriverBus, linkSpeed: UInt32? = nil) {
        self.driver = driver
        self.bus = bus
        self.linkSpeed = linkSpeed ?? UNDI.defaultLinkSpeed(vendor: driver.info.vendorID, device: driver.info.deviceID)
        transmitBuffer = FrameBuffer(capacity: 2048)
        receiveBuffer = FrameBuffer(capacity: 2048)
    }

    /// What GET_STATE reports.
    public var state: UNDIState {
        switch phase {
        case .stopped: .stopped
        case .loaded, .startedUp: .started
        case .initialized: .initialized
        case .opened: .opened
        }
    }

    /// The card's nominal speed, from its catalogue entry: 10 Mb/s for the
    /// RTL8029 NE2000 clone, 100 Mb/s for the RTL8139, 1 Gb/s for virtio-net
    /// (which has no physical medium), 10 Mb/s otherwise.
    static func defaultLinkSpeed(vendor: UInt16, device: UInt16) -> UInt32 {
        NICCatalogue.linkSpeed(vendor: vendor, device: device)
    }

    /// Maps a driver failure onto the PXE status a caller sees.
    static func status(for error: DriverError, during opcode: PXEStatus) -> PXEStatus {
        switch error {
        case .badFrameLength: .undiInvalidParameter
        case .transmitBusy, .timeout: opcode == .undiTransmitError ? .undiTransmitError : .undiCannotInitializeNIC
        default: opcode
        }
    }
}
