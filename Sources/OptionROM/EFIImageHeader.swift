/// The header of an EFI image in a PCI option ROM (UEFI Specification §14.4.2,
/// PCI code type 3): signature 0EF1h, subsystem, machine type, compression,
/// and the offset of the PE/COFF image.
public struct EFIImageHeader: Equatable, Sendable {
    enum Field {
        /// Initialization Size in 512-byte units.
        static let initializationSize = 0x02
        /// EFI Signature, dword 0x00000EF1.
        static let signature = 0x04
        /// EFI Subsystem (10 application, 11 boot service driver, 12 runtime driver).
        static let subsystem = 0x08
        /// EFI Machine Type (014Ch IA-32, 8664h x64, AA64h AArch64).
        static let machineType = 0x0A
        /// Compression Type (0 none, 1 EFI compression).
        static let compression = 0x0C
        /// Offset to the EFI (PE/COFF) image.
        static let imageOffset = 0x16
    }

    public static let signatureValue: UInt32 = 0x0EF1

    public let initializationSize: Int
    public let subsystem: UInt16
    public let machineType: UInt16
    public let compressed: Bool
    public let imageOffset: Int
    /// True when the PE image starts with "MZ" (after decompression it would
    /// be; a compressed image is not checked).
    public let hasPESignature: Bool

    /// Nil when the image does not carry the 0EF1h signature.
    init?(_ r: ROMBytes) throws(ROMError) {
        guard r.u32(Field.signature) == Self.signatureValue else { return nil }
        initializationSize = Int(r.u16(Field.initializationSize)) * 512
        subsystem = r.u16(Field.subsystem)
        machineType = r.u16(Field.machineType)
        compressed = r.u16(Field.compression) != 0
        imageOffset = Int(r.u16(Field.imageOffset))
        try r.check(imageOffset, 2, "EFI image")
        hasPESignature = r.hasTag(imageOffset, "MZ")
    }

    public var machineName: String {
        switch machineType {
        case 0x014C: "IA-32"
        case 0x8664: "x64"
        case 0x0200: "Itanium"
        case 0xAA64: "AArch64"
        case 0x01C2: "ARM"
        case 0x0EBC: "EBC"
        default: "0x" + h(machineType, 4)
        }
    }

    public var subsystemName: String {
        switch subsystem {
        case 10: "application"
        case 11: "boot service driver"
        case 12: "runtime driver"
        default: "\(subsystem)"
        }
    }
}
