import NICCore

/// The RTL8139C+'s whole state (its VMState): configuration space, every
/// register, the PHY, the EEPROM mid-command, the classic and C+ ring
/// positions, the tally counters, the timer (relative to the clock), a C+
/// frame being gathered across descriptors. Nothing else survives between
/// calls: staging buffers are refilled per frame.
extension RTL8139: Snapshottable {
    /// State version of the fields below; bump it when they change.
    static let snapshotVersion: UInt16 = 1

    private struct State {
        var pci: PCIConfigSpace.SnapshotState
        var eeprom: EEPROM93C46.SnapshotState
        var mac: MACAddress
        var idr: [UInt8]
        var bytes: [UInt8]
        var halves: [UInt16]
        var words: [UInt32]
        var quads: [UInt64]
        var flags: [Bool]
        var scratch: [UInt8]
        var tally: TallyCounters
        var timerElapsed: UInt64
        var timerInterval: UInt32
        var assembly: [UInt8]
    }

    // Fixed orders: appending a register means a new state version.
    private var byteRegisters: [UInt8] {
        [command, cr9346, config0, config1, config3, config4, config5, etth, pendingPoll,
         UInt8(nextTransmitSlot & 3), UInt8(truncatingIfNeeded: cPlusTxIndex), UInt8(truncatingIfNeeded: cPlusHighTxIndex),
         UInt8(truncatingIfNeeded: cPlusRxIndex)]
    }
    private var halfRegisters: [UInt16] { [imr, isr, mulint, bmcr, bmsr, anar, anlpar, aner, cscr, cpcr] }
    private var wordRegisters: [UInt32] { tsd + tsad + [rbstart, readPointer, writePointer, tcr, rcr, missedPackets] }
    private var flagRegisters: [Bool] { [clockRunning, linkUp, txAssemblyOverflow, txGatherFailed] }

    private static func le(_ values: [UInt16]) -> [UInt8] { values.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] } }
    private static func le(_ values: [UInt32]) -> [UInt8] { values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } } }
    private static func le(_ values: [UInt64]) -> [UInt8] { values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } } }
    private static func decode<T: FixedWidthInteger>(_ bytes: [UInt8], as: T.Type) -> [T] {
        let n = MemoryLayout<T>.size
        return stride(from: 0, to: bytes.count, by: n).map { at in
            (0..<n).reversed().reduce(T(0)) { $0 << 8 | T(truncatingIfNeeded: bytes[at + $1]) }
        }
    }

    private var tallyWords: [UInt64] {
        let t = tally
        return [t.txOK, t.rxOK, t.txErrors, UInt64(t.rxErrors), UInt64(t.missed), UInt64(t.frameAlignmentErrors),
                UInt64(t.txOneCollision), UInt64(t.txMultipleCollisions), t.rxPhysical, t.rxBroadcast,
                UInt64(t.rxMulticast), UInt64(t.txAborted), UInt64(t.txUnderrun)]
    }

    public func saveSnapshot() -> [UInt8] {
        var w = SnapshotWriter(model: modelName, stateVersion: Self.snapshotVersion)
        config.save(into: &w)
        eeprom.save(into: &w)
        w.put("rtl8139.mac", macAddress.rawValue)
        w.put("rtl8139.idr", bytes: [idr.0, idr.1, idr.2, idr.3, idr.4, idr.5])
        w.put("rtl8139.bytes", bytes: byteRegisters)
        w.put("rtl8139.halves", bytes: Self.le(halfRegisters))
        w.put("rtl8139.words", bytes: Self.le(wordRegisters))
        w.put("rtl8139.quads", bytes: Self.le([mar, rdsar]))
        w.put("rtl8139.flags", bytes: flagRegisters.map { $0 ? 1 : 0 })
        w.put("rtl8139.scratch", bytes: scratch)
        w.put("rtl8139.tally", bytes: Self.le(tallyWords))
        let t = timerSnapshot
        w.put("rtl8139.timer.elapsed", t.elapsed)
        w.put("rtl8139.timer.interval", t.interval)
        w.put("rtl8139.cplus.assembly", bytes: Array(txAssembly.bytes))
        return w.finish()
    }

    public func loadSnapshot(_ bytes: UnsafeRawBufferPointer) throws(SnapshotError) {
        var r = try SnapshotReader(bytes, model: modelName, stateVersion: Self.snapshotVersion)
        let pci = try config.read(from: &r)
        let rom = try eeprom.read(from: &r)
        let mac: UInt64 = try r.integer("rtl8139.mac")
        guard mac >> 48 == 0 else { throw SnapshotError("RTL8139 MAC out of range") }
        let byteValues = try r.bytes("rtl8139.bytes", count: byteRegisters.count)
        guard byteValues[9] < 4, Int(byteValues[10]) < Self.maxDescriptors, Int(byteValues[11]) < Self.maxDescriptors,
              Int(byteValues[12]) < Self.maxDescriptors else {
            throw SnapshotError("RTL8139 ring index out of range")
        }
        let wordValues = Self.decode(try r.bytes("rtl8139.words", count: 4 * wordRegisters.count), as: UInt32.self)
        // CAPR+16 is kept to 16 bits; CBR stays inside the largest ring (64 KiB + 16).
        guard wordValues[9] <= 0xFFFF, wordValues[10] <= 0x1_0010 else { throw SnapshotError("RTL8139 ring pointers out of range") }
        let flags = try r.bytes("rtl8139.flags", count: flagRegisters.count)
        guard flags.allSatisfy({ $0 <= 1 }) else { throw SnapshotError("RTL8139 flags not booleans") }
        let tallyValues = Self.decode(try r.bytes("rtl8139.tally", count: 8 * tallyWords.count), as: UInt64.self)
        var t = TallyCounters()
        t.txOK = tallyValues[0]; t.rxOK = tallyValues[1]; t.txErrors = tallyValues[2]
        t.rxErrors = UInt32(truncatingIfNeeded: tallyValues[3]); t.missed = UInt16(truncatingIfNeeded: tallyValues[4])
        t.frameAlignmentErrors = UInt16(truncatingIfNeeded: tallyValues[5])
        t.txOneCollision = UInt32(truncatingIfNeeded: tallyValues[6]); t.txMultipleCollisions = UInt32(truncatingIfNeeded: tallyValues[7])
        t.rxPhysical = tallyValues[8]; t.rxBroadcast = tallyValues[9]; t.rxMulticast = UInt32(truncatingIfNeeded: tallyValues[10])
        t.txAborted = UInt16(truncatingIfNeeded: tallyValues[11]); t.txUnderrun = UInt16(truncatingIfNeeded: tallyValues[12])
        let state = State(
            pci: pci, eeprom: rom, mac: MACAddress(rawValue: mac),
            idr: try r.bytes("rtl8139.idr", count: 6), bytes: byteValues,
            halves: Self.decode(try r.bytes("rtl8139.halves", count: 2 * halfRegisters.count), as: UInt16.self),
            words: wordValues,
            quads: Self.decode(try r.bytes("rtl8139.quads", count: 16), as: UInt64.self),
            flags: flags.map { $0 == 1 }, scratch: try r.bytes("rtl8139.scratch", count: scratch.count), tally: t,
            timerElapsed: try r.integer("rtl8139.timer.elapsed"), timerInterval: try r.integer("rtl8139.timer.interval"),
            assembly: try r.variableBytes("rtl8139.cplus.assembly", maxCount: txAssembly.capacity))
        try r.finish()
        apply(state)
    }

    private func apply(_ s: State) {
        config.apply(s.pci)
        eeprom.apply(s.eeprom)
        macAddress = s.mac
        idr = (s.idr[0], s.idr[1], s.idr[2], s.idr[3], s.idr[4], s.idr[5])
        let b = s.bytes
        command = b[0]; cr9346 = b[1]; config0 = b[2]; config1 = b[3]; config3 = b[4]; config4 = b[5]; config5 = b[6]
        etth = b[7]; pendingPoll = b[8]; nextTransmitSlot = Int(b[9]); cPlusTxIndex = Int(b[10])
        cPlusHighTxIndex = Int(b[11]); cPlusRxIndex = Int(b[12])
        let h = s.halves
        imr = h[0]; isr = h[1]; mulint = h[2]; bmcr = h[3]; bmsr = h[4]; anar = h[5]; anlpar = h[6]; aner = h[7]; cscr = h[8]; cpcr = h[9]
        let w = s.words
        tsd = Array(w[0..<4]); tsad = Array(w[4..<8])
        rbstart = w[8]; readPointer = w[9]; writePointer = w[10]; tcr = w[11]; rcr = w[12]; missedPackets = w[13]
        mar = s.quads[0]; rdsar = s.quads[1]
        clockRunning = s.flags[0]; linkUp = s.flags[1]; txAssemblyOverflow = s.flags[2]; txGatherFailed = s.flags[3]
        for i in scratch.indices { scratch[i] = s.scratch[i] }
        tally = s.tally
        _ = s.assembly.withUnsafeBytes { txAssembly.assign($0) }
        inLoopback = false
        servicingTransmit = false
        restoreTimer(elapsed: s.timerElapsed, interval: s.timerInterval)
        updateInterrupt()
    }
}
