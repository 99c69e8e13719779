import NICCore

/// A register block made of fields of 1, 2, 4 or 8 bytes, accessed at any
/// width: a read assembles the bytes of every field it covers (reading each
/// field once, so read side effects happen once), and a write merges its
/// bytes into each field it covers and stores the whole field. Bytes that
/// belong to no field read as zero and ignore writes.
///
/// virtio structures are accessed at their natural width by well-behaved
/// drivers; this keeps narrower or wider accesses well defined.
protocol FieldRegisterBlock: RegisterBlock {
    /// The field containing byte `offset`: its first byte and size.
    func field(at offset: Int) -> (start: Int, size: Int)?
    func readField(at start: Int) -> UInt64
    func writeField(at start: Int, value: UInt64)
}

extension FieldRegisterBlock {
    func fieldRead(offset: UInt64, width: AccessWidth) -> UInt64 {
        // The bus only passes accesses inside the block; a host calling
        // directly with anything else reads nothing.
        guard offset < size, size - offset >= UInt64(width.rawValue) else { return 0 }
        let begin = Int(offset)
        let end = begin + width.rawValue
        var value: UInt64 = 0
        var o = begin
        while o < end {
            guard let f = field(at: o), f.size > 0 else {
                o += 1
                continue
            }
            let v = readField(at: f.start)
            let last = min(end, f.start + f.size)
            for b in o..<last {
                let byte = (v >> UInt64(8 * (b - f.start))) & 0xFF
                value |= byte << UInt64(8 * (b - begin))
            }
            o = last
        }
        return value
    }

    func fieldWrite(offset: UInt64, width: AccessWidth, value: UInt64) {
        guard offset < size, size - offset >= UInt64(width.rawValue) else { return }
        let begin = Int(offset)
        let end = begin + width.rawValue
        var o = begin
        while o < end {
            guard let f = field(at: o), f.size > 0 else {
                o += 1
                continue
            }
            let last = min(end, f.start + f.size)
            var merged: UInt64
            if o == f.start && last == f.start + f.size {
                merged = 0
            } else {
                merged = readField(at: f.start)
            }
            for b in o..<last {
                let shift = UInt64(8 * (b - f.start))
                let byte = (value >> UInt64(8 * (b - begin))) & 0xFF
                merged = merged & ~(0xFF << shift) | byte << shift
            }
            writeField(at: f.start, value: merged)
            o = last
        }
    }
}
