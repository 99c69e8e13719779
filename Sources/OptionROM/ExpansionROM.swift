/// A PCI expansion ROM file: one or more images chained by their PCIR
/// image lengths, the last one flagged by the PCIR indicator (PCI Firmware
/// Specification 3.0 §5.1). Parsing never traps: every length and pointer
/// is checked against the bytes that are really there.
public struct ExpansionROM: Equatable, Sendable {
    /// The whole file.
    public let bytes: [UInt8]
    public let images: [ROMImage]

    /// Images beyond this are not real; a ROM this long is a loop or garbage.
    public static let maxImages = 16

    /// Parses `bytes`. Throws the first structural error; problems a BIOS
    /// might still tolerate (checksums, missing optional headers) are kept
    /// in each image's `issues`.
    public init(bytes: [UInt8]) throws(ROMError) {
        self.bytes = bytes
        var images: [ROMImage] = []
        var offset = 0
        while true {
            guard images.count < Self.maxImages else { throw .tooManyImages(count: Self.maxImages) }
            let image = try ROMImage(bytes: bytes, at: offset)
            images.append(image)
            if image.pcir.isLastImage { break }
            offset += image.length
            // A ROM whose last image forgot the indicator just ends; padding
            // after it (0xFF or 0x00) is not another image.
            if offset + 2 > bytes.count || bytes[offset] != 0x55 || bytes[offset + 1] != 0xAA { break }
        }
        self.images = images
    }

    /// Every issue of every image.
    public var issues: [ROMIssue] { images.flatMap(\.issues) }

    /// The first legacy x86 image: what a PC BIOS copies to C0000-DFFFF and runs.
    public var legacyImage: ROMImage? { images.first { $0.pcir.codeType == .x86 } }

    /// The bytes a BIOS would shadow for the legacy image (its initialization size).
    public var legacyBytes: ArraySlice<UInt8>? {
        guard let image = legacyImage else { return nil }
        let end = min(image.offset + image.initializationSize, bytes.count)
        return bytes[image.offset..<end]
    }
}
