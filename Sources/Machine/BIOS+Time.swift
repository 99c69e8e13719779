/// The timer: INT 08h (IRQ 0, 18.2 Hz) counting the BDA ticks, and INT
/// 1Ah's time-of-day functions. INT 1Ah AH=B1h is the PCI BIOS
/// (`BIOS+PCI.swift`).
extension BIOS {
    /// Ticks in a day: 1800B0h (24 h at 1193182/65536 Hz).
    static let ticksPerDay: UInt32 = 0x18_00B0

    /// The INT 08h trap: count a tick, send EOI; the stub then runs INT 1Ch
    /// through the IVT (so guest hooks of 1Ch see every tick), and IRETs.
    func timerTick() {
        let at = PCMemoryMap.bda + BDA.ticks
        var ticks = machine.read32(at) &+ 1
        if ticks >= Self.ticksPerDay {
            ticks = 0
            machine.write8(PCMemoryMap.bda + BDA.midnight, 1)
        }
        machine.write32(at, ticks)
        machine.pic.endOfInterrupt(irq: 0)
    }

    func timeService() {
        switch ah {
        case 0x00:
            // Tick count in CX:DX, AL the midnight flag (cleared by reading).
            let ticks = machine.read32(PCMemoryMap.bda + BDA.ticks)
            cx = UInt16(ticks >> 16)
            dx = UInt16(ticks & 0xFFFF)
            al = machine.read8(PCMemoryMap.bda + BDA.midnight)
            machine.write8(PCMemoryMap.bda + BDA.midnight, 0)
        case 0x01:
            machine.write32(PCMemoryMap.bda + BDA.ticks, UInt32(cx) << 16 | UInt32(dx))
            machine.write8(PCMemoryMap.bda + BDA.midnight, 0)
        case 0x02:
            // RTC time in BCD: CH hours, CL minutes, DH seconds, DL no DST.
            let seconds = machine.board.clock.now / 1_000_000_000 % 86_400
            ch = Self.bcd(UInt8(seconds / 3600))
            cl = Self.bcd(UInt8(seconds / 60 % 60))
            dh = Self.bcd(UInt8(seconds % 60))
            dl = 0
            returnCarry(false)
        case 0x04:
            // RTC date in BCD: a fixed date, so runs repeat exactly.
            cx = 0x2026
            dx = 0x0101
            returnCarry(false)
        case 0xB1:
            pciService()
        case 0x56 where al == 0x50:
            pxeInstallationCheck()
        default:
            returnCarry(true)
        }
    }

    static func bcd(_ v: UInt8) -> UInt8 { (v / 10) << 4 | v % 10 }
}
