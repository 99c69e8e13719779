import NICCore
import XCTest

/// SHA-256 against the FIPS 180-4 examples (NIST CSVP "SHA256ShortMsg" and
/// the classic one-million-"a" vector), and streaming in any split.
final class SHA256Tests: XCTestCase {
    func testEmptyMessage() {
        XCTAssertEqual(SHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// FIPS 180-4 example B.1: "abc".
    func testOneBlockMessage() {
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// Example B.2: 448 bits, so the padding needs a second block.
    func testTwoBlockMessage() {
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    /// Example B.3: one million "a", fed in 1432-byte pieces (a TFTP block size).
    func testMillionAInTFTPSizedPieces() {
        var hash = SHA256()
        let piece = [UInt8](repeating: 0x61, count: 1432)
        var left = 1_000_000
        while left > 0 {
            let n = min(left, piece.count)
            piece.withUnsafeBytes { hash.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            left -= n
        }
        XCTAssertEqual(hash.length, 1_000_000)
        XCTAssertEqual(hash.finalize(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Every way of splitting a message around the block and padding
    /// boundaries (lengths 0...130, cut at every offset) gives the same digest.
    func testStreamingMatchesOneShotAtEverySplit() {
        var rng = SeededRandom(seed: 256)
        for length in 0...130 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let whole = SHA256.hex(bytes)
            for cut in 0...length {
                var hash = SHA256()
                hash.update(Array(bytes[..<cut]))
                hash.update(Array(bytes[cut...]))
                XCTAssertEqual(hash.finalize(), whole, "length \(length) cut at \(cut)")
            }
        }
    }
}
