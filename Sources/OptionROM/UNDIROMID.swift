/// The UNDI ROM ID structure ("UNDI", PXE Specification 2.1 §4.4.1),
/// pointed to by the word at 16h of a PXE option ROM. It tells a BIOS (or
/// a loader) where the UNDI loader is and how much memory the UNDI needs.
public struct UNDIROMID: Equatable, Sendable {
    enum Field {
        /// "UNDI" signature.
        static let signature = 0x00
        /// StructLength: bytes in this structure.
        static let length = 0x04
        /// StructCksum: the structure's bytes sum to 0.
        static let checksum = 0x05
        /// StructRev (0).
        static let revision = 0x06
        /// UNDIRev: revision of the UNDI API, 3 bytes (build, minor, major).
        static let undiRevision = 0x07
        /// UNDILoader: offset of the loader routine in the ROM.
        static let loader = 0x0A
        /// StackSize: bytes of stack the UNDI needs.
        static let stackSize = 0x0C
        /// DataSize: bytes of data segment the UNDI needs.
        static let dataSize = 0x0E
        /// CodeSize: bytes of code segment the UNDI needs.
        static let codeSize = 0x10
        /// BusType: "ISAR", "EISA", "PCIR" or "PCCR".
        static let busType = 0x12
        static let minimumLength = 0x16
    }

    public let offset: Int
    public let length: Int
    public let checksumOK: Bool
    public let revision: UInt8
    /// UNDI API revision as major.minor.build.
    public let undiRevision: (major: UInt8, minor: UInt8, build: UInt8)
    public let loader: UInt16
    public let stackSize: UInt16
    public let dataSize: UInt16
    public let codeSize: UInt16
    public let busType: String

    init(_ r: ROMBytes, at o: Int) throws(ROMError) {
        try r.check(o, Field.minimumLength, "UNDI ROM ID")
        offset = o
        length = Int(r.u8(o + Field.length))
        checksumOK = length > 0 && r.contains(o, length) && r.sum(o, length) == 0
        revision = r.u8(o + Field.revision)
        undiRevision = (r.u8(o + Field.undiRevision + 2), r.u8(o + Field.undiRevision + 1), r.u8(o + Field.undiRevision))
        loader = r.u16(o + Field.loader)
        stackSize = r.u16(o + Field.stackSize)
        dataSize = r.u16(o + Field.dataSize)
        codeSize = r.u16(o + Field.codeSize)
        busType = String(decoding: (0..<4).map { r.u8(o + Field.busType + $0) }, as: UTF8.self)
        if loader != 0 { try r.check(Int(loader), 1, "UNDI loader") }
    }

    static func sum(_ r: ROMBytes, at o: Int) -> UInt8 { r.sum(o, Int(r.u8(o + Field.length))) }

    public static func == (a: UNDIROMID, b: UNDIROMID) -> Bool {
        a.offset == b.offset && a.length == b.length && a.loader == b.loader && a.busType == b.busType
            && a.undiRevision == b.undiRevision
    }
}
