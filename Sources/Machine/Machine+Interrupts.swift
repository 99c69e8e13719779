/// Interrupt delivery in real mode, through the guest's own IVT: INT n
/// from guest code, and hardware interrupts the PIC hands the CPU. A
/// vector the guest hooked reaches the guest's handler; one it did not
/// reaches the BIOS trap for that vector.
extension Machine {
    /// Exceptions that return to the faulting instruction: with only the
    /// BIOS's default handler behind them they would repeat forever.
    static let exceptionNames: [UInt32: String] = [
        0: "divide error", 1: "debug", 3: "breakpoint", 4: "overflow",
        5: "bound range", 6: "invalid opcode", 7: "no math coprocessor",
    ]

    func interrupt(_ vector: UInt32) {
        guard !cpu.isProtectedMode else {
            fault("interrupt or exception \(vector) in protected mode (no IDT handling on this machine)")
            return
        }
        if vector < 8, vector != 3, vector != 4, bios.isDefaultHandler(vector: UInt8(vector)) {
            fault("CPU exception \(vector) (\(Self.exceptionNames[vector] ?? "exception")) in real mode")
            return
        }
        enter(vector: UInt8(truncatingIfNeeded: vector))
    }

    /// Pushes FLAGS, CS, IP on SS:SP, clears IF/TF/AC and jumps through IVT[vector].
    func enter(vector: UInt8) {
        let flags = cpu[.eflags]
        push16(UInt16(truncatingIfNeeded: flags))
        push16(UInt16(truncatingIfNeeded: cpu[.cs]))
        push16(UInt16(truncatingIfNeeded: cpu[.eip]))
        cpu[.eflags] = flags & ~(X86Flag.interrupt | X86Flag.trap | X86Flag.alignment)
        let entry = PCMemoryMap.ivt + UInt64(vector) * 4
        cpu[.cs] = UInt32(read16(entry + 2))
        cpu[.eip] = UInt32(read16(entry))
    }

    func push16(_ v: UInt16) {
        let sp = UInt16(truncatingIfNeeded: cpu[.esp]) &- 2
        cpu[.esp] = (cpu[.esp] & 0xFFFF_0000) | UInt32(sp)
        write16(Self.linear(cpu[.ss], UInt32(sp)), v)
    }

    /// Takes the PIC's pending interrupt (INTA) and enters its handler.
    func deliverPendingInterrupt() {
        guard let vector = pic.acknowledge() else { return }
        enter(vector: vector)
    }
}
