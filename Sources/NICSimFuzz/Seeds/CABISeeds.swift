/// Seeds for the C ABI target: each card programmed through its BARs the
/// way its driver would, a frame in and a frame out, then the card moved
/// to a fresh one by snapshot (mid-run), a damaged snapshot, and raw bytes
/// offered as a snapshot.
enum CABISeeds {
    /// One program in the format `CABIFuzz` reads.
    struct Program {
        var w = FuzzInputWriter()

        init(model: UInt8, preset: UInt8) {
            w.u8(model)
            w.u8(preset)
        }

        mutating func configWrite(_ offset: UInt16, _ width: UInt8, _ value: UInt32) {
            w.u8(1); w.u16(offset); w.u8(width); w.u32(value)
        }

        mutating func barWrite(_ bar: UInt8, _ offset: UInt16, _ width: UInt8, _ value: UInt64) {
            w.u8(3); w.u8(bar); w.u16(offset); w.u8(width); w.u64(value)
        }

        mutating func barRead(_ bar: UInt8, _ offset: UInt16, _ width: UInt8) {
            w.u8(2); w.u8(bar); w.u16(offset); w.u8(width)
        }

        mutating func receive(_ frame: [UInt8]) {
            w.u8(4); w.u16(UInt16(frame.count)); w.append(frame)
        }

        mutating func advance(_ ns: UInt32) { w.u8(5); w.u32(ns) }

        mutating func ram(_ at: UInt16, _ bytes: [UInt8]) {
            w.u8(8); w.u16(at); w.u8(UInt8(bytes.count)); w.append(bytes)
        }

        mutating func migrate() { w.u8(9) }

        mutating func damage(_ flips: [(UInt16, UInt8)]) {
            w.u8(10); w.u8(0); w.u8(UInt8(flips.count - 1))
            for (at, x) in flips { w.u16(at); w.u8(x) }
        }

        mutating func cut(_ length: UInt16) { w.u8(10); w.u8(1); w.u16(length) }

        mutating func raw(_ bytes: [UInt8]) { w.u8(11); w.u16(UInt16(bytes.count)); w.append(bytes) }
    }

    /// A broadcast frame of `length` bytes.
    static func frame(_ length: Int, tag: UInt8) -> [UInt8] {
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0, 0, 0, 0, tag, 0x08, 0x00] + (0..<(length - 14)).map { UInt8(truncatingIfNeeded: $0) ^ tag }
    }

    static func seeds() -> [(String, [UInt8])] {
        // RTL8139: I/O and bus master on, reset, RBSTART, IMR, RCR, RE|TE;
        // a frame in; TSAD0/TSD0 send 60 bytes from RAM; then snapshots.
        var rtl = Program(model: 0, preset: 1)
        rtl.configWrite(4, 2, 0x0007)
        rtl.barWrite(0, 0x37, 1, 0x10)
        rtl.barWrite(0, 0x30, 4, 0x1000)
        rtl.barWrite(0, 0x3C, 2, 0xFFFF)
        rtl.barWrite(0, 0x44, 4, 0x0000_008F)
        rtl.barWrite(0, 0x37, 1, 0x0C)
        rtl.receive(frame(64, tag: 1))
        rtl.barRead(0, 0x3E, 2)
        rtl.barWrite(0, 0x3E, 2, 0xFFFF)
        rtl.migrate()
        rtl.receive(frame(100, tag: 2))
        rtl.ram(0x4000, frame(60, tag: 3))
        rtl.barWrite(0, 0x20, 4, 0x4000)
        rtl.barWrite(0, 0x10, 4, 60)
        rtl.advance(1_000_000)
        rtl.damage([(40, 0x55), (3, 0x01)])
        rtl.cut(30)
        rtl.raw(Array("NICS".utf8) + [1, 0, 0, 0])

        // RTL8029: page 0 start, PSTART/PSTOP, DCR, RCR broadcast, a frame
        // in, remote DMA read of the ring, then snapshots.
        var ne = Program(model: 1, preset: 0)
        ne.configWrite(4, 2, 0x0003)
        ne.barWrite(0, 0x1F, 1, 0)
        ne.barWrite(0, 0x00, 1, 0x21)
        ne.barWrite(0, 0x0E, 1, 0x49)
        ne.barWrite(0, 0x01, 1, 0x46)
        ne.barWrite(0, 0x02, 1, 0x80)
        ne.barWrite(0, 0x03, 1, 0x46)
        ne.barWrite(0, 0x0C, 1, 0x04)
        ne.barWrite(0, 0x0F, 1, 0xFF)
        ne.barWrite(0, 0x00, 1, 0x22)
        ne.receive(frame(64, tag: 4))
        ne.migrate()
        ne.barWrite(0, 0x08, 1, 0)
        ne.barWrite(0, 0x09, 1, 0x46)
        ne.barWrite(0, 0x0A, 1, 64)
        ne.barWrite(0, 0x0B, 1, 0)
        ne.barWrite(0, 0x00, 1, 0x0A)
        for _ in 0..<8 { ne.barRead(0, 0x10, 2) }
        ne.damage([(12, 0x80)])

        // NE2000 on ISA at 0x300, IRQ 9: reset port, start, a frame in.
        var isa = Program(model: 2, preset: 4)
        isa.barRead(0, 0x1F, 1)
        isa.barWrite(0, 0x00, 1, 0x21)
        isa.barWrite(0, 0x01, 1, 0x46)
        isa.barWrite(0, 0x02, 1, 0x80)
        isa.barWrite(0, 0x0C, 1, 0x04)
        isa.barWrite(0, 0x00, 1, 0x22)
        isa.receive(frame(200, tag: 5))
        isa.migrate()
        isa.cut(7)

        // virtio-net, legacy interface and INTx: status ACK|DRIVER, queue 0
        // at page 2 of RAM, DRIVER_OK, a frame in, then snapshots.
        var virtio = Program(model: 3, preset: 3)
        virtio.configWrite(4, 2, 0x0007)
        virtio.barWrite(0, 0x12, 1, 0x03)
        virtio.barWrite(0, 0x0E, 2, 0)
        virtio.barWrite(0, 0x08, 4, 2)
        virtio.ram(0x2000, [0x00, 0x30, 0, 0, 0, 0, 0, 0, 0x00, 0x08, 0, 0, 0x02, 0, 0, 0])
        virtio.barWrite(0, 0x12, 1, 0x07)
        virtio.receive(frame(64, tag: 6))
        virtio.migrate()
        virtio.receive(frame(64, tag: 7))
        virtio.damage([(20, 0x10), (60, 0x04), (2, 0x02)])
        virtio.raw([0xFF, 0xFF, 0xFF, 0xFF])

        // Options from the input: a bad one, then a good one's card.
        var bad = Program(model: 3, preset: 0x80)
        bad.w.u8(21)
        bad.w.append(Array("vectors=99999,nope=1".utf8) + [0])
        return [("rtl8139-rx-tx-migrate", rtl.w.bytes), ("rtl8029-ring-migrate", ne.w.bytes),
                ("ne2000-isa-migrate", isa.w.bytes), ("virtio-legacy-migrate", virtio.w.bytes),
                ("bad-options", bad.w.bytes)]
    }
}
