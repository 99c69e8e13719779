/// INT 16h, keyboard: this PC has no keys. AH=01h/11h report none (ZF
/// set); AH=02h/12h report no shift keys; AH=00h/10h wait with STI/HLT
/// in the trap's own code, so time passes and timer hooks run, as they
/// would on a PC with nobody at the keyboard.
extension BIOS {
    func keyboardService() {
        switch ah {
        case 0x01, 0x11:
            returnFlag(X86Flag.zero, true)
        case 0x02, 0x12:
            ax = ah == 0x12 ? 0 : UInt16(ah) << 8
        case 0x05:
            al = 0x01  // keyboard buffer full: nothing is stored
        default:
            break
        }
    }
}
