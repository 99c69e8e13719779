/// 9346CR: the EEPROM operating mode (EEM1-0) and, in programming mode,
/// the EEPROM pins.
///
/// - 00 normal; 11 unlocks writes to CONFIG0-5.
/// - 01 auto-load: the chip reloads from the EEPROM as after power-on,
///   resets, and returns to normal mode.
/// - 10 programming: EECS, EESK and EEDI drive the EEPROM; EEDO reads its
///   DO pin.
extension RTL8139 {
    func writeEEPROMCommand(_ value: UInt8) {
        let mode = value & EEPROMCommandBits.modeMask
        switch mode {
        case EEPROMCommandBits.modeAutoLoad:
            eeprom.setPins(chipSelect: false, clock: false, dataIn: false)
            hardwareReset()
        case EEPROMCommandBits.modeProgram:
            let pins = value & (EEPROMCommandBits.eecs | EEPROMCommandBits.eesk | EEPROMCommandBits.eedi)
            cr9346 = mode | pins
            eeprom.setPins(chipSelect: pins & EEPROMCommandBits.eecs != 0,
                           clock: pins & EEPROMCommandBits.eesk != 0,
                           dataIn: pins & EEPROMCommandBits.eedi != 0)
        default:
            cr9346 = mode
            eeprom.setPins(chipSelect: false, clock: false, dataIn: false)
        }
    }

    func readEEPROMCommand() -> UInt8 {
        var v = cr9346
        if cr9346 & EEPROMCommandBits.modeMask == EEPROMCommandBits.modeProgram,
           cr9346 & EEPROMCommandBits.eecs != 0, eeprom.dataOut
        {
            v |= EEPROMCommandBits.eedo
        }
        return v
    }
}
