import NICCore
import UNDI
import XCTest

@testable import PXE

/// PXENV+ (0x2C bytes) and !PXE (0x58 bytes), as PXE 2.1 lays them out.
final class PXEStructuresTests: XCTestCase {
    let layout = PXELayout()

    func testPXENVPlusIs44BytesWithSignatureVersionAndLength() {
        let b = PXEStructures.pxenv(layout)
        XCTAssertEqual(b.count, 0x2C)
        XCTAssertEqual(Array(b[0..<6]), Array("PXENV+".utf8))
        XCTAssertEqual(b[6], 0x01)  // Version 0x0201, little-endian
        XCTAssertEqual(b[7], 0x02)
        XCTAssertEqual(b[8], 0x2C)
    }

    func testPXENVPlusChecksumMakesTheBytesSumToZero() {
        let b = PXEStructures.pxenv(layout)
        XCTAssertEqual(b.reduce(0, &+), 0)
        XCTAssertTrue(PXEStructures.checksumIsValid(b))
    }

    func testPXENVPlusPointsAtTheEntryAndTheBangPXEStructure() {
        let b = PXEStructures.pxenv(layout)
        func u16(_ o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
        // RMEntry at 0x0A (offset, segment), PXEPtr at 0x28.
        XCTAssertEqual(u16(0x0A), layout.pxenvEntry.offset)
        XCTAssertEqual(u16(0x0C), layout.pxenvEntry.segment)
        XCTAssertEqual(u16(0x28), layout.bangPXEAddress.offset)
        XCTAssertEqual(u16(0x2A), layout.bangPXEAddress.segment)
        XCTAssertEqual(u16(0x20), layout.undiDataSegment)
        XCTAssertEqual(u16(0x22), PXELayout.undiDataSize)
        XCTAssertEqual(u16(0x24), layout.undiCodeSegment)
        XCTAssertEqual(u16(0x18), layout.baseCodeSegment)
        XCTAssertEqual(u16(0x1C), layout.baseDataSegment)
        XCTAssertEqual(u16(0x14), layout.stackSegment)
    }

    func testBangPXEIs88BytesWithSignatureRevisionAndChecksum() {
        let b = PXEStructures.bangPXE(layout)
        XCTAssertEqual(b.count, 0x58)
        XCTAssertEqual(Array(b[0..<4]), Array("!PXE".utf8))
        XCTAssertEqual(b[4], 0x58)
        XCTAssertEqual(b[6], 0)  // StructRev 0 for PXE 2.1
        XCTAssertEqual(b.reduce(0, &+), 0)
    }

    func testBangPXEHasSevenSegmentDescriptorsWithPhysicalAddresses() {
        let b = PXEStructures.bangPXE(layout)
        func u16(_ o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
        func u32(_ o: Int) -> UInt32 { UInt32(u16(o)) | UInt32(u16(o + 2)) << 16 }
        XCTAssertEqual(b[0x1D], 7)
        // Stack, UNDIData, UNDICode, UNDICodeWrite, BC_Data, BC_Code, BC_CodeWrite.
        let expected: [(UInt16, UInt16)] = [
            (layout.stackSegment, PXELayout.stackSize), (layout.undiDataSegment, PXELayout.undiDataSize),
            (layout.undiCodeSegment, PXELayout.undiCodeSize), (layout.undiCodeSegment, PXELayout.undiCodeSize),
            (layout.baseDataSegment, PXELayout.baseDataSize), (layout.baseCodeSegment, PXELayout.baseCodeSize),
            (layout.baseCodeSegment, PXELayout.baseCodeSize),
        ]
        for (i, (segment, size)) in expected.enumerated() {
            let at = 0x20 + 8 * i
            XCTAssertEqual(u16(at), segment, "descriptor \(i)")
            XCTAssertEqual(u32(at + 2), UInt32(segment) << 4, "descriptor \(i)")
            XCTAssertEqual(u16(at + 6), size, "descriptor \(i)")
        }
        XCTAssertEqual(u16(0x10), layout.bangPXEEntry.offset)
        XCTAssertEqual(u16(0x12), layout.bangPXEEntry.segment)
    }

    func testInstallPlacesBothStructuresInGuestMemory() throws {
        let memory = FlatMemory(size: 1 << 20)
        try PXEStructures.install(layout, in: memory)
        XCTAssertEqual(try memory.readBytes(at: layout.pxenvAddress.linear, count: 0x2C), PXEStructures.pxenv(layout))
        XCTAssertEqual(try memory.readBytes(at: layout.bangPXEAddress.linear, count: 0x58), PXEStructures.bangPXE(layout))
    }

    func testAnotherBaseSegmentMovesEverythingAndKeepsChecksumsValid() {
        let moved = PXELayout(baseSegment: 0x8000)
        XCTAssertEqual(moved.undiCodeSegment, 0x8000)
        XCTAssertTrue(PXEStructures.checksumIsValid(PXEStructures.pxenv(moved)))
        XCTAssertTrue(PXEStructures.checksumIsValid(PXEStructures.bangPXE(moved)))
        XCTAssertNotEqual(PXEStructures.pxenv(moved), PXEStructures.pxenv(layout))
    }

    func testRealModeAddressIsSegmentTimesSixteenPlusOffset() {
        XCTAssertEqual(RealModeAddress(segment: 0x9040, offset: 0x0030).linear, 0x90430)
        XCTAssertEqual(RealModeAddress(segment: 0xFFFF, offset: 0xFFFF).linear, 0x10FFEF)
        XCTAssertEqual(RealModeAddress(packed: 0x1234_5678), RealModeAddress(segment: 0x1234, offset: 0x5678))
    }
}

/// How an NBP finds the API: INT 1Ah AX=5650h and the !PXE pointer at SS:SP+4.
final class PXEEntryTests: XCTestCase {
    func testInstallationCheckAnswersVNWithPXENVPlusInESBX() throws {
        let rig = PXETestRig()
        let check = rig.api.installationCheck()
        XCTAssertEqual(check.ax, 0x564E)
        XCTAssertFalse(check.carry)
        let at = RealModeAddress(segment: check.es, offset: check.bx)
        XCTAssertEqual(try rig.memory.readBytes(at: at.linear, count: 6), Array("PXENV+".utf8))
    }

    func testNBPEntryStackHoldsTheBangPXEPointerAtSPPlus4() throws {
        let rig = PXETestRig()
        let stack = RealModeAddress(segment: 0x0000, offset: 0x7BF8)
        _ = try rig.api.prepareNBPEntry(stack: stack)
        let pointer = RealModeAddress(packed: try rig.memory.readU32(stack.linear + 4))
        XCTAssertEqual(try rig.memory.readBytes(at: pointer.linear, count: 4), Array("!PXE".utf8))
    }
}
