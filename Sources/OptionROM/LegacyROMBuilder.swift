import NICCore

/// Builds a legacy x86 PCI expansion ROM image: the 55AA header with its
/// INIT jump, the PCI Data Structure (PCI Firmware Specification 3.0
/// §5.1.2), a PnP Expansion Header with a Bootstrap Entry Vector (PnP BIOS
/// Specification 1.0A §3.2) and, for a network boot ROM, the UNDI ROM ID
/// (PXE Specification 2.1 §4.4.1). The caller supplies the 16-bit code and
/// the offsets of its entry points inside it; the builder lays the
/// structures out, pads to 512-byte blocks and sets every checksum.
///
/// | offset | holds                                                        |
/// |--------|--------------------------------------------------------------|
/// | 00h    | 55AA, size in blocks, JMP NEAR to INIT, checksum byte at 06h  |
/// | 16h    | pointers: UNDI ROM ID, PCIR, $PnP                            |
/// | 20h    | PCIR (revision 3, 1Ch bytes)                                 |
/// | 40h    | $PnP (20h bytes)                                             |
/// | 60h    | UNDI ROM ID (16h bytes)                                      |
/// | 80h    | manufacturer and product strings                             |
/// | after  | the code, 16-byte aligned                                    |
public struct LegacyROMBuilder: Sendable {
    /// What the UNDI ROM ID tells a loader.
    public struct UNDI: Sendable {
        /// Offset of the UNDI loader in `code`.
        public var loader: Int
        public var stackSize: UInt16
        public var dataSize: UInt16
        public var codeSize: UInt16
        /// UNDI API revision (major, minor, build).
        public var revision: (major: UInt8, minor: UInt8, build: UInt8) = (2, 1, 0)

        public init(loader: Int, stackSize: UInt16, dataSize: UInt16, codeSize: UInt16) {
            self.loader = loader
            self.stackSize = stackSize
            self.dataSize = dataSize
            self.codeSize = codeSize
        }
    }

    public var vendorID: UInt16
    public var deviceID: UInt16
    /// Class code (base, sub, interface): 020000h, an Ethernet controller.
    public var classCode: UInt32 = 0x02_0000
    public var codeRevision: UInt16 = 1
    public var manufacturer: String
    public var product: String
    /// The 16-bit code, loaded at `codeOffset` in the image.
    public var code: [UInt8]
    /// Offset of INIT in `code`.
    public var initEntry: Int
    /// Offset of the Bootstrap Entry Vector in `code`, if the ROM boots.
    public var bootEntry: Int?
    public var undi: UNDI?

    static let pcirOffset = 0x20
    static let pcirLength = 0x1C
    static let pnpOffset = 0x40
    static let pnpLength = 0x20
    static let undiOffset = 0x60
    static let undiLength = 0x16
    static let stringsOffset = 0x80
    static let checksumOffset = 0x06

    public init(vendorID: UInt16, deviceID: UInt16, manufacturer: String, product: String,
                code: [UInt8], initEntry: Int, bootEntry: Int? = nil, undi: UNDI? = nil) {
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.manufacturer = manufacturer
        self.product = product
        self.code = code
        self.initEntry = initEntry
        self.bootEntry = bootEntry
        self.undi = undi
    }

    /// Where the code starts in the image.
    public var codeOffset: Int {
        let strings = Self.stringsOffset + manufacturer.utf8.count + 1 + product.utf8.count + 1
        return (strings + 15) & ~15
    }

    public func build() throws(ROMBuildError) -> [UInt8] {
        let start = codeOffset
        let end = start + code.count
        guard (0..<code.count).contains(initEntry) else { throw .entryOutsideCode("INIT", initEntry) }
        if let bootEntry, !(0..<code.count).contains(bootEntry) { throw .entryOutsideCode("BEV", bootEntry) }
        if let undi, !(0..<code.count).contains(undi.loader) { throw .entryOutsideCode("UNDI loader", undi.loader) }
        let blocks = (end + 511) / 512
        guard blocks <= 0x7F else { throw .tooLarge(bytes: end) }
        var b = [UInt8](repeating: 0, count: blocks * 512)
        b[0] = 0x55
        b[1] = 0xAA
        b[2] = UInt8(blocks)
        // JMP NEAR rel16 from 0006h to INIT.
        b[3] = 0xE9
        put16(&b, 4, UInt16(truncatingIfNeeded: start + initEntry - 6))
        if undi != nil { put16(&b, 0x16, UInt16(Self.undiOffset)) }
        put16(&b, 0x18, UInt16(Self.pcirOffset))
        put16(&b, 0x1A, UInt16(Self.pnpOffset))

        let manufacturerAt = Self.stringsOffset
        let productAt = manufacturerAt + manufacturer.utf8.count + 1
        put(&b, manufacturerAt, Array(manufacturer.utf8))
        put(&b, productAt, Array(product.utf8))

        // PCIR.
        let p = Self.pcirOffset
        put(&b, p, Array("PCIR".utf8))
        put16(&b, p + 0x04, vendorID)
        put16(&b, p + 0x06, deviceID)
        put16(&b, p + 0x0A, UInt16(Self.pcirLength))
        b[p + 0x0C] = 3
        b[p + 0x0D] = UInt8(classCode & 0xFF)
        b[p + 0x0E] = UInt8(classCode >> 8 & 0xFF)
        b[p + 0x0F] = UInt8(classCode >> 16 & 0xFF)
        put16(&b, p + 0x10, UInt16(blocks))
        put16(&b, p + 0x12, codeRevision)
        b[p + 0x14] = 0     // x86 PC-AT
        b[p + 0x15] = 0x80  // last image
        put16(&b, p + 0x16, UInt16(blocks))  // maximum run-time length

        // $PnP.
        let n = Self.pnpOffset
        put(&b, n, Array("$PnP".utf8))
        b[n + 0x04] = 1
        b[n + 0x05] = UInt8(Self.pnpLength / 16)
        put16(&b, n + 0x0E, UInt16(manufacturerAt))
        put16(&b, n + 0x10, UInt16(productAt))
        b[n + 0x12] = UInt8(classCode >> 16 & 0xFF)
        b[n + 0x13] = UInt8(classCode >> 8 & 0xFF)
        b[n + 0x14] = UInt8(classCode & 0xFF)
        // Device indicators: IPL device (bit 2), may be shadowed (bit 4),
        // not a display or input device.
        b[n + 0x15] = bootEntry != nil ? 0x14 : 0x10
        if let bootEntry { put16(&b, n + 0x1A, UInt16(start + bootEntry)) }
        b[n + 0x09] = checksum(b[n..<(n + Self.pnpLength)])

        // UNDI ROM ID.
        if let undi {
            let u = Self.undiOffset
            put(&b, u, Array("UNDI".utf8))
            b[u + 0x04] = UInt8(Self.undiLength)
            b[u + 0x07] = undi.revision.build
            b[u + 0x08] = undi.revision.minor
            b[u + 0x09] = undi.revision.major
            put16(&b, u + 0x0A, UInt16(start + undi.loader))
            put16(&b, u + 0x0C, undi.stackSize)
            put16(&b, u + 0x0E, undi.dataSize)
            put16(&b, u + 0x10, undi.codeSize)
            put(&b, u + 0x12, Array("PCIR".utf8))
            b[u + 0x05] = checksum(b[u..<(u + Self.undiLength)])
        }

        put(&b, start, code)
        b[Self.checksumOffset] = checksum(b[...])
        return b
    }

    private func checksum(_ bytes: ArraySlice<UInt8>) -> UInt8 {
        0 &- bytes.reduce(0, &+)
    }

    private func put(_ b: inout [UInt8], _ at: Int, _ v: [UInt8]) {
        b.replaceSubrange(at..<(at + v.count), with: v)
    }

    private func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) { b.setLE16(v, at: at) }
}

/// Why `LegacyROMBuilder` cannot build an image.
public enum ROMBuildError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An entry point's offset is not inside the code.
    case entryOutsideCode(String, Int)
    /// The image would not fit the 64 KiB a legacy image can span.
    case tooLarge(bytes: Int)

    public var description: String {
        switch self {
        case .entryOutsideCode(let name, let offset): "the \(name) entry 0x\(String(offset, radix: 16)) is outside the code"
        case .tooLarge(let n): "\(n) bytes do not fit a legacy option ROM image (64 KiB at most)"
        }
    }
}
