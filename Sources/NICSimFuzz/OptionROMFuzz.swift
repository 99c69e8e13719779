import OptionROM

/// The PCI expansion ROM parser, fed the input as a ROM file: images,
/// PCI data structures, $PnP headers, UNDI ROM IDs and EFI headers, then
/// everything `nicsim rom inspect` derives from them.
enum OptionROMFuzz {
    static func run(_ input: inout FuzzInput) {
        guard let rom = try? ExpansionROM(bytes: Array(input.rest())) else { return }
        precondition(rom.images.count <= ExpansionROM.maxImages, "more images than the parser allows")
        _ = rom.report
        _ = rom.issues
        if let legacy = rom.legacyBytes { precondition(legacy.count <= rom.bytes.count, "legacy image past the end of the file") }
        for image in rom.images {
            precondition(image.offset + image.length <= rom.bytes.count, "an image past the end of the file")
            _ = (image.bev, image.bcv, image.entryOffset, image.undi, image.efi)
        }
    }
}
