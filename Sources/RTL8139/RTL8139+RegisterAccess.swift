import NICCore

/// Register reads and writes. An access of any width is split at register
/// boundaries; each register it touches is read or written once, with a
/// byte mask saying which of its bytes the access covers. So a dword write
/// to TSD starts one transmission, a word write to ISR clears both bytes at
/// once, and a byte write to CAPR merges with the other byte, as on the chip.
extension RTL8139 {
    /// Start offset and width of the register holding each byte of the window.
    static let layout: [(start: Int, size: Int)] = {
        var table = [(start: Int, size: Int)](repeating: (0, 1), count: 256)
        func span(_ start: Int, _ size: Int) {
            for o in start..<(start + size) { table[o] = (start, size) }
        }
        for o in 0..<256 { table[o] = (o, 1) }
        span(0x00, 4); span(0x04, 4); span(0x08, 8)
        for i in 0..<4 { span(0x10 + 4 * i, 4); span(0x20 + 4 * i, 4) }
        span(0x30, 4); span(0x34, 2); span(0x38, 2); span(0x3A, 2); span(0x3C, 2); span(0x3E, 2)
        span(0x40, 4); span(0x44, 4); span(0x48, 4); span(0x4C, 4); span(0x54, 4)
        span(0x5C, 2); span(0x60, 2)
        for o in stride(from: 0x62, to: 0x78, by: 2) { span(o, 2) }
        span(0x78, 4); span(0x7C, 4)
        span(0xDA, 2); span(0xE0, 2); span(0xE2, 2); span(0xE4, 4); span(0xE8, 4)
        return table
    }()

    // MARK: Access entry points

    func registerRead(offset: Int, width: Int) -> UInt64 {
        guard offset >= 0, width > 0, offset + width <= 256 else { return 0 }
        var result: UInt64 = 0
        var o = offset
        let end = offset + width
        while o < end {
            let (start, size) = RTL8139.layout[o]
            let value = readRegister(start, size: size)
            let stop = min(start + size, end)
            for b in o..<stop {
                let byte = (value >> UInt64(8 * (b - start))) & 0xFF
                result |= byte << UInt64(8 * (b - offset))
            }
            o = stop
        }
        return result
    }

    func registerWrite(offset: Int, width: Int, value: UInt64) {
        guard offset >= 0, width > 0, offset + width <= 256 else { return }
        var o = offset
        let end = offset + width
        while o < end {
            let (start, size) = RTL8139.layout[o]
            let stop = min(start + size, end)
            var v: UInt64 = 0
            var mask: UInt64 = 0
            for b in o..<stop {
                let byte = (value >> UInt64(8 * (b - offset))) & 0xFF
                v |= byte << UInt64(8 * (b - start))
                mask |= 0xFF << UInt64(8 * (b - start))
            }
            writeRegister(start, size: size, value: v, mask: mask)
            o = stop
        }
    }

    // MARK: Reads

    /// The full current value of the register at `start`.
    func readRegister(_ start: Int, size: Int) -> UInt64 {
        typealias R = RTL8139Register
        switch start {
        case R.idr0: return UInt64(idr.0) | UInt64(idr.1) << 8 | UInt64(idr.2) << 16 | UInt64(idr.3) << 24
        case R.idr0 + 4: return UInt64(idr.4) | UInt64(idr.5) << 8
        case R.mar0: return mar
        case 0x10, 0x14, 0x18, 0x1C: return UInt64(transmitStatus((start - 0x10) / 4))
        case 0x20, 0x24, 0x28, 0x2C: return UInt64(transmitAddress((start - 0x20) / 4))
        case R.rbstart: return UInt64(rbstart)
        case R.cr: return UInt64(command | (receiveRingEmpty ? CommandBits.bufe : 0))
        case R.capr: return UInt64((readPointer &- 16) & 0xFFFF)
        case R.cbr: return UInt64(writePointer & 0xFFFF)
        case R.imr: return UInt64(imr)
        case R.isr: return UInt64(isr)
        case R.tcr: return UInt64(tcr)
        case R.rcr: return UInt64(rcr)
        case R.tctr: return UInt64(timerCount)
        case R.mpc: return UInt64(missedPackets)
        case R.cr9346: return UInt64(readEEPROMCommand())
        case R.config0: return UInt64(config0)
        case R.config1: return UInt64(config1)
        case R.timerInt: return UInt64(timer.interval)
        case R.msr: return UInt64(mediaStatus)
        case R.config3: return UInt64(config3)
        case R.config4: return UInt64(config4)
        case R.mulint: return UInt64(mulint)
        case R.rerid: return UInt64(config.identity.revisionID)
        case R.tsadSummary: return UInt64(transmitSummary)
        case R.bmcr: return UInt64(bmcr)
        case R.bmsr: return UInt64(bmsr)
        case R.anar: return UInt64(anar)
        case R.anlpar: return UInt64(anlpar)
        case R.aner: return UInt64(aner)
        case R.cscr: return UInt64(chipStatus)
        case R.config5: return UInt64(config5)
        case R.cpcr: return UInt64(cpcr)
        case R.rdsar: return rdsar & 0xFFFF_FFFF
        case R.rdsar + 4: return rdsar >> 32
        case R.etth: return UInt64(etth)
        case R.erbcr, R.ersr, R.hltclk, R.tppoll, R.rms, R.intrMitigate, R.dis, R.fcsc, R.rec:
            return 0
        default:
            var v: UInt64 = 0
            for i in 0..<size { v |= UInt64(scratch[start + i]) << UInt64(8 * i) }
            return v
        }
    }

    // MARK: Writes

    @inline(__always)
    func merge<T: FixedWidthInteger>(_ old: T, _ value: UInt64, _ mask: UInt64) -> T {
        T(truncatingIfNeeded: (UInt64(old) & ~mask) | (value & mask))
    }

    /// Writes the bytes of `value` selected by `mask` to the register at `start`.
    func writeRegister(_ start: Int, size: Int, value: UInt64, mask: UInt64) {
        typealias R = RTL8139Register
        switch start {
        case R.idr0, R.idr0 + 4:
            // The datasheet allows IDR writes only as whole dwords.
            guard mask == 0xFFFF_FFFF else { return }
            if start == R.idr0 {
                idr.0 = UInt8(truncatingIfNeeded: value); idr.1 = UInt8(truncatingIfNeeded: value >> 8)
                idr.2 = UInt8(truncatingIfNeeded: value >> 16); idr.3 = UInt8(truncatingIfNeeded: value >> 24)
            } else {
                idr.4 = UInt8(truncatingIfNeeded: value); idr.5 = UInt8(truncatingIfNeeded: value >> 8)
            }
        case R.mar0: mar = merge(mar, value, mask)
        case 0x10, 0x14, 0x18, 0x1C:
            let i = (start - 0x10) / 4
            writeTransmitStatus(i, merge(transmitStatus(i), value, mask))
        case 0x20, 0x24, 0x28, 0x2C:
            let i = (start - 0x20) / 4
            setTransmitAddress(i, merge(transmitAddress(i), value, mask))
        case R.rbstart: rbstart = merge(rbstart, value, mask)
        case R.cr: writeCommand(UInt8(truncatingIfNeeded: value))
        case R.capr:
            let capr: UInt32 = merge((readPointer &- 16) & 0xFFFF, value, mask)
            readPointer = (capr &+ 16) & 0xFFFF
        case R.imr:
            imr = merge(imr, value, mask) & InterruptBits.implemented
            updateInterrupt()
        case R.isr:
            isr &= ~UInt16(truncatingIfNeeded: value & mask)
            updateInterrupt()
        case R.tcr:
            // Ignored while the transmitter is off, as in QEMU's model;
            // drivers set CR.TE before the transmit thresholds
            // (docs/deviations.md RTL8139-TCR-TE).
            guard command & CommandBits.te != 0 else { return }
            let w = TransmitConfigBits.writable
            tcr = (tcr & ~w) | (merge(tcr, value, mask) & w)
        case R.rcr:
            let w = ReceiveConfigBits.writable
            rcr = (rcr & ~w) | (merge(rcr, value, mask) & w)
        case R.tctr: restartTimerCount()
        case R.mpc: missedPackets = 0
        case R.cr9346: writeEEPROMCommand(UInt8(truncatingIfNeeded: value))
        case R.config0: if configWritable { config0 = (config0 & 0xF8) | (UInt8(truncatingIfNeeded: value) & 0x07) }
        case R.config1: if configWritable { config1 = (config1 & 0x0C) | (UInt8(truncatingIfNeeded: value) & 0xF3) }
        case R.config3: if configWritable { config3 = (config3 & 0x8F) | (UInt8(truncatingIfNeeded: value) & 0x70) }
        case R.config4: if configWritable { config4 = (config4 & 0x0A) | (UInt8(truncatingIfNeeded: value) & 0xF5) }
        case R.config5: if configWritable { config5 = (config5 & 0x80) | (UInt8(truncatingIfNeeded: value) & 0x7F) }
        case R.timerInt: setTimerInterval(merge(timer.interval, value, mask))
        case R.hltclk:
            switch UInt8(truncatingIfNeeded: value) {
            case UInt8(ascii: "R"): clockRunning = true
            case UInt8(ascii: "H"): clockRunning = false
            default: break
            }
        case R.mulint: mulint = merge(mulint, value, mask) & 0x0FFF
        case R.bmcr: writeBasicModeControl(merge(bmcr, value, mask))
        case R.anar: anar = (anar & 0x001F) | (merge(anar, value, mask) & 0xFFE0)
        case R.cscr: cscr = (cscr & 0x0C00) | (merge(cscr, value, mask) & ~0x0C00)
        case R.tppoll: writeTransmitPoll(UInt8(truncatingIfNeeded: value))
        case R.cpcr: writeCPlusCommand(merge(cpcr, value, mask))
        case R.rdsar: rdsar = (rdsar & 0xFFFF_FFFF_0000_0000) | UInt64(merge(UInt32(truncatingIfNeeded: rdsar), value, mask))
        case R.rdsar + 4: rdsar = (rdsar & 0xFFFF_FFFF) | UInt64(merge(UInt32(truncatingIfNeeded: rdsar >> 32), value, mask)) << 32
        case R.etth: etth = UInt8(truncatingIfNeeded: value) & 0x3F
        case R.msr: txFlowControl = UInt8(truncatingIfNeeded: value) & MediaStatusBits.txfce != 0
        case R.cbr, R.rerid, R.tsadSummary, R.bmsr, R.anlpar, R.aner, R.erbcr, R.ersr,
             R.rms, R.intrMitigate, R.dis, R.fcsc, R.rec:
            return      // read-only or not present
        default:
            for i in 0..<size where mask & (0xFF << UInt64(8 * i)) != 0 {
                scratch[start + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i))
            }
        }
    }

    /// CONFIG0-5 accept writes only while 9346CR is in config-write mode.
    var configWritable: Bool { cr9346 & EEPROMCommandBits.modeMask == EEPROMCommandBits.modeConfigWrite }

    /// CR: RST resets and clears itself at once; RE and TE are the only
    /// other writable bits (BUFE is read-only). Enabling a side restarts
    /// its C+ ring at descriptor 0.
    func writeCommand(_ value: UInt8) {
        if value & CommandBits.rst != 0 {
            softwareReset()
            return
        }
        let old = command
        command = value & (CommandBits.re | CommandBits.te)
        if old & CommandBits.te == 0, command & CommandBits.te != 0 {
            cPlusTxIndex = 0
            cPlusHighTxIndex = 0
            serviceClassicTransmit()
        }
        if old & CommandBits.re == 0, command & CommandBits.re != 0 {
            cPlusRxIndex = 0
        }
    }
}
