import Board
import NICCore

/// The UNDI driver for the Realtek RTL8139 family, through the board's buses
/// only. It follows the sequences of the real drivers: reset and poll
/// CR.RST; read the MAC from the EEPROM by bit-banging 9346CR; probe for C+
/// the way iPXE does (RMS must not stick, CPCR must); then either the
/// classic receive ring and four transmit slots (8139too) or the C+
/// descriptor rings (8139cp, iPXE).
public final class RTL8139Driver: NICDriver {
    /// Which datapath to use.
    public enum Mode: Sendable, Equatable {
        /// C+ rings when the chip reports C+, else classic.
        case automatic
        /// The classic ring and slots even on a C+ chip.
        case classic
    }

    /// Which BAR the driver reaches the registers through.
    public enum RegisterAccess: Sendable, Equatable {
        /// BAR1, memory-mapped, as iPXE does (port I/O if BAR1 is unset).
        case memoryMapped
        /// BAR0, port I/O, as 8139too does by default.
        case portIO
    }

    public let name = "RTL8139"
    public let maxFrameSize = 1514
    @exclusivity(unchecked)
    public private(set) var info = NICInfo(bus: .pci(PCIAddress(device: 0)), vendorID: 0x10EC, deviceID: 0x8139)
    @exclusivity(unchecked)
    public private(set) var permanentAddress = MACAddress.zero
    @exclusivity(unchecked)
    public private(set) var stationAddress = MACAddress.zero
    @exclusivity(unchecked)
    public internal(set) var statistics = DriverStatistics()
    /// True once probe found a chip that keeps the C+ bits in CPCR.
    @exclusivity(unchecked)
    public private(set) var chipHasCPlus = false
    /// True when the C+ rings are in use.
    public var usesCPlus: Bool { chipHasCPlus && mode == .automatic }

    let bus: DriverBus
    let mode: Mode
    let access: RegisterAccess
    private let requestedAddress: PCIAddress?
    @exclusivity(unchecked)
    var address = PCIAddress(device: 0)
    @exclusivity(unchecked)
    var window = RTL8139Window.io(0)
    @exclusivity(unchecked)
    var filter: ReceiveFilter = [.directed, .broadcast]
    @exclusivity(unchecked)
    var multicast: [MACAddress] = []

    // Classic datapath
    static let classicRingSize = 32 * 1024
    static let transmitSlots = 4
    static let bufferSize = 1536
    @exclusivity(unchecked)
    var rxRing: UInt64 = 0
    @exclusivity(unchecked)
    var rxOffset = 0
    @exclusivity(unchecked)
    var txBuffers: UInt64 = 0
    @exclusivity(unchecked)
    var txProduced = 0
    @exclusivity(unchecked)
    var txCompleted = 0

    // C+ datapath
    static let descriptorCount = 16
    @exclusivity(unchecked)
    var txDescriptors: UInt64 = 0
    @exclusivity(unchecked)
    var rxDescriptors: UInt64 = 0
    @exclusivity(unchecked)
    var rxBuffers: UInt64 = 0
    @exclusivity(unchecked)
    var rxNext = 0

    @exclusivity(unchecked)
    private var allocated = false

    /// - Parameters:
    ///   - address: the card's PCI address; nil finds the first 10ec:8139.
    ///   - mode: `.classic` keeps a C+ chip in classic mode.
    ///   - access: memory-mapped (BAR1) or port I/O (BAR0) registers.
    public init(bus: DriverBus, address: PCIAddress? = nil, mode: Mode = .automatic,
                access: RegisterAccess = .memoryMapped) {
        self.bus = bus
        self.requestedAddress = address
        self.mode = mode
        self.access = access
    }

    // MARK: Probe

    public func probe() throws(DriverError) {
        guard let found = requestedAddress ?? bus.findPCI(vendor: 0x10EC, device: 0x8139).first,
              bus.configRead32(found, 0) == 0x8139_10EC
        else { throw .deviceNotFound("no RTL8139 (10ec:8139) on the PCI bus") }
        address = found
        bus.enableDevice(found)
        let mmio = bus.barBase(found, 1)
        let io = bus.barBase(found, 0)
        if mmio != 0, access == .memoryMapped {
            window = .mmio(mmio)
        } else if io != 0, io <= 0xFF00 {
            window = .io(UInt16(io))
        } else {
            throw .deviceNotFound("RTL8139 at \(found) has no register BAR programmed")
        }
        let subsystem = bus.configRead32(found, 0x2C)
        info = NICInfo(
            bus: .pci(found), vendorID: 0x10EC, deviceID: 0x8139,
            subsystemVendorID: UInt16(truncatingIfNeeded: subsystem), subsystemID: UInt16(truncatingIfNeeded: subsystem >> 16),
            classCode: bus.configRead32(found, 0x08) >> 8, revision: bus.configRead8(found, 0x08),
            ioBase: io <= 0xFFFF ? UInt16(io) : 0, irq: bus.configRead8(found, 0x3C))
        try reset()
        detectCPlus()
        guard readEEPROM(word: 0) == 0x8129 else {
            throw .hardware("RTL8139 EEPROM ID is not 0x8129")
        }
        let w7 = readEEPROM(word: 7), w8 = readEEPROM(word: 8), w9 = readEEPROM(word: 9)
        permanentAddress = MACAddress(UInt8(truncatingIfNeeded: w7), UInt8(truncatingIfNeeded: w7 >> 8),
                                      UInt8(truncatingIfNeeded: w8), UInt8(truncatingIfNeeded: w8 >> 8),
                                      UInt8(truncatingIfNeeded: w9), UInt8(truncatingIfNeeded: w9 >> 8))
        stationAddress = permanentAddress
    }

    /// CR.RST, then poll until the chip clears it (at most 10 ms).
    func reset() throws(DriverError) {
        w8(RTL8139Reg.cr, RTL8139Reg.crRST)
        let done = bus.wait(timeout: 10 * VirtualClock.millisecond) { r8(RTL8139Reg.cr) & RTL8139Reg.crRST == 0 }
        guard done else { throw .timeout("RTL8139 reset did not complete") }
    }

    /// iPXE's test: RMS is an RTL8169 register and must not keep what is
    /// written; an 8139C+ keeps the C+ enable bits in CPCR.
    private func detectCPlus() {
        w16(RTL8139Reg.rms, UInt16(Self.bufferSize))
        let rmsSticks = r16(RTL8139Reg.rms) == UInt16(Self.bufferSize)
        let cpcr = (r16(RTL8139Reg.cpcr) | RTL8139Reg.cpcrMULRW | RTL8139Reg.cpcrRxEnable | RTL8139Reg.cpcrTxEnable)
            & ~RTL8139Reg.cpcrRxVLAN
        w16(RTL8139Reg.cpcr, cpcr)
        let check = r16(RTL8139Reg.cpcr)
        chipHasCPlus = !rmsSticks && check == cpcr && check != 0xFFFF
        // Back to classic until open decides.
        w16(RTL8139Reg.cpcr, 0)
    }

    // MARK: Open and close

    public func open(filter: ReceiveFilter, multicast: [MACAddress]) throws(DriverError) {
        try reset()
        try allocateOnce()
        self.filter = filter
        self.multicast = multicast
        txProduced = 0
        txCompleted = 0
        rxOffset = 0
        rxNext = 0
        if usesCPlus {
            try openCPlus()
        }
        writeStationAddress(stationAddress)
        w8(RTL8139Reg.cr, RTL8139Reg.crRE | RTL8139Reg.crTE)
        w32(RTL8139Reg.tcr, (r32(RTL8139Reg.tcr) & ~RTL8139Reg.tcrMXDMAMask) | RTL8139Reg.tcrMXDMA1024 | RTL8139Reg.tcrIFG96)
        applyReceiveFilter()
        if !usesCPlus {
            openClassic()
        }
        w32(RTL8139Reg.mpc, 0)
        w16(RTL8139Reg.imr, 0)
    }

    private func allocateOnce() throws(DriverError) {
        guard !allocated else { return }
        // With RCR.WRAP the chip writes a frame that starts near the end of
        // the ring on past it; it accepts frames up to 4 KiB, so that much
        // slack (the datasheet's "+1.5K" assumes standard frames only).
        let slack = 4096 + 16
        rxRing = try bus.allocateDMA(size: Self.classicRingSize + slack, alignment: 16)
        txBuffers = try bus.allocateDMA(size: Self.bufferSize * Self.descriptorCount, alignment: 16)
        txDescriptors = try bus.allocateDMA(size: 16 * Self.descriptorCount, alignment: 256)
        rxDescriptors = try bus.allocateDMA(size: 16 * Self.descriptorCount, alignment: 256)
        rxBuffers = try bus.allocateDMA(size: Self.bufferSize * Self.descriptorCount, alignment: 16)
        allocated = true
    }

    public func close() {
        w8(RTL8139Reg.cr, 0)
        w16(RTL8139Reg.imr, 0)
    }

    public func shutdown() {
        w16(RTL8139Reg.imr, 0)
        w8(RTL8139Reg.cr, RTL8139Reg.crRST)
        _ = bus.wait(timeout: 10 * VirtualClock.millisecond) { r8(RTL8139Reg.cr) & RTL8139Reg.crRST == 0 }
    }

    // MARK: Addresses and filter

    /// IDR takes dword writes only, with 9346CR unlocked as 8139too does it.
    private func writeStationAddress(_ mac: MACAddress) {
        let b = mac.bytes
        w8(RTL8139Reg.cr9346, RTL8139Reg.eeConfigWrite)
        w32(RTL8139Reg.idr0, UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24)
        w32(RTL8139Reg.idr0 + 4, UInt32(b[4]) | UInt32(b[5]) << 8)
        w8(RTL8139Reg.cr9346, 0)
    }

    public func setStationAddress(_ address: MACAddress) throws(DriverError) {
        guard !address.isMulticast else { throw .unsupported("a group address as station address") }
        stationAddress = address
        writeStationAddress(address)
    }

    public func setReceiveFilter(_ filter: ReceiveFilter, multicast: [MACAddress]) throws(DriverError) {
        self.filter = filter
        self.multicast = multicast
        applyReceiveFilter()
    }

    /// RCR accept bits and the MAR hash from the UNDI filter.
    private func applyReceiveFilter() {
        var rcr = RTL8139Reg.rcrRBLEN32K | RTL8139Reg.rcrWRAP | RTL8139Reg.rcrMXDMAUnlimited | RTL8139Reg.rcrRXFTHNone
        var mar: UInt64 = 0
        if filter.contains(.directed) { rcr |= RTL8139Reg.rcrAPM }
        if filter.contains(.broadcast) { rcr |= RTL8139Reg.rcrAB }
        if filter.contains(.promiscuous) {
            rcr |= RTL8139Reg.rcrAAP | RTL8139Reg.rcrAM | RTL8139Reg.rcrAPM | RTL8139Reg.rcrAB
            mar = ~0
        } else if !multicast.isEmpty {
            rcr |= RTL8139Reg.rcrAM
            for group in multicast { mar |= 1 << UInt64(MulticastHash.index(of: group)) }
        }
        w32(RTL8139Reg.mar0, UInt32(truncatingIfNeeded: mar))
        w32(RTL8139Reg.mar0 + 4, UInt32(truncatingIfNeeded: mar >> 32))
        w32(RTL8139Reg.rcr, rcr)
    }

    // MARK: Data path

    public func transmit(_ frame: UnsafeRawBufferPointer) throws(DriverError) {
        guard frame.count >= 14, frame.count <= maxFrameSize else { throw .badFrameLength(frame.count) }
        if usesCPlus {
            try transmitCPlus(frame)
        } else {
            try transmitClassic(frame)
        }
    }

    public func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        usesCPlus ? receiveCPlus(into: buffer) : receiveClassic(into: buffer)
    }

    /// Copies a frame's bytes from guest RAM into the caller's buffer.
    func copyFrame(from address: UInt64, length: Int, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        let n = min(length, buffer.count)
        guard n > 0 else { return true }
        do {
            try bus.memory.read(at: address, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n]))
            return true
        } catch {
            return false
        }
    }

    /// Staging a frame into a transmit buffer, zero-padded to 60 bytes.
    func stageTransmit(_ frame: UnsafeRawBufferPointer, at address: UInt64) throws(DriverError) -> Int {
        let length = max(frame.count, 60)
        do {
            try bus.memory.write(at: address, from: frame)
            if length > frame.count {
                try bus.memory.fill(at: address + UInt64(frame.count), count: length - frame.count, with: 0)
            }
        } catch {
            throw .dma("transmit buffer at 0x\(String(address, radix: 16)) unreachable")
        }
        return length
    }

    // MARK: Link, interrupts, statistics

    public var linkUp: Bool { r8(RTL8139Reg.msr) & RTL8139Reg.msrLINKB == 0 }

    public func setInterruptsEnabled(_ enabled: Bool) {
        w16(RTL8139Reg.imr, enabled ? RTL8139Reg.interruptCauses : 0)
    }

    public func interruptPending() -> Bool {
        r16(RTL8139Reg.isr) & RTL8139Reg.interruptCauses != 0
    }

    public func acknowledgeInterrupts() {
        let isr = r16(RTL8139Reg.isr)
        if isr != 0 { w16(RTL8139Reg.isr, isr) }
    }

    public func clearStatistics() {
        statistics = DriverStatistics()
        w32(RTL8139Reg.mpc, 0)
    }

    /// Folds the chip's missed-packet counter into the statistics.
    func collectMissedPackets() {
        let missed = Int(r32(RTL8139Reg.mpc) & 0xFF_FFFF)
        if missed > 0 {
            statistics.receiveResourceErrors += missed
            w32(RTL8139Reg.mpc, 0)
        }
    }
}
