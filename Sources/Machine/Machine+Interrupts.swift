/// Interrupt delivery through the guest's own tables: in real mode the IVT
/// (INT n from guest code, and hardware interrupts the PIC hands the CPU;
/// a vector the guest hooked reaches the guest's handler, one it did not
/// reaches the BIOS trap for that vector); in protected mode the IDT, for
/// hardware interrupts taken at HLT (iPXE's librm reflects them to the
/// real-mode IVT from there).
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
        // FLAGS, CS, IP pushed as three `push16`s would push them, with SP
        // and SS read once and SP written once: each register access is a
        // call into the engine, and this runs for every INT n.
        let flags = cpu[.eflags]
        let esp = cpu[.esp]
        let ss = cpu[.ss]
        var sp = UInt16(truncatingIfNeeded: esp)
        sp &-= 2; write16(Self.linear(ss, UInt32(sp)), UInt16(truncatingIfNeeded: flags))
        sp &-= 2; write16(Self.linear(ss, UInt32(sp)), UInt16(truncatingIfNeeded: cpu[.cs]))
        sp &-= 2; write16(Self.linear(ss, UInt32(sp)), UInt16(truncatingIfNeeded: cpu[.eip]))
        cpu[.esp] = (esp & 0xFFFF_0000) | UInt32(sp)
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
        cpu.watchInterruptWindow = false
    }

    /// Protected-mode interrupt entry through an IDT gate, at privilege
    /// level 0 as loaders run: push EFLAGS, CS, EIP (dwords for a 32-bit
    /// gate, words for a 16-bit one), clear TF/NT (and IF for an interrupt
    /// gate), load CS:EIP from the gate (Intel SDM vol. 3 §6.12.1).
    func enterProtected(vector: UInt8) throws(MachineError) {
        let idt = cpu.idt
        let entry = UInt64(vector) * 8
        guard entry + 7 <= UInt64(idt.limit) else {
            throw .guestFault("interrupt \(vector) is past the IDT limit", linearPC: linearPC())
        }
        let gate = idt.base + entry
        let access = read8(gate + 5)
        let type = access & 0x0F
        guard access & 0x80 != 0, [0x6, 0x7, 0xE, 0xF].contains(type) else {
            throw .guestFault("IDT entry \(vector) is not a present interrupt or trap gate", linearPC: linearPC())
        }
        let selector = read16(gate + 2)
        let offset = UInt32(read16(gate)) | (type >= 0xE ? UInt32(read16(gate + 6)) << 16 : 0)
        let flags = cpu[.eflags]
        let wide = type >= 0xE
        let ssBase = segmentBase(cpu[.ss])
        let bigStack = isBig(cpu[.ss])
        var esp = cpu[.esp]
        func push(_ v: UInt32) {
            if wide {
                esp = bigStack ? esp &- 4 : (esp & 0xFFFF_0000) | UInt32(UInt16(truncatingIfNeeded: esp) &- 4)
                write32((ssBase + UInt64(bigStack ? esp : esp & 0xFFFF)) & 0xFFFF_FFFF, v)
            } else {
                esp = bigStack ? esp &- 2 : (esp & 0xFFFF_0000) | UInt32(UInt16(truncatingIfNeeded: esp) &- 2)
                write16((ssBase + UInt64(bigStack ? esp : esp & 0xFFFF)) & 0xFFFF_FFFF, UInt16(truncatingIfNeeded: v))
            }
        }
        push(flags)
        push(cpu[.cs])
        push(cpu[.eip])
        guard cpu.loadSegment(.cs, selector) else {
            throw .guestFault("IDT entry \(vector) selector 0x\(String(selector, radix: 16)) cannot be loaded", linearPC: linearPC())
        }
        cpu[.esp] = esp
        let nested: UInt32 = 1 << 14
        var cleared = X86Flag.trap | nested
        if type == 0xE || type == 0x6 { cleared |= X86Flag.interrupt }
        cpu[.eflags] = flags & ~cleared
        cpu[.eip] = offset
    }
}
