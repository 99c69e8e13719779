import Machine
import XCTest

/// The PE32+ loader: headers, sections and base relocations of
/// hand-built images, and every malformed field a file controls ending in
/// a `PEError` rather than a trap.
final class UEFIPEImageTests: XCTestCase {
    func testParsesHeadersAndSections() throws {
        let pe = try PEImage(bytes: UEFITestImage.hello("hi").bytes)
        XCTAssertEqual(pe.subsystem, 10)
        XCTAssertTrue(pe.isApplication)
        XCTAssertEqual(pe.preferredBase, 0x40_0000)
        XCTAssertEqual(pe.imageSize, 0x3000)
        XCTAssertEqual(pe.entryPoint, 0x1000)
        XCTAssertEqual(pe.sections.map(\.name), [".text", ".reloc"])
        XCTAssertEqual(pe.relocations?.rva, 0x2000)
    }

    /// DIR64: the loader adds (base - ImageBase) to each 64-bit field.
    func testLayoutAppliesDIR64Relocations() throws {
        let image = UEFITestImage.hello("hi")
        let pe = try PEImage(bytes: image.bytes)
        let base: UInt64 = 0x123_4000
        let laid = try pe.layout(at: base)
        let at = UEFITestImage.textRVA + image.dir64[0]
        let value = laid[at..<at + 8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        XCTAssertEqual(value, base + UInt64(UEFITestImage.textRVA + image.dir64[0] + 8))
        // Headers are copied, the gap between sections is zero.
        XCTAssertEqual(Array(laid[0..<2]), [0x4D, 0x5A])
        XCTAssertEqual(laid[0x1800], 0)
    }

    func testLayoutAtThePreferredBaseChangesNothing() throws {
        let image = UEFITestImage.hello("hi")
        let laid = try PEImage(bytes: image.bytes).layout(at: image.preferredBase)
        XCTAssertEqual(Array(laid[0x1000..<0x1000 + image.code.count]), image.code)
    }

    func testRejectsOtherMachinesAndFormats() {
        var i386 = UEFITestImage.hello("x")
        i386.machine = 0x14C
        XCTAssertThrowsError(try PEImage(bytes: i386.bytes)) { XCTAssertEqual($0 as? PEError, .machine(0x14C)) }
        var pe32 = UEFITestImage.hello("x").bytes
        pe32[0x58] = 0x0B; pe32[0x59] = 0x01  // optional header magic 10Bh (PE32)
        XCTAssertThrowsError(try PEImage(bytes: pe32)) { guard case .notPE = $0 as? PEError else { return XCTFail("\($0)") } }
        var noMZ = UEFITestImage.hello("x").bytes
        noMZ[0] = 0
        XCTAssertThrowsError(try PEImage(bytes: noMZ)) { guard case .notPE = $0 as? PEError else { return XCTFail("\($0)") } }
        XCTAssertThrowsError(try PEImage(bytes: [0x4D, 0x5A]))
    }

    func testRejectsFieldsOutsideTheFileOrImage() {
        func patched(_ offset: Int, _ value: UInt32) -> [UInt8] {
            var b = UEFITestImage.hello("x").bytes
            for i in 0..<4 { b[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
            return b
        }
        let opt = 0x58, text = 0x58 + 240
        let cases: [(String, [UInt8])] = [
            ("e_lfanew past the end", patched(0x3C, 0xFFFF_FF00)),
            ("entry point outside the image", patched(opt + 16, 0x3000)),
            ("SizeOfImage beyond the limit", patched(opt + 56, 0xFFFF_F000)),
            ("SizeOfHeaders past the file", patched(opt + 60, 0x2000)),
            ("section alignment not a power of two", patched(opt + 32, 0x1800)),
            ("section outside the image", patched(text + 12, 0x2FFF)),
            ("section data past the file", patched(text + 20, 0x5FF)),
            ("relocations outside the image", patched(opt + 112 + 40, 0x2FFC)),
        ]
        for (what, bytes) in cases {
            XCTAssertThrowsError(try PEImage(bytes: bytes), what)
        }
    }

    func testRejectsBadRelocationBlocks() throws {
        // Block size 4 (under the 8-byte header) and an unsupported type (HIGHADJ, 4).
        var tiny = UEFITestImage.hello("x").bytes
        tiny[0x404] = 4; tiny[0x405] = 0
        XCTAssertThrowsError(try PEImage(bytes: tiny).layout(at: 0x10_0000)) { guard case .relocation = $0 as? PEError else { return XCTFail("\($0)") } }
        var type4 = UEFITestImage.hello("x").bytes
        type4[0x409] = 0x40
        XCTAssertThrowsError(try PEImage(bytes: type4).layout(at: 0x10_0000)) { guard case .relocation = $0 as? PEError else { return XCTFail("\($0)") } }
        // A DIR64 whose target runs past SizeOfImage: page 2FF8h + offset FFFh.
        var outside = UEFITestImage.hello("x").bytes
        outside[0x400] = 0xF8; outside[0x401] = 0x2F
        outside[0x408] = 0xFF; outside[0x409] = 0xAF
        XCTAssertThrowsError(try PEImage(bytes: outside).layout(at: 0x10_0000)) { guard case .relocation = $0 as? PEError else { return XCTFail("\($0)") } }
    }

    /// Every prefix of a valid image and every single-byte corruption of
    /// its headers either loads or throws; none traps.
    func testTruncatedAndCorruptedImagesNeverTrap() {
        let bytes = UEFITestImage.hello("x").bytes
        for n in 0..<bytes.count {
            if let pe = try? PEImage(bytes: Array(bytes.prefix(n))) { _ = try? pe.layout(at: 0x20_0000) }
        }
        for offset in 0..<0x200 {
            for value: UInt8 in [0x00, 0x7F, 0xFF] {
                var b = bytes
                b[offset] = value
                if let pe = try? PEImage(bytes: b) { _ = try? pe.layout(at: 0x20_0000) }
            }
        }
    }
}
