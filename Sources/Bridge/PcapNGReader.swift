/// Reads a pcapng file block by block: Section Header, Interface
/// Description, Enhanced Packet, Simple Packet and the obsolete Packet
/// blocks; several sections (each in its own byte order) and several
/// interfaces, each with its own timestamp resolution and offset, and the
/// direction in `epb_flags`. Other blocks are skipped.
///
/// Streaming, with one reused buffer. Bad magic, block total lengths that
/// are too small, unaligned, too large for a packet, or that disagree with
/// the trailing copy, and a file that ends inside a block are errors naming
/// the byte offset.
public final class PcapNGReader: TraceFileReader {
    /// What an Interface Description Block said about one interface.
    public struct Interface: Sendable, Equatable {
        public var linkType: UInt16
        public var snapLength: UInt32
        public var name: String?
        /// if_tsresol: units per second as a power of 10 (bit 7 clear) or 2 (set).
        public var timestampResolution: UInt8
        /// if_tsoffset, in seconds.
        public var timestampOffset: Int64
    }

    /// Interfaces of the current section, in IDB order.
    public private(set) var interfaces: [Interface] = []
    /// Byte order of the current section.
    public private(set) var byteOrder: ByteOrder = .host
    /// Sections seen so far.
    public private(set) var sectionCount = 0
    private let input: TraceInput

    public convenience init(path: String) throws(TraceFileError) {
        try self.init(input: TraceInput(path: path))
    }

    /// Reads from an open descriptor (a pipe, stdin); the caller closes it.
    public convenience init(fileDescriptor: Int32) throws(TraceFileError) {
        try self.init(input: TraceInput(fileDescriptor: fileDescriptor))
    }

    init(input: TraceInput) throws(TraceFileError) {
        self.input = input
        guard let head = try input.peek(4) else {
            throw .truncated(offset: 0, reason: "the section header block (the file is empty)")
        }
        let magic = head.load(as: UInt32.self)
        guard magic == PcapNGBlockType.sectionHeader else {
            throw .malformed(offset: 0, reason: "not a pcapng file: first block type 0x\(String(UInt32(bigEndian: magic), radix: 16)) is not a section header block")
        }
    }

    public func linkType(of interface: Int) -> UInt32? {
        interface >= 0 && interface < interfaces.count ? UInt32(interfaces[interface].linkType) : nil
    }

    public func next() throws(TraceFileError) -> TracePacket? {
        // Bounded: every pass consumes at least one 12-byte block.
        while true {
            let at = input.offset
            guard let head = try input.peek(8) else {
                if try input.isAtEnd() { return nil }
                throw .truncated(offset: at, reason: "a block header")
            }
            let type = byteOrder.u32(head, 0)
            if type == PcapNGBlockType.sectionHeader {
                try readSectionHeader(at: at)
                continue
            }
            guard sectionCount > 0 else {
                throw .malformed(offset: at, reason: "block before the first section header block")
            }
            let length = Int(byteOrder.u32(head, 4))
            try checkLength(length, at: at)
            guard length <= PcapNGFormat.maxBlockSize else {
                if type == PcapNGBlockType.enhancedPacket || type == PcapNGBlockType.simplePacket
                    || type == PcapNGBlockType.packet || type == PcapNGBlockType.interfaceDescription {
                    throw .malformed(offset: at + 4, reason: "block total length \(length) exceeds the \(PcapNGFormat.maxBlockSize)-byte limit for this block type")
                }
                try input.skip(UInt64(length), what: "a block of \(length) bytes starting at byte \(at)")
                continue
            }
            let block = try input.require(length, what: "a block of \(length) bytes starting at byte \(at)")
            let trailer = byteOrder.u32(block, length - 4)
            guard trailer == UInt32(length) else {
                throw .malformed(offset: at + UInt64(length) - 4, reason: "trailing block total length \(trailer) differs from the leading \(length) (block at byte \(at))")
            }
            let body = UnsafeRawBufferPointer(rebasing: block[8..<(length - 4)])
            switch type {
            case PcapNGBlockType.interfaceDescription:
                try readInterface(body, at: at)
            case PcapNGBlockType.enhancedPacket:
                return try enhancedPacket(body, at: at)
            case PcapNGBlockType.simplePacket:
                return try simplePacket(body, at: at)
            case PcapNGBlockType.packet:
                return try obsoletePacket(body, at: at)
            default:
                continue  // NRB, ISB, DSB, custom blocks: nothing a replay needs
            }
        }
    }

    private func checkLength(_ length: Int, at: UInt64) throws(TraceFileError) {
        guard length >= PcapNGFormat.blockOverhead else {
            throw .malformed(offset: at + 4, reason: "block total length \(length) is smaller than the 12-byte minimum")
        }
        guard length & 3 == 0 else {
            throw .malformed(offset: at + 4, reason: "block total length \(length) is not a multiple of 4")
        }
    }

    // MARK: Section Header Block

    private func readSectionHeader(at: UInt64) throws(TraceFileError) {
        guard let head = try input.peek(12) else { throw .truncated(offset: at, reason: "a section header block") }
        let p = head
        let order: ByteOrder
        switch p.loadUnaligned(fromByteOffset: 8, as: UInt32.self) {
        case PcapNGFormat.byteOrderMagic: order = .host
        case PcapNGFormat.byteOrderMagic.byteSwapped: order = ByteOrder.host == .littleEndian ? .bigEndian : .littleEndian
        case let other:
            throw .malformed(offset: at + 8, reason: "bad byte-order magic 0x\(String(UInt32(bigEndian: other), radix: 16)) in the section header block")
        }
        let length = Int(order.u32(p, 4))
        try checkLength(length, at: at)
        guard length >= 28 else {
            throw .malformed(offset: at + 4, reason: "section header block total length \(length) is smaller than its 28-byte minimum")
        }
        let block: UnsafeRawBufferPointer
        if length <= PcapNGFormat.maxBlockSize {
            block = try input.require(length, what: "a section header block of \(length) bytes")
            guard order.u32(block, length - 4) == UInt32(length) else {
                throw .malformed(offset: at + UInt64(length) - 4, reason: "trailing block total length differs from the leading \(length) (section header block at byte \(at))")
            }
        } else {
            // Huge options: keep only the fixed part.
            block = try input.require(28, what: "a section header block")
            try input.skip(UInt64(length - 28), what: "a section header block of \(length) bytes")
        }
        let major = order.u16(block, 12)
        guard major == PcapNGFormat.versionMajor else {
            throw .malformed(offset: at + 12, reason: "unsupported pcapng version \(major).\(order.u16(block, 14))")
        }
        byteOrder = order
        interfaces.removeAll(keepingCapacity: true)
        sectionCount += 1
    }

    // MARK: Interface Description Block

    private func readInterface(_ body: UnsafeRawBufferPointer, at: UInt64) throws(TraceFileError) {
        guard body.count >= 8 else {
            throw .malformed(offset: at + 4, reason: "interface description block is too short (\(body.count + 12) bytes)")
        }
        guard interfaces.count < PcapNGFormat.maxInterfaces else {
            throw .malformed(offset: at, reason: "more than \(PcapNGFormat.maxInterfaces) interfaces in one section")
        }
        let p = body
        var interface = Interface(linkType: byteOrder.u16(p, 0), snapLength: byteOrder.u32(p, 4),
                                  name: nil, timestampResolution: 6, timestampOffset: 0)
        try forEachOption(UnsafeRawBufferPointer(rebasing: body[8...]), at: at + 16) { code, value in
            switch code {
            case PcapNGFormat.ifTimestampResolution where value.count >= 1:
                interface.timestampResolution = value[0]
            case PcapNGFormat.ifTimestampOffset where value.count >= 8:
                interface.timestampOffset = Int64(bitPattern: byteOrder.u64(value, 0))
            case PcapNGFormat.ifName:
                interface.name = String(decoding: value.prefix(256), as: UTF8.self)
            default:
                break
            }
        }
        interfaces.append(interface)
    }

    // MARK: Packet blocks

    private func enhancedPacket(_ body: UnsafeRawBufferPointer, at: UInt64) throws(TraceFileError) -> TracePacket {
        guard body.count >= 20 else {
            throw .malformed(offset: at + 4, reason: "enhanced packet block is too short (\(body.count + 12) bytes)")
        }
        let p = body
        let id = Int(byteOrder.u32(p, 0))
        guard id < interfaces.count else {
            throw .malformed(offset: at + 8, reason: "enhanced packet block names interface \(id), but the section describes \(interfaces.count)")
        }
        let high = UInt64(byteOrder.u32(p, 4)), low = UInt64(byteOrder.u32(p, 8))
        let captured = Int(byteOrder.u32(p, 12))
        let original = Int(byteOrder.u32(p, 16))
        guard captured <= body.count - 20 else {
            throw .malformed(offset: at + 20, reason: "captured length \(captured) runs past the end of its \(body.count + 12)-byte block")
        }
        let dataEnd = 20 + captured + PcapNGFormat.padding(captured)
        let direction = try flagsDirection(body, optionsAt: dataEnd, blockAt: at)
        return TracePacket(timestamp: timestamp(high << 32 | low, interface: interfaces[id]),
                           bytes: UnsafeRawBufferPointer(rebasing: body[20..<(20 + captured)]),
                           originalLength: original, interface: id, direction: direction)
    }

    private func simplePacket(_ body: UnsafeRawBufferPointer, at: UInt64) throws(TraceFileError) -> TracePacket {
        guard body.count >= 4 else {
            throw .malformed(offset: at + 4, reason: "simple packet block is too short (\(body.count + 12) bytes)")
        }
        guard let first = interfaces.first else {
            throw .malformed(offset: at, reason: "simple packet block before any interface description block")
        }
        let original = Int(byteOrder.u32(body, 0))
        // The captured length is implied: the original, cut by the snapshot
        // length and by what the block holds.
        var captured = min(original, body.count - 4)
        if first.snapLength > 0 { captured = min(captured, Int(first.snapLength)) }
        return TracePacket(timestamp: 0, bytes: UnsafeRawBufferPointer(rebasing: body[4..<(4 + captured)]),
                           originalLength: original, interface: 0, direction: nil)
    }

    private func obsoletePacket(_ body: UnsafeRawBufferPointer, at: UInt64) throws(TraceFileError) -> TracePacket {
        guard body.count >= 20 else {
            throw .malformed(offset: at + 4, reason: "packet block is too short (\(body.count + 12) bytes)")
        }
        let p = body
        let id = Int(byteOrder.u16(p, 0))
        guard id < interfaces.count else {
            throw .malformed(offset: at + 8, reason: "packet block names interface \(id), but the section describes \(interfaces.count)")
        }
        let high = UInt64(byteOrder.u32(p, 4)), low = UInt64(byteOrder.u32(p, 8))
        let captured = Int(byteOrder.u32(p, 12))
        guard captured <= body.count - 20 else {
            throw .malformed(offset: at + 20, reason: "captured length \(captured) runs past the end of its \(body.count + 12)-byte block")
        }
        let direction = try flagsDirection(body, optionsAt: 20 + captured + PcapNGFormat.padding(captured), blockAt: at)
        return TracePacket(timestamp: timestamp(high << 32 | low, interface: interfaces[id]),
                           bytes: UnsafeRawBufferPointer(rebasing: body[20..<(20 + captured)]),
                           originalLength: Int(byteOrder.u32(p, 16)), interface: id, direction: direction)
    }

    /// The direction bits of epb_flags/pack_flags, if the options carry them.
    private func flagsDirection(_ body: UnsafeRawBufferPointer, optionsAt start: Int, blockAt at: UInt64) throws(TraceFileError) -> TraceDirection? {
        guard start < body.count else { return nil }
        var direction: TraceDirection?
        try forEachOption(UnsafeRawBufferPointer(rebasing: body[start...]), at: at + 8 + UInt64(start)) { code, value in
            guard code == PcapNGFormat.epbFlags, value.count >= 4 else { return }
            switch byteOrder.u32(value, 0) & 3 {
            case 1: direction = .inbound
            case 2: direction = .outbound
            default: direction = nil
            }
        }
        return direction
    }

    // MARK: Options and timestamps

    /// Walks an option list (code, length, value padded to 32 bits) up to
    /// opt_endofopt or the end of the block, whichever comes first.
    private func forEachOption(_ options: UnsafeRawBufferPointer, at: UInt64,
                               _ body: (UInt16, UnsafeRawBufferPointer) -> Void) throws(TraceFileError) {
        var i = 0
        while i + 4 <= options.count {
            let code = byteOrder.u16(options, i)
            let length = Int(byteOrder.u16(options, i + 2))
            if code == PcapNGFormat.optEndOfOptions { return }
            guard i + 4 + length <= options.count else {
                throw .malformed(offset: at + UInt64(i) + 2, reason: "option \(code) of length \(length) runs past the end of its block")
            }
            body(code, UnsafeRawBufferPointer(rebasing: options[(i + 4)..<(i + 4 + length)]))
            i += 4 + length + PcapNGFormat.padding(length)
        }
    }

    /// Converts a timestamp in the interface's units to nanoseconds since the epoch.
    private func timestamp(_ units: UInt64, interface: Interface) -> UInt64 {
        let r = interface.timestampResolution
        let exponent = Int(r & 0x7F)
        var ns: UInt64
        if r & 0x80 == 0 {
            if exponent <= 9 {
                ns = units.multipliedReportingOverflow(by: Self.powersOf10[9 - exponent]).partialValue
            } else if exponent - 9 < Self.powersOf10.count {
                ns = units / Self.powersOf10[exponent - 9]
            } else {
                ns = 0
            }
        } else {
            guard exponent < 64 else { return 0 }
            let seconds = exponent == 0 ? units : units >> UInt64(exponent)
            let fraction = exponent == 0 ? 0 : units & ((1 << UInt64(exponent)) - 1)
            let scaled = fraction.multipliedFullWidth(by: 1_000_000_000)
            // (fraction * 1e9) >> exponent, from the 128-bit product.
            let shifted = exponent == 0 ? 0 : (scaled.low >> UInt64(exponent)) | (exponent == 64 ? 0 : scaled.high << UInt64(64 - exponent))
            ns = seconds &* 1_000_000_000 &+ shifted
        }
        return ns &+ UInt64(bitPattern: interface.timestampOffset &* 1_000_000_000)
    }

    private static let powersOf10: [UInt64] = (0...19).map { n in (0..<n).reduce(UInt64(1)) { r, _ in r * 10 } }
}
