/// The caller's registers as a BIOS service sees them, and the FLAGS image
/// its IRET will restore (SS:SP+4 at the trap: IP, CS, FLAGS).
extension BIOS {
    var eax: UInt32 { get { machine[.eax] } set { machine[.eax] = newValue } }
    var ebx: UInt32 { get { machine[.ebx] } set { machine[.ebx] = newValue } }
    var ecx: UInt32 { get { machine[.ecx] } set { machine[.ecx] = newValue } }
    var edx: UInt32 { get { machine[.edx] } set { machine[.edx] = newValue } }
    var edi: UInt32 { get { machine[.edi] } set { machine[.edi] = newValue } }
    var esi: UInt32 { get { machine[.esi] } set { machine[.esi] = newValue } }

    var ax: UInt16 { get { low16(.eax) } set { setLow16(.eax, newValue) } }
    var bx: UInt16 { get { low16(.ebx) } set { setLow16(.ebx, newValue) } }
    var cx: UInt16 { get { low16(.ecx) } set { setLow16(.ecx, newValue) } }
    var dx: UInt16 { get { low16(.edx) } set { setLow16(.edx, newValue) } }
    var di: UInt16 { low16(.edi) }
    var si: UInt16 { low16(.esi) }
    var bp: UInt16 { low16(.ebp) }
    var es: UInt16 { low16(.es) }

    var ah: UInt8 { get { high8(.eax) } set { setHigh8(.eax, newValue) } }
    var al: UInt8 { get { low8(.eax) } set { setLow8(.eax, newValue) } }
    var bh: UInt8 { get { high8(.ebx) } set { setHigh8(.ebx, newValue) } }
    var bl: UInt8 { get { low8(.ebx) } set { setLow8(.ebx, newValue) } }
    var ch: UInt8 { get { high8(.ecx) } set { setHigh8(.ecx, newValue) } }
    var cl: UInt8 { get { low8(.ecx) } set { setLow8(.ecx, newValue) } }
    var dh: UInt8 { get { high8(.edx) } set { setHigh8(.edx, newValue) } }
    var dl: UInt8 { get { low8(.edx) } set { setLow8(.edx, newValue) } }

    private func low16(_ r: X86Register) -> UInt16 { UInt16(truncatingIfNeeded: machine[r]) }
    private func setLow16(_ r: X86Register, _ v: UInt16) { machine[r] = machine[r] & 0xFFFF_0000 | UInt32(v) }
    private func low8(_ r: X86Register) -> UInt8 { UInt8(truncatingIfNeeded: machine[r]) }
    private func high8(_ r: X86Register) -> UInt8 { UInt8(truncatingIfNeeded: machine[r] >> 8) }
    private func setLow8(_ r: X86Register, _ v: UInt8) { machine[r] = machine[r] & 0xFFFF_FF00 | UInt32(v) }
    private func setHigh8(_ r: X86Register, _ v: UInt8) { machine[r] = machine[r] & 0xFFFF_00FF | UInt32(v) << 8 }

    /// Linear address of the FLAGS word the service's IRET pops.
    private var stackedFlags: UInt64 {
        Machine.linear(machine[.ss], UInt32(UInt16(truncatingIfNeeded: machine[.esp]) &+ 4))
    }

    /// Sets or clears a flag in the FLAGS image the caller gets back.
    func returnFlag(_ flag: UInt32, _ set: Bool) {
        let a = stackedFlags
        let f = machine.read16(a)
        let bit = UInt16(truncatingIfNeeded: flag)
        machine.write16(a, set ? f | bit : f & ~bit)
    }

    /// CF in the caller's FLAGS: the BIOS's error indicator.
    func returnCarry(_ set: Bool) { returnFlag(X86Flag.carry, set) }

    /// An unsupported function: AH=86h, CF set (the INT 15h convention).
    func unsupported() {
        ah = 0x86
        returnCarry(true)
    }
}
