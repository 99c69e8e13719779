import NICCore

/// A register-level model of the Realtek RTL8139C+ (PCI 10ec:8139, revision
/// 0x20): the classic RTL8139 receive ring and four transmit slots, and the
/// C+ descriptor rings with checksum, VLAN and large-send offloads.
///
/// The same 256 registers are decoded by the I/O BAR0 and the MMIO BAR1.
/// The interrupt is INTA, raised whenever `ISR & IMR` is non-zero. All DMA
/// goes through the function's bus-master view of guest memory; a failed
/// DMA reports a master abort and raises SERR, it never traps.
public final class RTL8139: PCIFunction, FrameReceiver, NetworkDevice {
    // MARK: Identity and wiring

    public let config: PCIConfigSpace
    public let port: FramePort
    public let modelName = "RTL8139"
    /// The MAC address stored in the EEPROM (words 7-9).
    @exclusivity(unchecked)
    public internal(set) var macAddress: MACAddress
    let dma: GuestMemory
    let clock: VirtualClock
    lazy var registerWindow = RTL8139Registers(device: self)

    public static let identity = PCIIdentity(
        vendorID: 0x10EC, deviceID: 0x8139, revisionID: 0x20, classCode: 0x02_00_00,
        subsystemVendorID: 0x10EC, subsystemID: 0x8139, interruptPin: 1)
    /// Size of each register BAR.
    public static let registerWindowSize: UInt32 = 256

    // MARK: Registers

    @exclusivity(unchecked)
    var idr: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0)
    @exclusivity(unchecked)
    var mar: UInt64 = 0
    /// TSD0-3; in C+ mode TSD0/1 also hold DTCCR.
    @exclusivity(unchecked)
    var tsd = [UInt32](repeating: 0, count: 4)
    /// TSAD0-3; in C+ mode they also hold TNPDS (0, 1) and THPDS (2, 3).
    @exclusivity(unchecked)
    var tsad = [UInt32](repeating: 0, count: 4)
    @exclusivity(unchecked)
    var rbstart: UInt32 = 0
    @exclusivity(unchecked)
    var command: UInt8 = 0
    /// The receiver's read limit: CAPR as written plus 16.
    @exclusivity(unchecked)
    var readPointer: UInt32 = 0
    /// CBR: the receiver's write offset into the ring.
    @exclusivity(unchecked)
    var writePointer: UInt32 = 0
    @exclusivity(unchecked)
    var imr: UInt16 = 0
    @exclusivity(unchecked)
    var isr: UInt16 = 0
    @exclusivity(unchecked)
    var tcr: UInt32 = 0
    @exclusivity(unchecked)
    var rcr: UInt32 = 0
    @exclusivity(unchecked)
    var missedPackets: UInt32 = 0
    @exclusivity(unchecked)
    var cr9346: UInt8 = 0
    @exclusivity(unchecked)
    var config0: UInt8 = 0
    @exclusivity(unchecked)
    var config1: UInt8 = 0
    @exclusivity(unchecked)
    var config3: UInt8 = 0
    @exclusivity(unchecked)
    var config4: UInt8 = 0
    @exclusivity(unchecked)
    var config5: UInt8 = 0
    @exclusivity(unchecked)
    var clockRunning = true
    @exclusivity(unchecked)
    var mulint: UInt16 = 0
    /// MSR bit 7, TXFCE: the driver's Tx flow control enable.
    @exclusivity(unchecked)
    var txFlowControl = false
    @exclusivity(unchecked)
    var bmcr: UInt16 = 0
    @exclusivity(unchecked)
    var bmsr: UInt16 = 0
    @exclusivity(unchecked)
    var anar: UInt16 = 0
    @exclusivity(unchecked)
    var anlpar: UInt16 = 0
    @exclusivity(unchecked)
    var aner: UInt16 = 0
    @exclusivity(unchecked)
    var cscr: UInt16 = 0
    @exclusivity(unchecked)
    var cpcr: UInt16 = 0
    @exclusivity(unchecked)
    var rdsar: UInt64 = 0
    @exclusivity(unchecked)
    var etth: UInt8 = 0
    /// Registers without behaviour of their own (NWAYTR, PHY parameters,
    /// wake-up frames): kept so they read back what was written.
    @exclusivity(unchecked)
    var scratch = [UInt8](repeating: 0, count: 256)

    // MARK: Internal state

    /// The classic transmit slot the chip serves next (round robin).
    @exclusivity(unchecked)
    var nextTransmitSlot = 0
    @exclusivity(unchecked)
    var cPlusTxIndex = 0
    @exclusivity(unchecked)
    var cPlusHighTxIndex = 0
    @exclusivity(unchecked)
    var cPlusRxIndex = 0
    @exclusivity(unchecked)
    var linkUp = true
    let eeprom: EEPROM93C46
    @exclusivity(unchecked)
    var tally = TallyCounters()
    @exclusivity(unchecked)
    var timer = TimerState()
    /// True while a transmitted frame is looped back into the receiver,
    /// so a loopback can never re-enter transmit.
    @exclusivity(unchecked)
    var inLoopback = false
    /// True while the transmitter walks its slots or rings, so a register
    /// write made from inside a transmit callback never nests a second walk.
    @exclusivity(unchecked)
    var servicingTransmit = false
    /// TPPoll requests (HPQ, NPQ) not yet served.
    @exclusivity(unchecked)
    var pendingPoll: UInt8 = 0

    // MARK: Frame buffers (allocated once; the frame path never allocates)

    /// C+ transmit assembly: up to 64 KiB gathered from descriptors.
    let txAssembly = FrameBuffer(capacity: RTL8139.maxCPlusFrame)
    /// Where an outgoing frame is finished (VLAN tag, segmentation).
    let txOut = FrameBuffer(capacity: RTL8139.maxCPlusFrame + 4)
    /// Receive staging: padding, VLAN stripping, FCS.
    let rxStage = FrameBuffer(capacity: 16 * 1024)
    @exclusivity(unchecked)
    var txAssemblyOverflow = false
    @exclusivity(unchecked)
    var txGatherFailed = false

    /// Largest C+ frame the transmitter gathers.
    static let maxCPlusFrame = 64 * 1024
    /// Largest classic frame the transmit FIFO takes (datasheet: 1792 bytes).
    static let maxClassicFrame = 1792
    /// C+ rings hold at most 64 descriptors; the chip wraps after the
    /// 64th even without EOR.
    static let maxDescriptors = 64

    /// - Parameters:
    ///   - macAddress: burnt into the EEPROM at words 7-9.
    ///   - memory: guest RAM; DMA reaches it only while Bus Master is enabled.
    ///   - clock: drives TCTR and TimerInt.
    ///   - port: the wire side (a default port holds 64 frames).
    public init(macAddress: MACAddress, memory: GuestMemory, clock: VirtualClock, port: FramePort = FramePort()) {
        config = PCIConfigSpace(identity: RTL8139.identity)
        config.declareBAR(0, .io(size: RTL8139.registerWindowSize))
        config.declareBAR(1, .memory32(size: RTL8139.registerWindowSize))
        self.macAddress = macAddress
        self.dma = BusMasterMemory(ram: memory, config: config)
        self.clock = clock
        self.port = port
        eeprom = EEPROM93C46(contents: RTL8139.eepromImage(mac: macAddress))
        port.receiver = self
        hardwareReset()
    }

    /// The EEPROM image: ID 0x8129, vendor and device, subsystem, and the
    /// MAC at words 7-9 (little-endian byte pairs).
    static func eepromImage(mac: MACAddress) -> [UInt16] {
        var words = [UInt16](repeating: 0, count: EEPROM93C46.wordCount)
        words[0] = 0x8129
        words[1] = identity.vendorID
        words[2] = identity.deviceID
        words[3] = identity.subsystemVendorID
        words[4] = identity.subsystemID
        words[5] = 0x4020          // MIN_GNT 0x20, MAX_LAT 0x40
        words[6] = 0x0D00          // CONFIG3 and CONFIG4 defaults
        for i in 0..<3 { words[7 + i] = UInt16(mac[2 * i]) | UInt16(mac[2 * i + 1]) << 8 }
        return words
    }

    // MARK: Reset

    /// Power-on: the EEPROM autoloads the station address, then a software reset.
    public func hardwareReset() {
        autoLoad()
        cr9346 = 0
        config0 = 0x00
        config1 = 0x0C      // PIO and MMIO enabled
        config3 = 0x01      // fast back-to-back
        config4 = 0x00
        config5 = 0x00
        mulint = 0
        txFlowControl = false
        clockRunning = true
        tcr = TransmitConfigBits.version8139CPlus
        rcr = 0
        rbstart = 0
        for i in scratch.indices { scratch[i] = 0 }
        resetPHY()
        softwareReset()
    }

    /// CR.RST: the datasheet's software reset. The transmitter and receiver
    /// stop, the rings and pointers return to their initial state, and
    /// IMR/ISR clear. IDR, MAR, RBSTART and the configuration registers keep
    /// their values.
    func softwareReset() {
        command = 0
        imr = 0
        isr = 0
        for i in 0..<4 { tsd[i] = TransmitStatusBits.own }
        nextTransmitSlot = 0
        readPointer = 0
        writePointer = 0
        cpcr = 0
        cPlusTxIndex = 0
        cPlusHighTxIndex = 0
        cPlusRxIndex = 0
        pendingPoll = 0
        txAssembly.setCount(0)
        txAssemblyOverflow = false
        missedPackets = 0
        tally = TallyCounters()
        resetTimer()
        updateInterrupt()
    }

    /// 9346CR auto-load (and power-on): station address from EEPROM words 7-9.
    func autoLoad() {
        let w7 = eeprom.word(7), w8 = eeprom.word(8), w9 = eeprom.word(9)
        idr = (UInt8(truncatingIfNeeded: w7), UInt8(truncatingIfNeeded: w7 >> 8),
               UInt8(truncatingIfNeeded: w8), UInt8(truncatingIfNeeded: w8 >> 8),
               UInt8(truncatingIfNeeded: w9), UInt8(truncatingIfNeeded: w9 >> 8))
        macAddress = stationAddress
    }

    /// IDR0-5 as an address.
    var stationAddress: MACAddress { MACAddress(bytes: idr) }

    // MARK: PCIFunction

    public func registers(forBAR index: Int) -> RegisterBlock? {
        index == 0 || index == 1 ? registerWindow : nil
    }

    // MARK: Interrupts

    /// INTA follows `ISR & IMR`, after every change to either.
    func updateInterrupt() {
        config.set(asserted: isr & imr != 0)
    }

    func raise(_ bits: UInt16) {
        isr |= bits
        updateInterrupt()
    }

    /// A DMA the guest set up failed: record the master abort in PCI status
    /// and raise SERR, as the chip reports a PCI bus error.
    func reportBusError() {
        config.reportMasterAbort()
        isr |= InterruptBits.serr
    }

    // MARK: Modes

    var receiverEnabled: Bool { command & CommandBits.re != 0 }
    var transmitterEnabled: Bool { command & CommandBits.te != 0 }
    var cPlusReceive: Bool { cpcr & CPlusCommandBits.rxEnable != 0 }
    var cPlusTransmit: Bool { cpcr & CPlusCommandBits.txEnable != 0 }
    var loopback: Bool { tcr & TransmitConfigBits.loopbackMask == TransmitConfigBits.loopbackMask }
}

/// The register window both BARs decode. It forwards to the model, one
/// register at a time (see `RTL8139+RegisterAccess.swift`).
public final class RTL8139Registers: RegisterBlock {
    // SAFETY: the device creates this window and keeps it for its lifetime;
    // a Board or ABI host maps it only while it holds the device. Held
    // unretained, so a register cycle costs no reference counting.
    private let device: Unmanaged<RTL8139>
    public let size = UInt64(RTL8139.registerWindowSize)

    init(device: RTL8139) {
        self.device = .passUnretained(device)
    }

    public func read(offset: UInt64, width: AccessWidth) -> UInt64 {
        guard offset < size else { return width.mask }
        return device._withUnsafeGuaranteedRef { $0.registerRead(offset: Int(offset), width: width.rawValue) }
    }

    public func write(offset: UInt64, width: AccessWidth, value: UInt64) {
        guard offset < size else { return }
        device._withUnsafeGuaranteedRef { $0.registerWrite(offset: Int(offset), width: width.rawValue, value: value) }
    }
}
