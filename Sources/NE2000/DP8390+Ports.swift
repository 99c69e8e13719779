import NICCore

/// The NE2000 board's 32 I/O ports: the NIC registers, the data port and
/// the reset port (NE2000 board layout; RTL8029AS datasheet, "I/O address
/// map": 00h-0Fh registers, 10h-17h remote DMA port, 18h-1Fh reset port).
extension DP8390 {
    /// Ports the board decodes.
    public static let portCount: UInt64 = 0x20
    /// The remote-DMA data port (and its aliases up to 0x17).
    public static let dataPort: UInt64 = 0x10
    /// The reset port (and its aliases from 0x18).
    public static let resetPort: UInt64 = 0x1F

    /// A host read of `width` bytes at port `offset` within the board.
    public func portRead(offset: UInt64, width: AccessWidth) -> UInt64 {
        switch offset {
        case 0x10..<0x18:
            return readDataPort(width: width)
        case 0x00..<0x10:
            // The registers are byte-wide: a wider access reads consecutive ones.
            var v: UInt64 = 0
            for i in 0..<UInt64(width.rawValue) {
                let o = offset + i
                let b: UInt8 = o < 0x10 ? readRegister(Int(o)) : 0xFF
                v |= UInt64(b) << (8 * i)
            }
            return v
        case 0x18..<0x20:
            // Reading the reset port pulses the NIC's RESET pin.
            resetPin()
            return 0
        default:
            return width.mask
        }
    }

    /// A host write of `width` bytes at port `offset` within the board.
    public func portWrite(offset: UInt64, width: AccessWidth, value: UInt64) {
        switch offset {
        case 0x10..<0x18:
            writeDataPort(width: width, value: value)
        case 0x00..<0x10:
            for i in 0..<UInt64(width.rawValue) where offset + i < 0x10 {
                writeRegister(Int(offset + i), UInt8(truncatingIfNeeded: value >> (8 * i)))
            }
        default:
            // Writing the reset port ends the reset pulse: nothing more to do.
            break
        }
    }

    // MARK: Register reads

    /// Reads register `offset` (0...15) of the page CR selects.
    public func readRegister(_ offset: Int) -> UInt8 {
        if offset == 0 { return command }
        switch page {
        case 0: return readPage0(offset)
        case 1: return readPage1(offset)
        case 2: return readPage2(offset)
        default: return readPage3(offset)
        }
    }

    private func readPage0(_ offset: Int) -> UInt8 {
        switch offset {
        case Page0Read.currentLocalDMA0: return UInt8(truncatingIfNeeded: currentLocalAddress)
        case Page0Read.currentLocalDMA1: return UInt8(truncatingIfNeeded: currentLocalAddress >> 8)
        case Page0Read.boundary: return boundary
        case Page0Read.transmitStatus: return transmitStatus
        case Page0Read.collisions: return collisionCount
        case Page0Read.fifo: return fifoByte
        case Page0Read.interruptStatus: return interruptStatus
        case Page0Read.currentRemoteDMA0: return UInt8(truncatingIfNeeded: currentRemoteAddress)
        case Page0Read.currentRemoteDMA1: return UInt8(truncatingIfNeeded: currentRemoteAddress >> 8)
        case Page0Read.realtekID0: return chip == .rtl8029 ? 0x50 : 0xFF
        case Page0Read.realtekID1: return chip == .rtl8029 ? 0x43 : 0xFF
        case Page0Read.receiveStatus: return receiveStatus
        case Page0Read.tally0:
            defer { tally.0 = 0 }
            return tally.0
        case Page0Read.tally1:
            defer { tally.1 = 0 }
            return tally.1
        default:
            defer { tally.2 = 0 }
            return tally.2
        }
    }

    private func readPage1(_ offset: Int) -> UInt8 {
        switch offset {
        case 1...6: return UInt8(truncatingIfNeeded: physicalAddress >> UInt64(8 * (6 - offset)))
        case Page1.currentPage: return currentPage
        default: return UInt8(truncatingIfNeeded: multicastFilter >> UInt64(8 * (offset - 8)))
        }
    }

    private func readPage2(_ offset: Int) -> UInt8 {
        switch offset {
        case Page2.pageStart: return pageStart
        case Page2.pageStop: return pageStop
        case Page2.remoteNextPacket: return remoteNextPacket
        case Page2.transmitPageStart: return transmitPageStart
        case Page2.localNextPacket: return currentPage
        case Page2.addressCounterUpper: return UInt8(truncatingIfNeeded: addressCounter >> 8)
        case Page2.addressCounterLower: return UInt8(truncatingIfNeeded: addressCounter)
        // RTL8029AS datasheet: the unused high bits of RCR (7-6), TCR (7-5)
        // and DCR (7) always read 1 (docs/deviations.md NE2K-PAGE2-FIXED-BITS).
        case Page2.receiveConfiguration:
            return chip == .rtl8029 ? receiveConfig | 0xC0 : receiveConfig
        case Page2.transmitConfiguration:
            return chip == .rtl8029 ? transmitConfig | 0xE0 : transmitConfig
        case Page2.dataConfiguration:
            return chip == .rtl8029 ? dataConfig | 0x80 : dataConfig
        case Page2.interruptMask: return interruptMask
        default: return 0xFF  // 08h-0Bh, reserved (docs/deviations.md NE2K-PAGE2-RESERVED)
        }
    }

    private func readPage3(_ offset: Int) -> UInt8 {
        guard chip == .rtl8029 else { return 0xFF }  // PS = 11 is reserved on the DP8390
        switch offset {
        case Page3.eepromCommand: return eepromCommand
        case Page3.config0: return 0x00  // 10BaseT, no jumpers
        case Page3.config2: return config2
        case Page3.config3: return config3
        case Page3.chipID0: return 0x29
        case Page3.chipID1: return 0x80
        default: return 0x00
        }
    }

    // MARK: Register writes

    /// Writes register `offset` (0...15) of the page CR selects.
    public func writeRegister(_ offset: Int, _ value: UInt8) {
        if offset == 0 {
            writeCommand(value)
            return
        }
        switch page {
        case 0: writePage0(offset, value)
        case 1: writePage1(offset, value)
        case 2: writePage2(offset, value)
        default: writePage3(offset, value)
        }
    }

    private func writePage0(_ offset: Int, _ value: UInt8) {
        switch offset {
        case Page0Write.pageStart: pageStart = value
        case Page0Write.pageStop: pageStop = value
        case Page0Write.boundary:
            boundary = value
            // Freeing ring space ends an overflow's reset state; a stopped
            // NIC stays in it.
            if isStarted { interruptStatus &= ~Interrupt.reset }
        case Page0Write.transmitPageStart: transmitPageStart = value
        case Page0Write.transmitByteCount0: transmitByteCount = transmitByteCount & 0xFF00 | UInt16(value)
        case Page0Write.transmitByteCount1: transmitByteCount = transmitByteCount & 0x00FF | UInt16(value) << 8
        case Page0Write.interruptStatus:
            // Writing 1 clears a cause; RST is not affected (DP8390D "ISR").
            interruptStatus &= ~(value & 0x7F)
            updateInterrupt()
        case Page0Write.remoteStartAddress0: remoteStartAddress = remoteStartAddress & 0xFF00 | UInt16(value)
        case Page0Write.remoteStartAddress1: remoteStartAddress = remoteStartAddress & 0x00FF | UInt16(value) << 8
        case Page0Write.remoteByteCount0: remoteByteCount = remoteByteCount & 0xFF00 | UInt16(value)
        case Page0Write.remoteByteCount1: remoteByteCount = remoteByteCount & 0x00FF | UInt16(value) << 8
        case Page0Write.receiveConfiguration: receiveConfig = value & 0x3F
        case Page0Write.transmitConfiguration: transmitConfig = value & 0x1F
        case Page0Write.dataConfiguration: dataConfig = value & 0x7F
        default:
            interruptMask = value & 0x7F
            updateInterrupt()
        }
    }

    private func writePage1(_ offset: Int, _ value: UInt8) {
        switch offset {
        case 1...6:
            let shift = UInt64(8 * (6 - offset))
            physicalAddress = physicalAddress & ~(0xFF << shift) | UInt64(value) << shift
        case Page1.currentPage:
            currentPage = value
        default:
            let shift = UInt64(8 * (offset - 8))
            multicastFilter = multicastFilter & ~(0xFF << shift) | UInt64(value) << shift
        }
    }

    /// Page 2 is for diagnostics; its writable registers are the DMA
    /// pointers (DP8390D "Page 2 Address Assignments").
    private func writePage2(_ offset: Int, _ value: UInt8) {
        switch offset {
        case Page2.pageStart: currentLocalAddress = currentLocalAddress & 0xFF00 | UInt16(value)
        case Page2.pageStop: currentLocalAddress = currentLocalAddress & 0x00FF | UInt16(value) << 8
        case Page2.remoteNextPacket: remoteNextPacket = value
        case Page2.localNextPacket: currentPage = value
        case Page2.addressCounterUpper: addressCounter = addressCounter & 0x00FF | UInt16(value) << 8
        case Page2.addressCounterLower: addressCounter = addressCounter & 0xFF00 | UInt16(value)
        default: break
        }
    }

    /// RTL8029AS page 3: CONFIG2 and CONFIG3 take writes only while
    /// 9346CR's EEM1-EEM0 are 11 ("config register write enable").
    private func writePage3(_ offset: Int, _ value: UInt8) {
        guard chip == .rtl8029 else { return }
        let writable = eepromCommand & 0xC0 == 0xC0
        switch offset {
        case Page3.eepromCommand: eepromCommand = value & 0xCE  // EEDO (bit 0) is an input
        case Page3.config2 where writable: config2 = value
        case Page3.config3 where writable: config3 = value
        default: break
        }
    }

    // MARK: The command register

    /// A CR write: page select, start/stop, remote DMA command and TXP, in
    /// that order (DP8390D "Command Register").
    private func writeCommand(_ value: UInt8) {
        let transmitRequested = value & Command.transmitPacket != 0
        // TXP reads back 1 only while a transmission runs; ours complete
        // within the write.
        command = value & ~Command.transmitPacket
        if value & Command.stop != 0 {
            // Stop: the NIC enters its reset state.
            raise(Interrupt.reset)
        } else if value & Command.start != 0 {
            interruptStatus &= ~Interrupt.reset
            updateInterrupt()
        }
        startRemoteDMA(value & Command.remoteDMAMask)
        if transmitRequested && isStarted {
            transmit()
        }
    }
}
