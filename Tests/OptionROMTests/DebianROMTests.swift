import Foundation
import OptionROM
import XCTest

/// The parser against every ROM Debian ships in ipxe-qemu and ipxe (real
/// iPXE builds: legacy PXE images, and legacy+EFI combined images).
final class DebianROMTests: XCTestCase {
    static let directories = ["/usr/lib/ipxe/qemu", "/usr/lib/ipxe"]

    /// Every .rom file in the Debian directories; fails if the packages are missing.
    static func romFiles() throws -> [String] {
        var files: [String] = []
        for dir in directories {
            let names = try FileManager.default.contentsOfDirectory(atPath: dir)
            files += names.filter { $0.hasSuffix(".rom") }.sorted().map { "\(dir)/\($0)" }
        }
        return files
    }

    func rom(_ name: String) throws -> ExpansionROM {
        let path = "/usr/lib/ipxe/qemu/\(name)"
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path), "\(path) missing: apt install ipxe-qemu")
        return try ExpansionROM(bytes: [UInt8](data))
    }

    /// Every Debian ROM parses with no problem: checksums, $PnP and UNDI
    /// checksums, and the last-image indicator all hold.
    func testEveryDebianROMParsesWithoutProblems() throws {
        let files = try Self.romFiles()
        XCTAssertGreaterThanOrEqual(files.count, 16, "ipxe-qemu and ipxe must be installed (scripts/setup.sh)")
        for path in files {
            let data = try XCTUnwrap(FileManager.default.contents(atPath: path), path)
            let rom = try ExpansionROM(bytes: [UInt8](data))
            XCTAssertEqual(rom.issues, [], path)
            XCTAssertTrue(rom.images.last?.pcir.isLastImage ?? false, path)
            XCTAssertNotNil(rom.legacyImage, path)
        }
    }

    /// PCIR of pxe-rtl8139.rom: vendor 10EC device 8139, class 020000
    /// (Ethernet controller), code type 0 (x86), one image.
    func testRTL8139ROMIdentity() throws {
        let rom = try rom("pxe-rtl8139.rom")
        XCTAssertEqual(rom.images.count, 1)
        let p = try XCTUnwrap(rom.images.first).pcir
        XCTAssertEqual(p.vendorID, 0x10EC)
        XCTAssertEqual(p.deviceID, 0x8139)
        XCTAssertEqual(p.classCode, 0x02_00_00)
        XCTAssertEqual(p.codeType, .x86)
        XCTAssertTrue(p.isLastImage)
    }

    /// A PXE ROM boots through the $PnP Bootstrap Entry Vector (network
    /// boot), not a Boot Connection Vector (PnP BIOS spec §3.2, PXE spec §4.4).
    func testPXEROMHasBEVInsideTheImage() throws {
        for name in ["pxe-rtl8139.rom", "pxe-ne2k_pci.rom", "pxe-virtio.rom"] {
            let rom = try rom(name)
            let image = try XCTUnwrap(rom.legacyImage)
            let bev = try XCTUnwrap(image.bev, name)
            XCTAssertLessThan(Int(bev), image.initializationSize, name)
            XCTAssertEqual(image.pnpHeaders.first?.deviceType, 0x02_00_00, name)
            XCTAssertNotNil(image.entryOffset, name)
        }
    }

    /// The UNDI ROM ID of a PCI PXE ROM names bus type "PCIR" and a loader,
    /// and its bytes sum to zero (PXE spec §4.4.1).
    func testPXEROMHasUNDIROMID() throws {
        let image = try XCTUnwrap(try rom("pxe-ne2k_pci.rom").legacyImage)
        let undi = try XCTUnwrap(image.undi)
        XCTAssertEqual(undi.busType, "PCIR")
        XCTAssertTrue(undi.checksumOK)
        XCTAssertNotEqual(undi.loader, 0)
        XCTAssertEqual(undi.undiRevision.major, 2)
        // Debian's ne2k_pci build leaves the PCIR IDs zero (QEMU patches
        // them to the device's own when it loads a romfile).
        XCTAssertEqual(image.pcir.vendorID, 0)
        XCTAssertEqual(image.pcir.classCode, 0x02_00_00)
    }

    /// efi-virtio.rom chains a legacy x86 image and an EFI image (code type 3)
    /// with signature 0EF1h; only the EFI image has the last-image bit.
    func testCombinedROMHasLegacyThenEFIImage() throws {
        let rom = try rom("efi-virtio.rom")
        XCTAssertEqual(rom.images.count, 2)
        XCTAssertEqual(rom.images[0].pcir.codeType, .x86)
        XCTAssertFalse(rom.images[0].pcir.isLastImage)
        XCTAssertEqual(rom.images[1].pcir.codeType, .efi)
        XCTAssertTrue(rom.images[1].pcir.isLastImage)
        XCTAssertEqual(rom.images[1].offset, rom.images[0].length)
        let efi = try XCTUnwrap(rom.images[1].efi)
        XCTAssertEqual(efi.machineName, "x64")
        XCTAssertEqual(efi.subsystemName, "boot service driver")
        XCTAssertEqual(rom.images[1].pcir.vendorID, 0x1AF4)
    }

    /// The report names the structures a user looks for.
    func testReportShowsStructure() throws {
        let text = try rom("pxe-virtio.rom").report.joined(separator: "\n")
        for needle in ["vendor 1af4 device 1041", "BEV 0x", "UNDI ROM ID", "checksum ok", "last image"] {
            XCTAssertTrue(text.contains(needle), "missing \(needle) in\n\(text)")
        }
    }
}
