import NICCore
import UNDI

/// The PXENV+ (0x2C bytes) and !PXE (0x58 bytes) structures of PXE 2.1,
/// which tell an NBP where the API entry points and the ROM's segments are.
/// Each carries a byte checksum: all its bytes sum to zero modulo 256.
public enum PXEStructures {
    public static let pxenvLength = 0x2C
    public static let bangPXELength = 0x58
    /// PXENV+ Version: 2.1 (so an NBP uses !PXE, through PXEPtr).
    public static let version: UInt16 = 0x0201
    /// !PXE SegDescCnt: Stack, UNDIData, UNDICode, UNDICodeWrite, BC_Data,
    /// BC_Code, BC_CodeWrite.
    public static let segmentDescriptorCount: UInt8 = 7

    /// The PXENV+ structure, checksummed.
    ///
    /// Offsets: Signature "PXENV+" 0, Version 6, Length 8, Checksum 9,
    /// RMEntry 0x0A, PMOffset 0x0E, PMSelector 0x12, StackSeg 0x14,
    /// StackSize 0x16, BC_CodeSeg 0x18, BC_CodeSize 0x1A, BC_DataSeg 0x1C,
    /// BC_DataSize 0x1E, UNDIDataSeg 0x20, UNDIDataSize 0x22, UNDICodeSeg
    /// 0x24, UNDICodeSize 0x26, PXEPtr 0x28.
    public static func pxenv(_ layout: PXELayout) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: pxenvLength)
        put(&b, 0, Array("PXENV+".utf8))
        put16(&b, 0x06, version)
        b[0x08] = UInt8(pxenvLength)
        put32(&b, 0x0A, layout.pxenvEntry.packed)
        // PMOffset/PMSelector: PXE 2.1 deprecates the protected-mode PXENV+ entry.
        put16(&b, 0x14, layout.stackSegment)
        put16(&b, 0x16, PXELayout.stackSize)
        put16(&b, 0x18, layout.baseCodeSegment)
        put16(&b, 0x1A, PXELayout.baseCodeSize)
        put16(&b, 0x1C, layout.baseDataSegment)
        put16(&b, 0x1E, PXELayout.baseDataSize)
        put16(&b, 0x20, layout.undiDataSegment)
        put16(&b, 0x22, PXELayout.undiDataSize)
        put16(&b, 0x24, layout.undiCodeSegment)
        put16(&b, 0x26, PXELayout.undiCodeSize)
        put32(&b, 0x28, layout.bangPXEAddress.packed)
        b[0x09] = checksumByte(b)
        return b
    }

    /// The !PXE structure, checksummed.
    ///
    /// Offsets: Signature "!PXE" 0, StructLength 4, StructCksum 5,
    /// StructRev 6, reserved 7, UNDIROMID 8, BaseROMID 0x0C, EntryPointSP
    /// 0x10, EntryPointESP 0x14, StatusCallout 0x18, reserved 0x1C,
    /// SegDescCnt 0x1D, FirstSelector 0x1E, then seven SEGDESCs of 8 bytes
    /// (segment, physical address, size) from 0x20: Stack, UNDIData,
    /// UNDICode, UNDICodeWrite, BC_Data, BC_Code, BC_CodeWrite.
    public static func bangPXE(_ layout: PXELayout) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: bangPXELength)
        put(&b, 0, Array("!PXE".utf8))
        b[0x04] = UInt8(bangPXELength)
        b[0x06] = 0  // StructRev: 0 for PXE 2.1
        // UNDIROMID, BaseROMID: no ROM ID structures (the ROM is not in a BIOS image).
        put32(&b, 0x10, layout.bangPXEEntry.packed)
        // EntryPointESP: no 32-bit stack entry. StatusCallout 0: no call-out.
        b[0x1D] = segmentDescriptorCount
        let descriptors: [(UInt16, UInt16)] = [
            (layout.stackSegment, PXELayout.stackSize),
            (layout.undiDataSegment, PXELayout.undiDataSize),
            (layout.undiCodeSegment, PXELayout.undiCodeSize),
            (layout.undiCodeSegment, PXELayout.undiCodeSize),
            (layout.baseDataSegment, PXELayout.baseDataSize),
            (layout.baseCodeSegment, PXELayout.baseCodeSize),
            (layout.baseCodeSegment, PXELayout.baseCodeSize),
        ]
        for (i, (segment, size)) in descriptors.enumerated() {
            let at = 0x20 + 8 * i
            put16(&b, at, segment)
            put32(&b, at + 2, UInt32(segment) << 4)
            put16(&b, at + 6, size)
        }
        b[0x05] = checksumByte(b)
        return b
    }

    /// The byte that makes `bytes` sum to zero modulo 256.
    public static func checksumByte(_ bytes: [UInt8]) -> UInt8 {
        0 &- bytes.reduce(0, &+)
    }

    /// True when `bytes` sum to zero modulo 256.
    public static func checksumIsValid(_ bytes: [UInt8]) -> Bool {
        bytes.reduce(0, &+) == 0
    }

    /// Writes both structures and the entry-point bytes into guest memory.
    /// Each entry point holds a far return (0xCB): an x86 host intercepts
    /// execution at that address and calls `PXEAPI` instead.
    public static func install(_ layout: PXELayout, in memory: GuestMemory) throws(DMAError) {
        try memory.write(at: layout.pxenvAddress.linear, bytes: pxenv(layout))
        try memory.write(at: layout.bangPXEAddress.linear, bytes: bangPXE(layout))
        try memory.writeU8(layout.pxenvEntry.linear, 0xCB)
        try memory.writeU8(layout.bangPXEEntry.linear, 0xCB)
    }

    private static func put(_ b: inout [UInt8], _ at: Int, _ v: [UInt8]) {
        for (i, x) in v.enumerated() { b[at + i] = x }
    }

    private static func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) { b.setLE16(v, at: at) }

    private static func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) { b.setLE32(v, at: at) }
}
