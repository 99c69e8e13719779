import NICCore

/// The remote DMA channel: how the host moves bytes between its own memory
/// and the card's packet memory, through the data port (DP8390D section
/// 9.0 "Remote DMA"). RSAR and RBCR set the start and count; the CR
/// command starts a remote read, a remote write, or Send Packet; each data
/// port access moves one transfer unit and counts it off. When the count
/// reaches 0, ISR.RDC is set (iPXE spins on it after every write).
extension DP8390 {
    /// Acts on CR's RD2-RD0 field.
    func startRemoteDMA(_ command: UInt8) {
        switch command {
        case Command.remoteRead, Command.remoteWrite:
            sendPacketActive = false
            currentRemoteAddress = remoteStartAddress
            // A transfer of nothing is complete as soon as it starts.
            if remoteByteCount == 0 { finishRemoteDMA() }
        case Command.sendPacket:
            // Send Packet: the DMA starts at the page BNRY names and its
            // count comes from that packet's header; when the count runs
            // out BNRY moves to the header's next-packet pointer.
            let start = UInt16(boundary) << 8
            currentRemoteAddress = start
            remoteNextPacket = localRead(start &+ 1)
            remoteByteCount = UInt16(localRead(start &+ 2)) | UInt16(localRead(start &+ 3)) << 8
            sendPacketActive = true
            if remoteByteCount == 0 { finishRemoteDMA() }
        case 0:
            break  // RD = 000 is not a command
        default:
            // Abort/complete remote DMA.
            sendPacketActive = false
        }
    }

    /// Bytes one data-port access moves: four for a 32-bit access (RTL8029
    /// and NE2000 clones decode dword I/O), otherwise two in word mode
    /// (DCR.WTS) and one in byte mode. A byte access in word mode still
    /// moves a word, of which the host sees the low byte.
    @inline(__always)
    func transferUnit(_ width: AccessWidth) -> Int {
        if width.rawValue >= 4 { return 4 }
        return dataConfig & DataConfig.wordTransfer != 0 ? 2 : 1
    }

    func readDataPort(width: AccessWidth) -> UInt64 {
        let unit = transferUnit(width)
        if let offset = fastPathOffset(unit) {
            let p = UnsafeRawPointer(ram + offset)
            let value: UInt64 = switch unit {
            case 4: UInt64(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            case 2: UInt64(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
            default: UInt64(p.load(as: UInt8.self))
            }
            finishFastPath(unit)
            return value & width.mask
        }
        var value: UInt64 = 0
        for i in 0..<unit {
            value |= UInt64(localRead(currentRemoteAddress)) << UInt64(8 * i)
            advanceRemote()
        }
        if unit > 1 && dataConfig & DataConfig.byteOrder != 0 { value = swapWordBytes(value) }
        return value & width.mask
    }

    func writeDataPort(width: AccessWidth, value: UInt64) {
        let unit = transferUnit(width)
        if let offset = fastPathOffset(unit) {
            let p = UnsafeMutableRawPointer(ram + offset)
            switch unit {
            case 4: p.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, as: UInt32.self)
            case 2: p.storeBytes(of: UInt16(truncatingIfNeeded: value).littleEndian, as: UInt16.self)
            default: p.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
            }
            finishFastPath(unit)
            return
        }
        var v = value
        if unit > 1 && dataConfig & DataConfig.byteOrder != 0 { v = swapWordBytes(v) }
        for i in 0..<unit {
            localWrite(currentRemoteAddress, UInt8(truncatingIfNeeded: v >> UInt64(8 * i)))
            advanceRemote()
        }
    }

    /// The common case, done in one step: the transfer lies wholly in
    /// packet memory, does not reach PSTOP, does not finish the count, and
    /// needs no byte swap. Returns the offset into packet memory, or nil
    /// when the byte-at-a-time path must decide.
    @inline(__always)
    private func fastPathOffset(_ unit: Int) -> Int? {
        guard dataConfig & DataConfig.byteOrder == 0,
              remoteByteCount == 0 || Int(remoteByteCount) > unit
        else { return nil }
        let address = Int(currentRemoteAddress)
        let stop = Int(pageStop) << 8
        guard address >= DP8390.memoryStart, address + unit <= DP8390.memoryEnd,
              !(address < stop && address + unit >= stop)
        else { return nil }
        return address - DP8390.memoryStart
    }

    @inline(__always)
    private func finishFastPath(_ unit: Int) {
        currentRemoteAddress &+= UInt16(unit)
        if remoteByteCount > 0 { remoteByteCount -= UInt16(unit) }
    }

    /// After each byte: CRDA moves on, wrapping from PSTOP to PSTART so a
    /// packet that wrapped round the ring reads out whole; RBCR counts down
    /// and its reaching 0 completes the DMA. Transfers past the count keep
    /// moving CRDA (drivers read whole words past odd counts).
    @inline(__always)
    func advanceRemote() {
        currentRemoteAddress &+= 1
        if currentRemoteAddress == UInt16(pageStop) << 8 {
            currentRemoteAddress = UInt16(pageStart) << 8
        }
        if remoteByteCount > 0 {
            remoteByteCount -= 1
            if remoteByteCount == 0 { finishRemoteDMA() }
        }
    }

    func finishRemoteDMA() {
        if sendPacketActive {
            boundary = remoteNextPacket
            sendPacketActive = false
        }
        raise(Interrupt.remoteDMAComplete)
    }

    /// DCR.BOS: the high byte of each 16-bit word comes first.
    @inline(__always)
    func swapWordBytes(_ v: UInt64) -> UInt64 {
        ((v & 0x00FF_00FF) << 8) | ((v & 0xFF00_FF00) >> 8)
    }
}
