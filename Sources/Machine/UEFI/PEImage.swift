/// Why a PE32+ file can't be loaded.
public enum PEError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file is too short for a structure it declares.
    case truncated(String)
    /// A signature or magic number is wrong (not an MZ/PE32+ file).
    case notPE(String)
    /// The image is for another CPU than x86-64.
    case machine(UInt16)
    /// A header field is out of range (alignment, sizes, section bounds).
    case malformed(String)
    /// A base relocation of a type this loader does not apply, or one that
    /// points outside the image.
    case relocation(String)

    public var description: String {
        switch self {
        case .truncated(let s): "PE file truncated: \(s)"
        case .notPE(let s): "not a PE32+ image: \(s)"
        case .machine(let m): "PE image is for machine 0x\(String(m, radix: 16)), not x86-64 (0x8664)"
        case .malformed(let s): "malformed PE image: \(s)"
        case .relocation(let s): "PE relocation: \(s)"
        }
    }
}

/// A PE32+ (x86-64) image as UEFI firmware loads it (PE/COFF
/// specification: MS-DOS stub with `e_lfanew` at 3Ch, "PE\0\0", the COFF
/// file header, the PE32+ optional header with magic 20Bh, the section
/// table, and the base relocation directory, data directory 5).
///
/// Every field the file controls is checked against the file and the
/// image size before it is used, so a hostile file ends in a `PEError`.
public struct PEImage: Sendable {
    /// IMAGE_FILE_MACHINE_AMD64.
    public static let machineX64: UInt16 = 0x8664
    /// The largest image this loader lays out (UEFI images are far smaller).
    public static let maximumImageSize = 256 << 20

    /// One section: where it goes in the image and where its bytes are in the file.
    public struct Section: Sendable, Equatable {
        public var name: String
        public var virtualAddress: UInt32
        public var virtualSize: UInt32
        public var rawOffset: UInt32
        public var rawSize: UInt32
    }

    /// The subsystem: 10 EFI application, 11 boot service driver, 12 runtime driver.
    public let subsystem: UInt16
    /// The image base the file was linked at.
    public let preferredBase: UInt64
    /// Bytes the image takes in memory (SizeOfImage).
    public let imageSize: Int
    /// The entry point, relative to the image base.
    public let entryPoint: UInt32
    public let sizeOfHeaders: Int
    public let sections: [Section]
    /// The base relocation directory (RVA and size), if present.
    public let relocations: (rva: UInt32, size: UInt32)?
    private let file: [UInt8]

    public var isApplication: Bool { subsystem == 10 }

    /// Parses and checks `bytes` as a PE32+ x86-64 image.
    public init(bytes: [UInt8]) throws(PEError) {
        file = bytes
        guard bytes.count >= 0x40 else { throw .truncated("no MS-DOS header") }
        guard bytes[0] == 0x4D, bytes[1] == 0x5A else { throw .notPE("no MZ signature") }
        let pe = Int(Self.u32(bytes, 0x3C))
        guard pe <= bytes.count - 24 else { throw .truncated("PE header offset 0x\(String(pe, radix: 16)) past the end") }
        guard Self.u32(bytes, pe) == 0x0000_4550 else { throw .notPE("no PE signature") }
        let coff = pe + 4
        let machine = Self.u16(bytes, coff)
        guard machine == Self.machineX64 else { throw .machine(machine) }
        let sectionCount = Int(Self.u16(bytes, coff + 2))
        let optionalSize = Int(Self.u16(bytes, coff + 16))
        let opt = coff + 20
        guard optionalSize >= 112, opt + optionalSize <= bytes.count else { throw .truncated("optional header") }
        guard Self.u16(bytes, opt) == 0x20B else { throw .notPE("optional header magic is not PE32+ (20Bh)") }
        entryPoint = Self.u32(bytes, opt + 16)
        preferredBase = Self.u64(bytes, opt + 24)
        let sectionAlignment = Self.u32(bytes, opt + 32)
        let size = Self.u32(bytes, opt + 56)
        let headers = Self.u32(bytes, opt + 60)
        subsystem = Self.u16(bytes, opt + 68)
        let directoryCount = Int(Self.u32(bytes, opt + 108))
        guard sectionAlignment != 0, sectionAlignment & (sectionAlignment - 1) == 0 else {
            throw .malformed("section alignment \(sectionAlignment) is not a power of two")
        }
        guard size > 0, Int(size) <= Self.maximumImageSize else { throw .malformed("SizeOfImage \(size)") }
        guard headers <= size, Int(headers) <= bytes.count else { throw .malformed("SizeOfHeaders \(headers)") }
        guard entryPoint < size else { throw .malformed("entry point 0x\(String(entryPoint, radix: 16)) outside the image") }
        imageSize = Int(size)
        sizeOfHeaders = Int(headers)
        // Data directory 5 (base relocations), if the header has that many.
        if directoryCount > 5, 112 + 6 * 8 <= optionalSize {
            let rva = Self.u32(bytes, opt + 112 + 40), length = Self.u32(bytes, opt + 112 + 44)
            if length > 0 {
                guard UInt64(rva) + UInt64(length) <= UInt64(size) else { throw .relocation("directory outside the image") }
                relocations = (rva, length)
            } else {
                relocations = nil
            }
        } else {
            relocations = nil
        }
        let table = opt + optionalSize
        guard sectionCount <= 96, table + sectionCount * 40 <= bytes.count else { throw .truncated("section table") }
        var sections: [Section] = []
        for i in 0..<sectionCount {
            let s = table + i * 40
            let name = String(decoding: bytes[s..<s + 8].prefix { $0 != 0 }, as: UTF8.self)
            let section = Section(name: name, virtualAddress: Self.u32(bytes, s + 12), virtualSize: Self.u32(bytes, s + 8),
                                  rawOffset: Self.u32(bytes, s + 20), rawSize: Self.u32(bytes, s + 16))
            let loaded = UInt64(min(section.rawSize, section.virtualSize == 0 ? section.rawSize : section.virtualSize))
            guard UInt64(section.virtualAddress) + max(UInt64(section.virtualSize), loaded) <= UInt64(size) else {
                throw .malformed("section \(name) outside the image")
            }
            guard loaded == 0 || UInt64(section.rawOffset) + loaded <= UInt64(bytes.count) else {
                throw .truncated("section \(name) data")
            }
            sections.append(section)
        }
        self.sections = sections
    }

    /// The image laid out in memory at `base`: headers and sections copied,
    /// the rest zero, base relocations applied (DIR64, HIGHLOW, ABSOLUTE).
    public func layout(at base: UInt64) throws(PEError) -> [UInt8] {
        var image = [UInt8](repeating: 0, count: imageSize)
        image.replaceSubrange(0..<sizeOfHeaders, with: file[0..<sizeOfHeaders])
        for s in sections {
            let count = Int(min(s.rawSize, s.virtualSize == 0 ? s.rawSize : s.virtualSize))
            guard count > 0 else { continue }
            let to = Int(s.virtualAddress), from = Int(s.rawOffset)
            image.replaceSubrange(to..<to + count, with: file[from..<from + count])
        }
        let delta = base &- preferredBase
        guard let (rva, length) = relocations, delta != 0 else { return image }
        var block = Int(rva)
        let end = Int(rva) + Int(length)
        while block + 8 <= end {
            let page = Int(Self.u32(image, block))
            let blockSize = Int(Self.u32(image, block + 4))
            guard blockSize >= 8, block + blockSize <= end else { throw .relocation("block at 0x\(String(block, radix: 16)) has size \(blockSize)") }
            var entry = block + 8
            while entry + 2 <= block + blockSize {
                let e = Self.u16(image, entry)
                entry += 2
                let kind = e >> 12
                let at = page + Int(e & 0xFFF)
                switch kind {
                case 0:  // IMAGE_REL_BASED_ABSOLUTE: padding
                    break
                case 3:  // HIGHLOW
                    guard at >= 0, at + 4 <= imageSize else { throw .relocation("HIGHLOW at 0x\(String(at, radix: 16)) outside the image") }
                    Self.put32(&image, at, Self.u32(image, at) &+ UInt32(truncatingIfNeeded: delta))
                case 10:  // DIR64
                    guard at >= 0, at + 8 <= imageSize else { throw .relocation("DIR64 at 0x\(String(at, radix: 16)) outside the image") }
                    Self.put64(&image, at, Self.u64(image, at) &+ delta)
                default:
                    throw .relocation("type \(kind) is not supported")
                }
            }
            block += blockSize
        }
        return image
    }

    // MARK: Little-endian fields (callers have checked the bounds)

    static func u16(_ b: [UInt8], _ o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
    static func u32(_ b: [UInt8], _ o: Int) -> UInt32 { UInt32(u16(b, o)) | UInt32(u16(b, o + 2)) << 16 }
    static func u64(_ b: [UInt8], _ o: Int) -> UInt64 { UInt64(u32(b, o)) | UInt64(u32(b, o + 4)) << 32 }
    static func put32(_ b: inout [UInt8], _ o: Int, _ v: UInt32) {
        for i in 0..<4 { b[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }
    static func put64(_ b: inout [UInt8], _ o: Int, _ v: UInt64) {
        for i in 0..<8 { b[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
    }
}
