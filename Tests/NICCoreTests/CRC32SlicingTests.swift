import NICCore
import XCTest

final class CRC32SlicingTests: XCTestCase {
    /// The bit-at-a-time definition of the reflected CRC-32 (polynomial
    /// 0xEDB88320), to check the sliced table against.
    private func reference(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }

    /// The standard check value: CRC-32 of "123456789" is 0xCBF43926.
    func testCheckValue() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
    }

    /// Every length from 0 to 300 (all alignments of the 16-byte slices,
    /// the folded blocks and their tails) and the longest frames agree with
    /// the bitwise definition.
    func testSlicedCRCMatchesBitwiseDefinition() {
        var rng = SeededRandom(seed: 8139)
        for length in Array(0...300) + [1514, 1518, 4096, 9018] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            XCTAssertEqual(CRC32.checksum(bytes), reference(bytes), "length \(length)")
        }
    }

    /// An unaligned start (a frame at an odd offset in a buffer) gives the same CRC.
    func testUnalignedInput() {
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let padded = [0x55] + bytes
        let unaligned = padded.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[1...])) }
        XCTAssertEqual(unaligned, reference(bytes))
    }

    /// Folding (frames of 64 bytes and more, on CPUs with PCLMULQDQ) and
    /// the table agree on every length and start offset, continuing from
    /// any running CRC.
    func testFoldedCRCMatchesTable() {
        var rng = SeededRandom(seed: 8029)
        let buffer = (0..<2100).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        buffer.withUnsafeBytes { all in
            for length in stride(from: 60, through: 2048, by: 7) {
                for offset in 0..<4 {
                    let bytes = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
                    let start = UInt32(truncatingIfNeeded: rng.next())
                    XCTAssertEqual(CRC32.update(start, bytes), CRC32.tableUpdate(start, bytes), "length \(length) at \(offset)")
                }
            }
        }
    }
}
