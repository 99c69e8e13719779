import NICCore
import OptionROM
import XCTest

/// Hostile and broken images: every one ends in a clear error or issue,
/// never a trap or an endless walk.
final class HostileROMTests: XCTestCase {
    /// A minimal valid legacy image of `blocks` 512-byte blocks: 55AA, size,
    /// JMP, PCIR at 0x20, $PnP at 0x40 with a BEV, fixed checksum.
    static func image(blocks: Int = 1, last: Bool = true, codeType: UInt8 = 0) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: blocks * 512)
        b[0] = 0x55; b[1] = 0xAA; b[2] = UInt8(blocks)
        b[3] = 0xEB; b[4] = 0x7B  // JMP short to 0x80
        b[0x80] = 0xCB  // RETF
        b[0x18] = 0x20; b[0x1A] = 0x40
        b.replaceSubrange(0x20..<0x24, with: Array("PCIR".utf8))
        b[0x24] = 0xEC; b[0x25] = 0x10; b[0x26] = 0x39; b[0x27] = 0x81
        b[0x2A] = 0x18; b[0x2F] = 0x02
        b[0x30] = UInt8(blocks); b[0x34] = codeType; b[0x35] = last ? 0x80 : 0
        b.replaceSubrange(0x40..<0x44, with: Array("$PnP".utf8))
        b[0x44] = 1; b[0x45] = 2  // revision 1, 32 bytes
        b[0x52] = 0x02  // device type network
        b[0x5A] = 0x80  // BEV 0x0080
        fix(&b, pnp: 0x40, image: 0)
        return b
    }

    /// Recomputes the $PnP checksum (byte 9) and the image checksum (last byte).
    static func fix(_ b: inout [UInt8], pnp: Int?, image: Int) {
        if let pnp {
            b[pnp + 9] = 0
            let len = Int(b[pnp + 5]) * 16
            b[pnp + 9] = 0 &- b[pnp..<(pnp + len)].reduce(0, &+)
        }
        let len = Int(b[image + 2]) * 512
        b[image + len - 1] = 0
        b[image + len - 1] = 0 &- b[image..<(image + len)].reduce(0, &+)
    }

    func parse(_ b: [UInt8]) -> Result<ExpansionROM, ROMError> {
        do throws(ROMError) { return .success(try ExpansionROM(bytes: b)) } catch { return .failure(error) }
    }

    func testMinimalImageIsValid() throws {
        let rom = try ExpansionROM(bytes: Self.image())
        XCTAssertEqual(rom.issues, [])
        XCTAssertEqual(rom.images.first?.bev, 0x80)
        XCTAssertEqual(rom.images.first?.entryOffset, 0x80)
    }

    /// A file shorter than the header's pointer fields is refused by size.
    func testEmptyAndTinyFilesAreTooShort() {
        XCTAssertEqual(parse([]), .failure(.tooShort(offset: 0, available: 0)))
        XCTAssertEqual(parse([0x55, 0xAA, 1]), .failure(.tooShort(offset: 0, available: 3)))
    }

    /// A ROM starts with 55h AAh (PCI Firmware 3.0 §5.1.1).
    func testWrongSignatureIsRefused() {
        var b = Self.image()
        b[1] = 0xAB
        XCTAssertEqual(parse(b), .failure(.badSignature(offset: 0, found: 0xAB55)))
    }

    /// A PCIR pointer past the image end is an error naming the pointer.
    func testPCIRPointerPastEndIsRefused() {
        var b = Self.image()
        b[0x18] = 0xFC; b[0x19] = 0x01
        guard case .failure(.pointerPastEnd(_, "PCIR", 0x1FC, _)) = parse(b) else {
            return XCTFail("\(parse(b))")
        }
    }

    func testPCIRWithoutSignatureIsRefused() {
        var b = Self.image()
        b[0x20] = 0x58
        XCTAssertEqual(parse(b), .failure(.missingPCIR(offset: 0, pointer: 0x20)))
    }

    /// A PCIR image length longer than the file is refused.
    func testImageLongerThanFileIsRefused() {
        var b = Self.image()
        b[0x30] = 9
        XCTAssertEqual(parse(b), .failure(.imagePastEnd(offset: 0, length: 9 * 512, fileSize: 512)))
    }

    func testZeroLengthIsRefused() {
        var b = Self.image()
        b[0x30] = 0
        XCTAssertEqual(parse(b), .failure(.zeroLength(offset: 0)))
        b = Self.image()
        b[2] = 0
        XCTAssertEqual(parse(b), .failure(.zeroLength(offset: 0)))
    }

    /// The bytes of a legacy image must sum to 0 mod 256; a BIOS skips one
    /// that does not. We report the sum.
    func testBadChecksumIsReported() throws {
        var b = Self.image()
        b[0x100] &+= 1
        let rom = try ExpansionROM(bytes: b)
        XCTAssertEqual(rom.issues, [.imageChecksum(offset: 0, sum: 1)])
    }

    /// A $PnP BEV pointing past the image is an error.
    func testBEVPastEndIsRefused() {
        var b = Self.image()
        b[0x5A] = 0x00; b[0x5B] = 0x30
        Self.fix(&b, pnp: 0x40, image: 0)
        guard case .failure(.pointerPastEnd(_, "$PnP BEV", 0x3000, 512)) = parse(b) else {
            return XCTFail("\(parse(b))")
        }
    }

    /// A $PnP header whose next pointer leads back to itself is walked a
    /// bounded number of times.
    func testPnPHeaderLoopIsBounded() throws {
        var b = Self.image()
        b[0x46] = 0x40
        Self.fix(&b, pnp: 0x40, image: 0)
        let rom = try ExpansionROM(bytes: b)
        XCTAssertEqual(rom.images.first?.pnpHeaders.count, 8)
    }

    /// The $PnP header's bytes must sum to 0 (PnP BIOS 1.0A §3.2).
    func testPnPChecksumIsReported() throws {
        var b = Self.image()
        b[0x4A] = 0x42
        Self.fix(&b, pnp: nil, image: 0)
        let rom = try ExpansionROM(bytes: b)
        XCTAssertEqual(rom.issues, [.pnpChecksum(offset: 0, sum: 0x42)])
    }

    /// Images chain by PCIR image length until the last-image indicator.
    func testTwoImagesChain() throws {
        let rom = try ExpansionROM(bytes: Self.image(last: false) + Self.image(blocks: 2))
        XCTAssertEqual(rom.images.map(\.offset), [0, 512])
        XCTAssertEqual(rom.issues, [])
    }

    /// An endless chain of images without the indicator stops at the limit.
    func testChainWithoutLastIndicatorIsBounded() {
        let b = (0..<20).flatMap { _ in Self.image(last: false) }
        XCTAssertEqual(parse(b), .failure(.tooManyImages(count: ExpansionROM.maxImages)))
    }

    /// Random damage to a real ROM never traps: it parses or throws.
    func testRandomDamageNeverTraps() throws {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: "/usr/lib/ipxe/qemu/efi-rtl8139.rom"),
                                 "apt install ipxe-qemu")
        let original = [UInt8](data)
        var rng = SeededRandom(seed: 10)
        var failures = 0
        for _ in 0..<300 {
            var b = original
            for _ in 0..<8 {
                // Damage the places parsers read: headers, PCIR, $PnP, UNDI.
                let region = Int(rng.next() % 4)
                let at = region == 0 ? Int(rng.next() % 0x100)
                    : region == 1 ? 0x12800 + Int(rng.next() % 0x100)
                    : Int(rng.next() % UInt64(b.count))
                b[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            if Int(rng.next() % 4) == 0 { b.removeLast(Int(rng.next() % UInt64(b.count))) }
            if case .failure = parse(b) { failures += 1 }
        }
        XCTAssertGreaterThan(failures, 0)
    }
}
