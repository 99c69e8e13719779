import NICCore

/// The DP8390's whole state (its VMState): every register, the remote DMA
/// in flight, the PROM and the 32 KiB of packet memory. The chip keeps no
/// timers and holds no frame between calls.
extension DP8390 {
    /// State version of the fields below; bump it when they change.
    static let snapshotVersion: UInt16 = 1

    struct SnapshotState {
        var registers: [UInt8]
        var words: [UInt16]
        var physicalAddress: UInt64
        var multicastFilter: UInt64
        var flags: [Bool]
        var oversizedFrames: UInt64
        var prom: [UInt8]
        var ram: [UInt8]
    }

    /// The byte-wide registers, in a fixed order.
    private var byteRegisters: [UInt8] {
        [command, pageStart, pageStop, boundary, transmitPageStart, interruptStatus, interruptMask,
         receiveConfig, transmitConfig, dataConfig, transmitStatus, receiveStatus, collisionCount,
         currentPage, remoteNextPacket, tally.0, tally.1, tally.2, fifoByte, eepromCommand, config2, config3]
    }

    private var wordRegisters: [UInt16] {
        [transmitByteCount, remoteStartAddress, remoteByteCount, currentRemoteAddress, currentLocalAddress, addressCounter]
    }

    func save(into w: inout SnapshotWriter) {
        w.put("dp8390.registers", bytes: byteRegisters)
        w.put("dp8390.words", bytes: wordRegisters.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] })
        w.put("dp8390.par", physicalAddress)
        w.put("dp8390.mar", multicastFilter)
        w.put("dp8390.sendPacketActive", sendPacketActive)
        w.put("dp8390.refusedFrameWaiting", refusedFrameWaiting)
        w.put("dp8390.oversizedFrames", UInt64(oversizedFrames))
        w.put("dp8390.prom", from: prom, count: DP8390.promSize)
        w.put("dp8390.ram", from: ram, count: DP8390.memorySize)
    }

    func read(from r: inout SnapshotReader) throws(SnapshotError) -> SnapshotState {
        let registers = try r.bytes("dp8390.registers", count: byteRegisters.count)
        let wordBytes = try r.bytes("dp8390.words", count: 2 * wordRegisters.count)
        let words = stride(from: 0, to: wordBytes.count, by: 2).map { UInt16(wordBytes[$0]) | UInt16(wordBytes[$0 + 1]) << 8 }
        let par: UInt64 = try r.integer("dp8390.par")
        guard par >> 48 == 0 else { throw SnapshotError("DP8390 PAR out of range") }
        return SnapshotState(
            registers: registers, words: words, physicalAddress: par,
            multicastFilter: try r.integer("dp8390.mar"),
            flags: [try r.bool("dp8390.sendPacketActive"), try r.bool("dp8390.refusedFrameWaiting")],
            oversizedFrames: try r.integer("dp8390.oversizedFrames"),
            prom: try r.bytes("dp8390.prom", count: DP8390.promSize),
            ram: try r.bytes("dp8390.ram", count: DP8390.memorySize))
    }

    func apply(_ s: SnapshotState) {
        let b = s.registers
        command = b[0]; pageStart = b[1]; pageStop = b[2]; boundary = b[3]; transmitPageStart = b[4]
        interruptStatus = b[5]; interruptMask = b[6]; receiveConfig = b[7]; transmitConfig = b[8]
        dataConfig = b[9]; transmitStatus = b[10]; receiveStatus = b[11]; collisionCount = b[12]
        currentPage = b[13]; remoteNextPacket = b[14]; tally = (b[15], b[16], b[17]); fifoByte = b[18]
        eepromCommand = b[19]; config2 = b[20]; config3 = b[21]
        let w = s.words
        transmitByteCount = w[0]; remoteStartAddress = w[1]; remoteByteCount = w[2]
        currentRemoteAddress = w[3]; currentLocalAddress = w[4]; addressCounter = w[5]
        physicalAddress = s.physicalAddress
        multicastFilter = s.multicastFilter
        sendPacketActive = s.flags[0]
        refusedFrameWaiting = s.flags[1]
        oversizedFrames = Int(truncatingIfNeeded: s.oversizedFrames)
        s.prom.withUnsafeBufferPointer { prom.update(from: $0.baseAddress!, count: DP8390.promSize) }
        s.ram.withUnsafeBufferPointer { ram.update(from: $0.baseAddress!, count: DP8390.memorySize) }
        updateInterrupt()
    }
}
