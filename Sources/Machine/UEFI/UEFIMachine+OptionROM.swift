import Board
import OptionROM

/// UEFI option ROMs: the EFI image inside a card's PCI expansion ROM
/// (code type 3), loaded as a boot service driver and bound to its card
/// through the driver model, as PC firmware does during its device
/// connection phase.
extension UEFIMachine {
    /// Installs the card at `slot` as a PCI handle (root bridge, PCI I/O)
    /// with no firmware driver bound, for a driver to take; returns the handle.
    public func addPCIDevice(slot: PCIAddress) -> UInt64 {
        addPCIHandle(slot: slot)
    }

    /// The PE32+ image of the first x64 EFI image in `rom`.
    public static func efiDriverImage(in rom: ExpansionROM) throws(MachineError) -> [UInt8] {
        guard let image = rom.images.first(where: { $0.efi != nil && $0.efi?.machineType == PEImage.machineX64 }), let efi = image.efi else {
            throw .optionROM("the ROM has no x64 EFI image")
        }
        guard !efi.compressed else { throw .optionROM("the ROM's EFI image is compressed (EFI compression is not supported)") }
        let start = image.offset + efi.imageOffset
        let end = min(image.offset + min(efi.initializationSize, image.length), rom.bytes.count)
        guard start < end else { throw .optionROM("the ROM's EFI image is empty") }
        return Array(rom.bytes[start..<end])
    }

    /// Loads the EFI driver in `rom` for the card whose PCI handle is
    /// `device` and starts it; run the machine to let its entry point
    /// install its driver binding, then `connect(controller:)` the card.
    public func loadOptionROMDriver(_ rom: ExpansionROM, device: UInt64) throws(MachineError) -> UInt64 {
        let bytes = try Self.efiDriverImage(in: rom)
        let handle = try loadImage(bytes, device: device, filePath: nil)
        guard let image = images[handle], !image.isApplication else { throw .optionROM("the ROM's EFI image is not a driver") }
        if let pci = interface(device, .pciIO) {
            // PCI I/O's RomSize and RomImage: the ROM as the firmware read it.
            if let copy = memoryMap.allocate(pages: UInt64(rom.bytes.count + 0xFFF) >> 12, type: .bootServicesData, maximum: 0xFFFF_FFFF) {
                try? memory.write(at: copy, bytes: rom.bytes)
                w64(pci + 144, UInt64(rom.bytes.count))
                w64(pci + 152, copy)
            }
        }
        return handle
    }
}
