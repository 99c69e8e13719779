import NICCore

/// The PCI-to-ISA bridge function (function 0) of an Intel 82371SB PIIX3,
/// as a QEMU `pc` machine has it at 00:01.0: 8086:7000, class 0x060100,
/// a multi-function header, and the PIRQ routing registers that steer the
/// four PCI interrupt lines onto ISA IRQs.
///
/// Only the configuration registers are modelled: the ISA-side legacy
/// devices (DMA controllers, timer, RTC) are not part of nicsim's board.
/// Registers keep their datasheet reset values so a script that reads them
/// sees what it would on the chip.
public final class PIIX3: PCIFunction {
    /// Configuration registers of PIIX3 function 0 (82371SB datasheet, 2.2).
    public enum Register {
        /// IORT, ISA I/O recovery timer (reset 4Dh).
        public static let ioRecoveryTimer = 0x4C
        /// XBCS, X-bus chip select (reset 0003h).
        public static let xBusChipSelect = 0x4E
        /// PIRQRC[A:D], PIRQx route control, one byte per PIRQ (reset 80h each).
        public static let pirqRouteControl = 0x60
        /// TOM, top of memory (reset 02h).
        public static let topOfMemory = 0x69
        /// MSTAT, miscellaneous status (reset 0000h).
        public static let miscStatus = 0x6A
        /// MBIRQ0, motherboard device IRQ route control 0 (reset 80h).
        public static let motherboardIRQ0 = 0x70
        /// MBDMA[1:0], motherboard device DMA control (reset 0Ch each).
        public static let motherboardDMA = 0x76
        /// PCSC, programmable chip select control (reset 0002h).
        public static let chipSelectControl = 0x78
        /// SMICNTL, SMI control (reset 08h).
        public static let smiControl = 0xA0
        /// FTMR, fast-off timer (reset 0Fh).
        public static let fastOffTimer = 0xA8
    }

    /// PIRQRC bit 7: 1 = the PIRQ is not routed to any ISA IRQ.
    public static let routingDisabled: UInt8 = 0x80
    /// PIRQRC bits 3:0 name the IRQ; 0-2, 8 and 13 are reserved values.
    static let routableIRQs: Set<UInt8> = [3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15]

    public let config = PCIConfigSpace(identity: PCIIdentity(
        vendorID: 0x8086, deviceID: 0x7000, revisionID: 0x00, classCode: 0x06_01_00,
        interruptPin: 0, headerType: 0x80))
    private let router: PIRQRouter

    /// The function, wired to `router`: every write to PIRQRC[A:D] re-steers
    /// that PIRQ. Creating it resets the routing to "not routed", as the
    /// chip's reset does.
    public init(router: PIRQRouter) {
        self.router = router
        // PCISTS: DEVSEL timing medium (bits 10:9 = 01).
        config.deviceWrite(offset: PCIConfigRegister.status + 1, byte: 0x02)
        let writable: [(Int, UInt8)] = [
            (Register.ioRecoveryTimer, 0xFF),
            (Register.xBusChipSelect, 0xFF), (Register.xBusChipSelect + 1, 0x03),
            (Register.topOfMemory, 0xFE),
            (Register.motherboardIRQ0, 0xEF),
            (Register.motherboardDMA, 0x8F), (Register.motherboardDMA + 1, 0x8F),
            (Register.chipSelectControl, 0xFF), (Register.chipSelectControl + 1, 0xFF),
            (Register.smiControl, 0x1F), (Register.fastOffTimer, 0xFF),
        ]
        for (offset, mask) in writable { config.setDeviceMask(offset: offset, writable: mask) }
        for p in 0..<4 {
            // Bits 6:4 are reserved and read as zero.
            config.setDeviceMask(offset: Register.pirqRouteControl + p, writable: 0x8F)
        }
        config.onWrite = { [unowned self] offset, width in self.configWritten(offset: offset, width: width) }
        reset()
    }

    public func registers(forBAR index: Int) -> RegisterBlock? { nil }

    /// Power-on values of the modelled registers.
    public func reset() {
        let values: [(Int, UInt8)] = [
            (Register.ioRecoveryTimer, 0x4D),
            (Register.xBusChipSelect, 0x03), (Register.xBusChipSelect + 1, 0x00),
            (Register.topOfMemory, 0x02),
            (Register.miscStatus, 0x00), (Register.miscStatus + 1, 0x00),
            (Register.motherboardIRQ0, 0x80),
            (Register.motherboardDMA, 0x0C), (Register.motherboardDMA + 1, 0x0C),
            (Register.chipSelectControl, 0x02), (Register.chipSelectControl + 1, 0x00),
            (Register.smiControl, 0x08), (Register.fastOffTimer, 0x0F),
        ]
        for (offset, value) in values { config.deviceWrite(offset: offset, byte: value) }
        for p in 0..<4 {
            config.deviceWrite(offset: Register.pirqRouteControl + p, byte: Self.routingDisabled)
            router.setRoute(pirq: p, value: Self.routingDisabled)
        }
    }

    /// The IRQ a PIRQRC value steers to, or `routingDisabled` when bit 7 is
    /// set or bits 3:0 name a reserved IRQ.
    static func route(for value: UInt8) -> UInt8 {
        let irq = value & 0x0F
        guard value & routingDisabled == 0, routableIRQs.contains(irq) else { return routingDisabled }
        return irq
    }

    private func configWritten(offset: Int, width: AccessWidth) {
        let end = offset + min(width.rawValue, 4)
        for p in 0..<4 {
            let register = Register.pirqRouteControl + p
            guard register >= offset, register < end else { continue }
            let value = UInt8(truncatingIfNeeded: config.read(offset: register, width: .byte))
            router.setRoute(pirq: p, value: Self.route(for: value))
        }
    }
}
