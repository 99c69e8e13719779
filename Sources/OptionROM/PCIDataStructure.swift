/// The PCI Data Structure ("PCIR", PCI Firmware Specification 3.0 §5.1.2),
/// pointed to by the word at 18h of every image.
public struct PCIDataStructure: Equatable, Sendable {
    /// Offsets inside the structure.
    enum Field {
        /// "PCIR" signature.
        static let signature = 0x00
        /// Vendor Identification.
        static let vendorID = 0x04
        /// Device Identification.
        static let deviceID = 0x06
        /// Device List Pointer (PCI 3.0; reserved before).
        static let deviceListPointer = 0x08
        /// PCI Data Structure Length.
        static let length = 0x0A
        /// PCI Data Structure Revision (0 for PCI 2.x, 3 for PCI 3.0).
        static let revision = 0x0C
        /// Class Code, 3 bytes (interface, sub-class, base class).
        static let classCode = 0x0D
        /// Image Length in 512-byte units.
        static let imageLength = 0x10
        /// Revision Level of the Code/Data.
        static let codeRevision = 0x12
        /// Code Type: 0 x86 PC-AT, 1 Open Firmware, 2 PA-RISC, 3 EFI.
        static let codeType = 0x14
        /// Indicator: bit 7 set on the last image in the ROM.
        static let indicator = 0x15
        /// Maximum Run-time Image Length in 512-byte units (PCI 3.0).
        static let maxRuntimeLength = 0x16
        /// Smallest structure that holds every field through Indicator.
        static let minimumLength = 0x18
    }

    /// The code type byte, named.
    public enum CodeType: Equatable, Sendable, CustomStringConvertible {
        case x86, openFirmware, paRISC, efi, other(UInt8)
        init(_ raw: UInt8) {
            switch raw {
            case 0: self = .x86
            case 1: self = .openFirmware
            case 2: self = .paRISC
            case 3: self = .efi
            default: self = .other(raw)
            }
        }
        public var description: String {
            switch self {
            case .x86: "x86 PC-AT"
            case .openFirmware: "Open Firmware"
            case .paRISC: "PA-RISC"
            case .efi: "EFI"
            case .other(let r): "unknown (\(r))"
            }
        }
    }

    /// Offset of the structure inside its image.
    public let offset: Int
    public let vendorID: UInt16
    public let deviceID: UInt16
    public let deviceListPointer: UInt16
    public let length: Int
    public let revision: UInt8
    public let classCode: UInt32
    /// Image length in bytes (the field times 512).
    public let imageLength: Int
    public let codeRevision: UInt16
    public let codeType: CodeType
    public let isLastImage: Bool
    /// Maximum run-time length in bytes (PCI 3.0 structures; 0 otherwise).
    public let maxRuntimeLength: Int

    init(_ r: ROMBytes, at o: Int) throws(ROMError) {
        try r.check(o, Field.minimumLength, "PCIR")
        guard r.hasTag(o, "PCIR") else { throw .missingPCIR(offset: r.base, pointer: o) }
        offset = o
        vendorID = r.u16(o + Field.vendorID)
        deviceID = r.u16(o + Field.deviceID)
        deviceListPointer = r.u16(o + Field.deviceListPointer)
        length = Int(r.u16(o + Field.length))
        guard length >= Field.minimumLength else { throw .shortPCIR(offset: r.base, length: length) }
        revision = r.u8(o + Field.revision)
        classCode = UInt32(r.u8(o + Field.classCode)) | UInt32(r.u8(o + Field.classCode + 1)) << 8
            | UInt32(r.u8(o + Field.classCode + 2)) << 16
        imageLength = Int(r.u16(o + Field.imageLength)) * 512
        codeRevision = r.u16(o + Field.codeRevision)
        codeType = CodeType(r.u8(o + Field.codeType))
        isLastImage = r.u8(o + Field.indicator) & 0x80 != 0
        maxRuntimeLength = revision >= 3 && length >= 0x18 ? Int(r.u16(o + Field.maxRuntimeLength)) * 512 : 0
    }
}
