/// Reading the 93C46 (or 93C56) EEPROM by driving its pins through 9346CR
/// in programming mode: CS high, a start bit, the READ opcode (10) and the
/// address shifted out MSB first on rising SK edges, then 16 data bits
/// read from EEDO after each rising edge.
extension RTL8139Driver {
    /// Address bits of the fitted EEPROM: 6 for a 93C46, 8 for a 93C56 (RCR.9356SEL).
    var eepromAddressBits: Int { r32(RTL8139Reg.rcr) & RTL8139Reg.rcr9356 != 0 ? 8 : 6 }

    func readEEPROM(word: Int) -> UInt16 {
        let bits = eepromAddressBits
        let selected = RTL8139Reg.eeProgram | RTL8139Reg.eeCS
        w8(RTL8139Reg.cr9346, RTL8139Reg.eeProgram)
        w8(RTL8139Reg.cr9346, selected)
        let command = UInt32(0b110) << UInt32(bits) | UInt32(word & ((1 << bits) - 1))
        for i in stride(from: bits + 2, through: 0, by: -1) {
            let d: UInt8 = command & (1 << UInt32(i)) != 0 ? RTL8139Reg.eeDI : 0
            w8(RTL8139Reg.cr9346, selected | d)
            w8(RTL8139Reg.cr9346, selected | d | RTL8139Reg.eeSK)
        }
        w8(RTL8139Reg.cr9346, selected)
        var value: UInt16 = 0
        for _ in 0..<16 {
            w8(RTL8139Reg.cr9346, selected | RTL8139Reg.eeSK)
            value = value << 1 | UInt16(r8(RTL8139Reg.cr9346) & RTL8139Reg.eeDO)
            w8(RTL8139Reg.cr9346, selected)
        }
        w8(RTL8139Reg.cr9346, 0)
        return value
    }
}
