import NICCore

/// The National Semiconductor DP8390 network interface controller as it sits
/// on an NE2000-class board: the NIC's register pages, its 32 KiB of packet
/// memory at 16-48 KiB, the station-address PROM at 0, and the board's data
/// port and reset port. `RTL8029` puts one on the PCI bus; `NE2000ISA` puts
/// one at a fixed ISA port.
///
/// The host sees 32 ports (`DP8390+Ports.swift`): 0x00-0x0F the registers of
/// the page CR selects, 0x10-0x17 the remote-DMA data port, 0x18-0x1F the
/// reset port. Everything here is driven by the guest's port accesses and by
/// frames the `FramePort` offers; nothing runs on its own.
public final class DP8390 {
    /// Which chip: the RTL8029AS adds the ID bytes, page 3 and the
    /// always-one status bits.
    public enum Chip: Sendable, Equatable {
        case dp8390
        case rtl8029
    }

    /// Packet memory: 32 KiB at local addresses 0x4000-0xBFFF (pages 0x40-0xBF).
    public static let memoryStart = 0x4000
    public static let memorySize = 0x8000
    public static let memoryEnd = memoryStart + memorySize
    public static let firstPage: UInt8 = 0x40
    /// One past the last page of packet memory.
    public static let endPage = 0xC0
    /// The PROM: 32 bytes at local address 0.
    public static let promSize = 32
    /// Shortest frame the receiver stores; shorter ones are padded.
    public static let minimumFrame = 60
    /// Longest frame (without FCS) either direction handles: 1514 plus an
    /// 802.1Q tag.
    public static let maximumFrame = 1518

    public let chip: Chip
    public let macAddress: MACAddress
    /// The wire side.
    public let port: FramePort
    /// Where the interrupt goes: the PCI function's INTx or an ISA IRQ.
    @exclusivity(unchecked)
    public var interruptLine: InterruptLine?

    // MARK: Registers

    /// CR, as last written (TXP clears when a transmission ends).
    @exclusivity(unchecked)
    var command: UInt8 = 0
    @exclusivity(unchecked)
    var pageStart: UInt8 = 0
    @exclusivity(unchecked)
    var pageStop: UInt8 = 0
    @exclusivity(unchecked)
    var boundary: UInt8 = 0
    @exclusivity(unchecked)
    var transmitPageStart: UInt8 = 0
    @exclusivity(unchecked)
    var transmitByteCount: UInt16 = 0
    @exclusivity(unchecked)
    var interruptStatus: UInt8 = 0
    @exclusivity(unchecked)
    var interruptMask: UInt8 = 0
    @exclusivity(unchecked)
    var remoteStartAddress: UInt16 = 0
    @exclusivity(unchecked)
    var remoteByteCount: UInt16 = 0
    /// CRDA: where the next data-port transfer goes.
    @exclusivity(unchecked)
    var currentRemoteAddress: UInt16 = 0
    @exclusivity(unchecked)
    var receiveConfig: UInt8 = 0
    @exclusivity(unchecked)
    var transmitConfig: UInt8 = 0
    @exclusivity(unchecked)
    var dataConfig: UInt8 = 0
    @exclusivity(unchecked)
    var transmitStatus: UInt8 = 0
    @exclusivity(unchecked)
    var receiveStatus: UInt8 = 0
    @exclusivity(unchecked)
    var collisionCount: UInt8 = 0
    @exclusivity(unchecked)
    var currentLocalAddress: UInt16 = 0
    /// PAR0-5 in wire order, packed like `MACAddress.rawValue`.
    @exclusivity(unchecked)
    var physicalAddress: UInt64 = 0
    /// MAR0-7: byte i holds hash bins 8i...8i+7.
    @exclusivity(unchecked)
    var multicastFilter: UInt64 = 0
    @exclusivity(unchecked)
    var currentPage: UInt8 = 0
    @exclusivity(unchecked)
    var remoteNextPacket: UInt8 = 0
    @exclusivity(unchecked)
    var addressCounter: UInt16 = 0
    /// CNTR0-2: frame alignment errors, CRC errors, missed packets.
    @exclusivity(unchecked)
    var tally: (UInt8, UInt8, UInt8) = (0, 0, 0)
    /// True while a Send Packet command owns the remote DMA: BNRY follows
    /// it when the count runs out.
    @exclusivity(unchecked)
    var sendPacketActive = false
    /// A frame the wire holds was refused for want of room and has not
    /// been taken since: its next offers are the same frame again.
    @exclusivity(unchecked)
    var refusedFrameWaiting = false
    /// Last byte through the FIFO.
    @exclusivity(unchecked)
    var fifoByte: UInt8 = 0

    // RTL8029AS page 3.
    @exclusivity(unchecked)
    var eepromCommand: UInt8 = 0
    @exclusivity(unchecked)
    var config2: UInt8 = 0
    @exclusivity(unchecked)
    var config3: UInt8 = 0

    // MARK: Memory and buffers (allocated once)

    /// The 32-byte PROM: each station-address byte twice, then the 0x57
    /// ('W') word-mode signature in bytes 28-31.
    let prom: UnsafeMutablePointer<UInt8>
    /// The 32 KiB of packet memory.
    let ram: UnsafeMutablePointer<UInt8>
    /// A transmitted frame on its way to the wire or back to our receiver.
    let transmitBuffer = FrameBuffer(capacity: DP8390.maximumFrame)
    /// Runt frames are padded here before they are stored.
    let runtBuffer = FrameBuffer(capacity: DP8390.minimumFrame)

    /// Frames refused because they were longer than `maximumFrame` or could
    /// never fit in the programmed ring.
    @exclusivity(unchecked)
    public internal(set) var oversizedFrames = 0

    public init(chip: Chip, macAddress: MACAddress, port: FramePort = FramePort()) {
        self.chip = chip
        self.macAddress = macAddress
        self.port = port
        prom = .allocate(capacity: DP8390.promSize)
        prom.initialize(repeating: 0, count: DP8390.promSize)
        for i in 0..<6 {
            prom[2 * i] = macAddress[i]
            prom[2 * i + 1] = macAddress[i]
        }
        for i in 28..<32 { prom[i] = 0x57 }
        ram = .allocate(capacity: DP8390.memorySize)
        ram.initialize(repeating: 0, count: DP8390.memorySize)
        powerOnReset()
    }

    deinit {
        prom.deallocate()
        ram.deallocate()
    }

    // MARK: Reset

    /// Power-on: every register cleared, then the RESET-pin values; packet
    /// memory cleared.
    public func powerOnReset() {
        pageStart = 0
        pageStop = 0
        boundary = 0
        transmitPageStart = 0
        transmitByteCount = 0
        remoteStartAddress = 0
        remoteByteCount = 0
        currentRemoteAddress = 0
        receiveConfig = 0
        transmitStatus = 0
        receiveStatus = 0
        collisionCount = 0
        currentLocalAddress = 0
        physicalAddress = 0
        multicastFilter = 0
        currentPage = 0
        remoteNextPacket = 0
        addressCounter = 0
        tally = (0, 0, 0)
        fifoByte = 0
        eepromCommand = 0
        config2 = 0
        config3 = 0
        ram.update(repeating: 0, count: DP8390.memorySize)
        resetPin()
    }

    /// What the RESET pin does (DP8390D section 7.0, "Initialization
    /// Procedures"): CR to STP and RD2 (page 0), ISR to RST alone, IMR
    /// cleared, DCR.LAS set, TCR loopback bits cleared. Every other register
    /// keeps its value. The NE2000 board pulses the pin when the host reads
    /// its reset port.
    public func resetPin() {
        command = Command.stop | Command.abortDMA
        interruptStatus = Interrupt.reset
        interruptMask = 0
        dataConfig |= DataConfig.longAddress
        transmitConfig &= ~TransmitConfig.loopbackMask
        sendPacketActive = false
        refusedFrameWaiting = false
        updateInterrupt()
    }

    // MARK: State the other files share

    /// STA set and STP clear: the receiver and transmitter run.
    var isStarted: Bool { command & Command.stop == 0 && command & Command.start != 0 }

    var page: UInt8 { command >> 6 }

    var loopbackMode: UInt8 { (transmitConfig & TransmitConfig.loopbackMask) >> 1 }

    // MARK: Interrupts

    /// The INT pin: ISR & IMR over the seven maskable causes, recomputed
    /// after every change (RST is status only).
    func updateInterrupt() {
        interruptLine?.set(asserted: interruptStatus & interruptMask & 0x7F != 0)
    }

    func raise(_ bits: UInt8) {
        interruptStatus |= bits
        updateInterrupt()
    }

    /// Adds one to CNTR2, the missed-packet tally. Counters stop at 0xFF;
    /// once a counter's MSB is set ISR.CNT asks the host to read (and so
    /// clear) it (DP8390D "Tally Counters"). We never see alignment or CRC
    /// errors (frames arrive without FCS), so CNTR0 and CNTR1 stay 0.
    func countMissedPacket() {
        if tally.2 < 0xFF { tally.2 += 1 }
        receiveStatus |= ReceiveStatus.missedPacket
        if tally.2 & 0x80 != 0 { raise(Interrupt.counterOverflow) }
    }
}

extension DP8390: FrameReceiver {
    public func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
        receiveFromWire(frame)
    }

    /// The NE2000 has no link-status register; carrier changes are not visible.
    public func linkStateDidChange(up: Bool) {}
}
