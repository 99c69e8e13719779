import Board
import Machine
import NICCore
import XCTest

/// The POST Memory Manager: found by scanning the F segment for $PMM,
/// called far with its arguments on the stack.
final class PMMTests: XCTestCase {
    typealias H = MachineHarness

    /// $PMM sits on a 16-byte boundary in F0000h-FFFFFh and its 16 bytes sum to 0.
    func testPMMStructureIsValid() throws {
        let m = try H.machine()
        let f = try m.board.memory.readBytes(at: 0xF_0000, count: 0x1_0000)
        let at = try XCTUnwrap(stride(from: 0, to: f.count, by: 16).first { f[$0..<($0 + 4)].elementsEqual("$PMM".utf8) })
        XCTAssertEqual(f[at + 5], 0x10)
        XCTAssertEqual(f[at..<(at + 16)].reduce(0, &+), 0)
    }

    /// pmmAllocate(100h paragraphs, handle "TEST", extended) returns 1 MiB
    /// in DX:AX; pmmFind("TEST") returns the same block.
    ///
    ///     scan F000:0000 for "$PMM"; entry = [es:di+7]
    ///     push 2; push "TEST"; push 100h; push 0; lcall entry; add sp,12; mov si,ax; mov di,dx
    ///     push "TEST"; push 1; lcall entry; add sp,6; lret
    func testAllocateAndFindByHandle() throws {
        let m = try H.machine()
        try H.run(m, [
            0xB8, 0x00, 0xF0, 0x8E, 0xC0, 0x31, 0xFF, 0x26, 0x66, 0x81, 0x3D, 0x24, 0x50, 0x4D, 0x4D, 0x74,
            0x08, 0x83, 0xC7, 0x10, 0x75, 0xF1, 0x31, 0xC0, 0xCB, 0x26, 0x66, 0x8B, 0x45, 0x07, 0x66, 0xA3,
            0x4D, 0x7C, 0x6A, 0x02, 0x66, 0x68, 0x54, 0x45, 0x53, 0x54, 0x66, 0x68, 0x00, 0x01, 0x00, 0x00,
            0x6A, 0x00, 0xFF, 0x1E, 0x4D, 0x7C, 0x83, 0xC4, 0x0C, 0x89, 0xC6, 0x89, 0xD7, 0x66, 0x68, 0x54,
            0x45, 0x53, 0x54, 0x6A, 0x01, 0xFF, 0x1E, 0x4D, 0x7C, 0x83, 0xC4, 0x06, 0xCB, 0x00, 0x00, 0x00,
            0x00,
        ])
        let allocated = (m[.edi] & 0xFFFF) << 16 | (m[.esi] & 0xFFFF)
        let found = (m[.edx] & 0xFFFF) << 16 | (m[.eax] & 0xFFFF)
        XCTAssertEqual(allocated, 0x10_0000)
        XCTAssertEqual(found, allocated)
    }
}
