import Board
import NICCore

/// The PC's two cascaded 8259A interrupt controllers (master at 20h/21h,
/// slave at A0h/A1h on the master's IRQ 2), enough for BIOS and option-ROM
/// code: the ICW1-4 initialisation sequence (vector base from ICW2), the
/// interrupt mask register (OCW1), non-specific and specific EOI (OCW2),
/// reading IRR or ISR (OCW3), fixed priority.
///
/// IRQ 0 is edge-triggered from the PIT (`pulse`); the others follow the
/// board's interrupt lines as levels (PCI INTx is level-triggered).
final class PIC8259Pair {
    final class Chip: RegisterBlock {
        let size: UInt64 = 2
        var vectorBase: UInt8
        var imr: UInt8
        var isr: UInt8 = 0
        /// Edge requests latched until acknowledged.
        var edges: UInt8 = 0
        /// Level inputs, refreshed from the board.
        var levels: UInt8 = 0
        var readISR = false
        private var initStep = 0
        private var expectICW4 = false

        init(vectorBase: UInt8, imr: UInt8) {
            self.vectorBase = vectorBase
            self.imr = imr
        }

        var irr: UInt8 { edges | levels }

        /// The highest-priority unmasked request above every in-service level.
        var pending: Int? {
            let requests = irr & ~imr
            for i in 0..<8 {
                if isr & (1 << i) != 0 { return nil }  // a higher or equal one is in service
                if requests & (1 << i) != 0 { return i }
            }
            return nil
        }

        func acknowledge(_ i: Int) {
            edges &= ~(1 << i)
            isr |= 1 << i
        }

        func read(offset: UInt64, width: AccessWidth) -> UInt64 {
            splitRead(offset: offset, width: width) { o in
                o == 0 ? (readISR ? isr : irr) : imr
            }
        }

        func write(offset: UInt64, width: AccessWidth, value: UInt64) {
            splitWrite(offset: offset, width: width, value: value) { o, v in
                if o == 0 { command(v) } else { data(v) }
            }
        }

        private func command(_ v: UInt8) {
            if v & 0x10 != 0 {  // ICW1
                initStep = 1
                expectICW4 = v & 1 != 0
                imr = 0
                isr = 0
                edges = 0
                readISR = false
            } else if v & 0x08 == 0 {  // OCW2
                switch v >> 5 {
                case 1, 5:  // non-specific EOI (optionally rotating)
                    for i in 0..<8 where isr & (1 << i) != 0 { isr &= ~(1 << i); break }
                case 3, 7:  // specific EOI
                    isr &= ~(1 << (v & 7))
                default: break
                }
            } else {  // OCW3
                if v & 0x02 != 0 { readISR = v & 0x01 != 0 }
            }
        }

        private func data(_ v: UInt8) {
            switch initStep {
            case 1:
                vectorBase = v & 0xF8
                initStep = 2
            case 2:
                initStep = expectICW4 ? 3 : 0
            case 3:
                initStep = 0
            default:
                imr = v  // OCW1
            }
        }
    }

    /// BIOS defaults: vectors 08h and 70h; only the timer and the cascade unmasked.
    let master = Chip(vectorBase: 0x08, imr: 0xFA)
    let slave = Chip(vectorBase: 0x70, imr: 0xFF)

    /// Latches an edge on IRQ 0-7 (the PIT's OUT0 on IRQ 0).
    func pulse(irq: Int) {
        guard (0..<8).contains(irq) else { return }
        master.edges |= 1 << irq
    }

    /// Copies the board's line levels into the IRR (IRQ 0 stays edge-driven).
    /// Takes the controller itself, not a method reference, so the hot path
    /// (every I/O cycle and slice) allocates no closure context.
    func sample(_ lines: InterruptController) {
        var m: UInt8 = 0, s: UInt8 = 0
        for i in 1..<8 where lines.isAsserted(i) { m |= 1 << i }
        for i in 0..<8 where lines.isAsserted(8 + i) { s |= 1 << i }
        slave.levels = s
        if slave.irr & ~slave.imr != 0 { m |= 1 << 2 }
        master.levels = m
    }

    /// The vector of the interrupt the CPU would take now, without taking it.
    var pendingVector: UInt8? {
        guard let m = master.pending else { return nil }
        if m == 2, let s = slave.pending { return slave.vectorBase | UInt8(s) }
        if m == 2 { return nil }
        return master.vectorBase | UInt8(m)
    }

    /// INTA: marks the pending interrupt in service and returns its vector.
    func acknowledge() -> UInt8? {
        guard let m = master.pending else { return nil }
        if m == 2 {
            guard let s = slave.pending else { return nil }
            master.acknowledge(2)
            slave.acknowledge(s)
            return slave.vectorBase | UInt8(s)
        }
        master.acknowledge(m)
        return master.vectorBase | UInt8(m)
    }

    /// End of interrupt for `irq`, as a BIOS default handler sends it.
    func endOfInterrupt(irq: Int) {
        if irq >= 8 {
            slave.isr &= ~(1 << (irq - 8))
            master.isr &= ~(1 << 2)
        } else if irq >= 0 {
            master.isr &= ~(1 << irq)
        }
    }

    /// The IRQ a vector belongs to under the current bases, if any. A base
    /// has bits 2:0 clear (ICW2), so the vector's top five bits name the
    /// chip and its low three the input; no sum that could pass FFh (a
    /// guest may set a base of F8h).
    func irq(forVector v: UInt8) -> Int? {
        if v & 0xF8 == master.vectorBase { return Int(v & 7) }
        if v & 0xF8 == slave.vectorBase { return 8 + Int(v & 7) }
        return nil
    }
}
