import Board
import NICCore

/// The UNDI driver for NE2000-class cards: the RTL8029 on PCI, found by
/// configuration cycles, and an NE2000 at a given ISA port. It does what
/// the real drivers do (Linux ne.c/ne2k-pci with 8390.c, iPXE ns8390), all
/// through port I/O: reset through the reset port, the station address
/// read from the PROM by remote DMA, a receive ring in the card's packet
/// memory polled through BNRY and CURR, and frames copied in and out
/// through the data port.
public final class NE2000Driver: NICDriver {
    /// Where to look for the card.
    public enum Location: Sendable, Equatable {
        /// An RTL8029 on PCI bus 0: the one at `address`, or the first found.
        case pci(PCIAddress? = nil)
        /// An NE2000 jumpered at `ioBase` on IRQ `irq`.
        case isa(ioBase: UInt16, irq: UInt8)
    }

    public static let realtekVendorID: UInt16 = 0x10EC
    public static let rtl8029DeviceID: UInt16 = 0x8029

    /// Packet memory layout (pages of 256 bytes): one transmit buffer of
    /// six pages at the start of the 32 KiB, the receive ring after it.
    static let transmitStartPage: UInt8 = 0x40
    static let receiveStartPage: UInt8 = 0x46
    static let receiveStopPage: UInt8 = 0xC0

    let bus: DriverBus
    public let location: Location
    @exclusivity(unchecked)
    public private(set) var info: NICInfo
    @exclusivity(unchecked)
    public private(set) var permanentAddress: MACAddress = .zero
    @exclusivity(unchecked)
    public private(set) var stationAddress: MACAddress = .zero
    public let maxFrameSize = 1514
    /// The NE2000 reports no link state; the cable is assumed.
    public var linkUp: Bool { true }
    @exclusivity(unchecked)
    public internal(set) var statistics = DriverStatistics()
    @exclusivity(unchecked)
    public private(set) var name = "NE2000"

    /// I/O base of the card's 32 ports.
    @exclusivity(unchecked)
    var base: UInt16 = 0
    /// 16-bit card (NE2000) rather than 8-bit (NE1000).
    @exclusivity(unchecked)
    var wordMode = true
    /// The card decodes 32-bit data-port accesses (RTL8029).
    @exclusivity(unchecked)
    var dwordIO = false
    @exclusivity(unchecked)
    var isOpen = false
    /// Between the overflow recovery's restart and the ring being drained.
    @exclusivity(unchecked)
    var recoveringFromOverflow = false
    @exclusivity(unchecked)
    var filter: ReceiveFilter = [.directed, .broadcast]
    @exclusivity(unchecked)
    var multicastFilter: UInt64 = 0

    public init(bus: DriverBus, location: Location) {
        self.bus = bus
        self.location = location
        switch location {
        case .pci(let address):
            info = NICInfo(bus: .pci(address ?? PCIAddress(device: 0)), vendorID: NE2000Driver.realtekVendorID,
                           deviceID: NE2000Driver.rtl8029DeviceID)
        case .isa(let ioBase, let irq):
            info = NICInfo(bus: .isa(ioBase: ioBase), vendorID: 0, deviceID: 0, ioBase: ioBase, irq: irq)
        }
    }

    // MARK: Probe

    public func probe() throws(DriverError) {
        switch location {
        case .pci(let wanted):
            try findPCICard(wanted)
        case .isa(let ioBase, _):
            base = ioBase
            try checkISACard()
        }
        try resetCard()
        try readStationAddressPROM()
        stationAddress = permanentAddress
    }

    private func findPCICard(_ wanted: PCIAddress?) throws(DriverError) {
        let address: PCIAddress
        if let wanted {
            let id = bus.configRead32(wanted, 0)
            guard id == UInt32(NE2000Driver.rtl8029DeviceID) << 16 | UInt32(NE2000Driver.realtekVendorID) else {
                throw .deviceNotFound("no RTL8029 at \(wanted)")
            }
            address = wanted
        } else {
            guard let first = bus.findPCI(vendor: NE2000Driver.realtekVendorID, device: NE2000Driver.rtl8029DeviceID).first else {
                throw .deviceNotFound("no RTL8029 (10ec:8029) on PCI bus 0")
            }
            address = first
        }
        bus.enableDevice(address)
        let bar = bus.barBase(address, 0)
        guard bar != 0, bar < 0x1_0000, bus.configRead32(address, 0x10) & 1 != 0 else {
            throw .deviceNotFound("RTL8029 at \(address) has no I/O BAR assigned")
        }
        base = UInt16(bar)
        dwordIO = true
        name = "RTL8029"
        let subsystem = bus.configRead32(address, 0x2C)
        let classRevision = bus.configRead32(address, 0x08)
        info = NICInfo(bus: .pci(address), vendorID: NE2000Driver.realtekVendorID, deviceID: NE2000Driver.rtl8029DeviceID,
                       subsystemVendorID: UInt16(truncatingIfNeeded: subsystem), subsystemID: UInt16(truncatingIfNeeded: subsystem >> 16),
                       classCode: classRevision >> 8, revision: UInt8(truncatingIfNeeded: classRevision),
                       ioBase: base, irq: bus.configRead8(address, 0x3C))
    }

    /// Is an 8390 at `base`? Nothing there reads 0xFF; a DP8390 keeps its
    /// pages apart, so a write to page 1's MAR5 leaves page 0's CNTR0 (just
    /// cleared by reading) at 0 (the check Linux's ne.c makes).
    private func checkISACard() throws(DriverError) {
        let saved = inb(Reg.command)
        guard saved != 0xFF else { throw .deviceNotFound("nothing at I/O port 0x\(String(base, radix: 16))") }
        outb(Reg.command, CR.noDMA | CR.page1 | CR.stop)
        let savedMAR5 = inb(0x0D)
        outb(0x0D, 0xFF)
        outb(Reg.command, CR.noDMA | CR.page0)
        _ = inb(Reg.tally0)
        if inb(Reg.tally0) != 0 {
            outb(Reg.command, saved)
            outb(0x0D, savedMAR5)
            throw .deviceNotFound("no 8390 at I/O port 0x\(String(base, radix: 16))")
        }
    }

    /// Pulses the reset port and waits for ISR.RST.
    func resetCard() throws(DriverError) {
        outb(Reg.reset, inb(Reg.reset))
        guard waitForStatus(ISR.reset, timeout: 20 * VirtualClock.millisecond) != nil else {
            throw .timeout("NE2000 did not acknowledge reset")
        }
        outb(Reg.interruptStatus, 0xFF)
    }

    /// Reads the 32-byte station-address PROM by remote DMA. A PCI card is
    /// read in word mode (as ne2k-pci does: DCR first, then 16 words, the
    /// address in each word's low byte); an ISA card in byte mode, where a
    /// 16-bit card shows every byte twice (as ne.c tells NE2000 from NE1000).
    func readStationAddressPROM() throws(DriverError) {
        wordMode = dwordIO
        outb(Reg.command, CR.noDMA | CR.page0 | CR.stop)
        outb(Reg.dataConfiguration, dcrValue)
        outb(Reg.remoteByteCount0, 0)
        outb(Reg.remoteByteCount1, 0)
        outb(Reg.interruptMask, 0)
        outb(Reg.interruptStatus, 0xFF)
        outb(Reg.receiveConfiguration, RCR.monitor)
        outb(Reg.transmitConfiguration, TCR.internalLoopback)
        outb(Reg.remoteByteCount0, 32)
        outb(Reg.remoteByteCount1, 0)
        outb(Reg.remoteStartAddress0, 0)
        outb(Reg.remoteStartAddress1, 0)
        outb(Reg.command, CR.remoteRead | CR.start)

        var address = [UInt8](repeating: 0, count: 6)
        var signature: UInt8 = 0
        if wordMode {
            for i in 0..<16 {
                let word = inw(Reg.data)
                if i < 6 { address[i] = UInt8(truncatingIfNeeded: word) }
                if i == 14 { signature = UInt8(truncatingIfNeeded: word) }
            }
        } else {
            var bytes = [UInt8](repeating: 0, count: 32)
            for i in 0..<32 { bytes[i] = inb(Reg.data) }
            let doubled = (0..<16).allSatisfy { bytes[2 * $0] == bytes[2 * $0 + 1] }
            if doubled {
                wordMode = true
                for i in 0..<6 { address[i] = bytes[2 * i] }
                signature = bytes[28]
            } else {
                for i in 0..<6 { address[i] = bytes[i] }
                signature = bytes[14]
            }
        }
        outb(Reg.command, CR.noDMA | CR.page0 | CR.stop)
        outb(Reg.interruptStatus, ISR.remoteDMAComplete)
        guard let mac = MACAddress(bytes: address), mac != .zero, mac != .broadcast else {
            throw .hardware("station address PROM unreadable")
        }
        // 0x57 ('W') marks a 16-bit NE2000 PROM, 0x42 ('B') an NE1000.
        guard signature == 0x57 || signature == 0x42 || dwordIO else {
            throw .deviceNotFound("no NE2000 signature in the PROM (0x\(String(signature, radix: 16)))")
        }
        permanentAddress = mac
    }

    /// DCR as the drivers program it: FIFO threshold 8 bytes, normal
    /// operation (LS), word-wide transfers on a 16-bit card.
    var dcrValue: UInt8 { wordMode ? 0x49 : 0x48 }

    // MARK: Open and close

    public func open(filter: ReceiveFilter, multicast: [MACAddress]) throws(DriverError) {
        guard base != 0 else { throw .deviceNotFound("open before probe") }
        self.filter = filter
        multicastFilter = NE2000Driver.hashFilter(multicast, promiscuous: filter.contains(.promiscuous))
        // The 8390 initialisation order (DP8390D 7.0): stopped, DCR, counts,
        // monitor mode and loopback while the ring is set up, then start.
        outb(Reg.command, CR.page0 | CR.noDMA | CR.stop)
        outb(Reg.dataConfiguration, dcrValue)
        outb(Reg.remoteByteCount0, 0)
        outb(Reg.remoteByteCount1, 0)
        outb(Reg.receiveConfiguration, RCR.monitor)
        outb(Reg.transmitConfiguration, TCR.internalLoopback)
        outb(Reg.transmitPageStart, NE2000Driver.transmitStartPage)
        outb(Reg.pageStart, NE2000Driver.receiveStartPage)
        outb(Reg.pageStop, NE2000Driver.receiveStopPage)
        outb(Reg.boundary, NE2000Driver.receiveStopPage - 1)
        outb(Reg.interruptStatus, 0xFF)
        outb(Reg.interruptMask, 0)
        outb(Reg.command, CR.page1 | CR.noDMA | CR.stop)
        writeStationAddress(stationAddress)
        writeMulticastFilter()
        outb(Reg.currentPage, NE2000Driver.receiveStartPage)
        outb(Reg.command, CR.page0 | CR.noDMA | CR.start)
        outb(Reg.interruptStatus, 0xFF)
        outb(Reg.transmitConfiguration, 0)
        outb(Reg.receiveConfiguration, receiveConfiguration)
        recoveringFromOverflow = false
        isOpen = true
    }

    public func close() {
        guard base != 0 else { return }
        outb(Reg.command, CR.page0 | CR.noDMA | CR.stop)
        isOpen = false
    }

    public func shutdown() {
        guard base != 0 else { return }
        close()
        outb(Reg.interruptMask, 0)
        outb(Reg.interruptStatus, 0xFF)
        outb(Reg.reset, inb(Reg.reset))
    }

    public func setStationAddress(_ address: MACAddress) throws(DriverError) {
        guard !address.isMulticast else { throw .unsupported("a station address must be unicast") }
        stationAddress = address
        guard base != 0 else { return }
        let command = inb(Reg.command) & (CR.start | CR.stop)
        outb(Reg.command, CR.page1 | CR.noDMA | command)
        writeStationAddress(address)
        outb(Reg.command, CR.page0 | CR.noDMA | command)
    }

    public func setReceiveFilter(_ filter: ReceiveFilter, multicast: [MACAddress]) throws(DriverError) {
        self.filter = filter
        multicastFilter = NE2000Driver.hashFilter(multicast, promiscuous: filter.contains(.promiscuous))
        guard base != 0 else { return }
        let command = inb(Reg.command) & (CR.start | CR.stop)
        outb(Reg.command, CR.page1 | CR.noDMA | command)
        writeMulticastFilter()
        outb(Reg.command, CR.page0 | CR.noDMA | command)
        if isOpen { outb(Reg.receiveConfiguration, receiveConfiguration) }
    }

    /// RCR for the filter: the 8390 always takes frames to PAR; AB adds
    /// broadcast, AM multicast through MAR, PRO every unicast.
    var receiveConfiguration: UInt8 {
        var rcr: UInt8 = 0
        if filter.contains(.broadcast) { rcr |= RCR.acceptBroadcast }
        if multicastFilter != 0 { rcr |= RCR.acceptMulticast }
        if filter.contains(.promiscuous) { rcr |= RCR.promiscuous | RCR.acceptBroadcast }
        return rcr
    }

    /// MAR for a multicast list (every bin when promiscuous, as Linux does).
    static func hashFilter(_ list: [MACAddress], promiscuous: Bool) -> UInt64 {
        if promiscuous { return ~0 }
        var mar: UInt64 = 0
        for address in list { mar |= 1 << UInt64(MulticastHash.index(of: address)) }
        return mar
    }

    /// PAR0-5; page 1 must be selected.
    private func writeStationAddress(_ address: MACAddress) {
        for i in 0..<6 { outb(Reg.physicalAddress0 + UInt16(i), address[i]) }
    }

    /// MAR0-7; page 1 must be selected.
    private func writeMulticastFilter() {
        for i in 0..<8 { outb(Reg.multicastAddress0 + UInt16(i), UInt8(truncatingIfNeeded: multicastFilter >> UInt64(8 * i))) }
    }

    // MARK: Interrupts

    public func setInterruptsEnabled(_ enabled: Bool) {
        guard base != 0 else { return }
        outb(Reg.interruptMask, enabled ? ISR.driverCauses : 0)
    }

    public func interruptPending() -> Bool {
        guard base != 0 else { return false }
        return inb(Reg.interruptStatus) & ISR.driverCauses != 0
    }

    public func acknowledgeInterrupts() {
        guard base != 0 else { return }
        let pending = inb(Reg.interruptStatus) & ISR.driverCauses
        if pending != 0 { outb(Reg.interruptStatus, pending) }
    }

    public func clearStatistics() {
        statistics = DriverStatistics()
    }

    // MARK: Port access

    @inline(__always) func inb(_ register: UInt16) -> UInt8 { bus.inb(base &+ register) }
    @inline(__always) func inw(_ register: UInt16) -> UInt16 { bus.inw(base &+ register) }
    @inline(__always) func inl(_ register: UInt16) -> UInt32 { bus.inl(base &+ register) }
    @inline(__always) func outb(_ register: UInt16, _ value: UInt8) { bus.outb(base &+ register, value) }
    @inline(__always) func outw(_ register: UInt16, _ value: UInt16) { bus.outw(base &+ register, value) }
    @inline(__always) func outl(_ register: UInt16, _ value: UInt32) { bus.outl(base &+ register, value) }

    /// Polls ISR until a bit of `mask` is set: a short spin first (the card
    /// usually answers at once; iPXE spins on RDC), then virtual time.
    /// Returns the ISR seen, or nil on timeout.
    func waitForStatus(_ mask: UInt8, timeout: UInt64) -> UInt8? {
        for _ in 0..<16 {
            let status = inb(Reg.interruptStatus)
            if status & mask != 0 { return status }
        }
        var status: UInt8 = 0
        let done = bus.wait(timeout: timeout) {
            status = inb(Reg.interruptStatus)
            return status & mask != 0
        }
        return done ? status : nil
    }
}
