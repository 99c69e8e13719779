/// The POST Memory Manager (PMM Specification 1.01): the $PMM structure
/// in the F segment and its entry point, a far call with the function and
/// its arguments on the stack and the result in DX:AX.
extension BIOS {
    /// PMM functions (the first word on the stack).
    enum PMM {
        static let allocate: UInt16 = 0x0000
        static let find: UInt16 = 0x0001
        static let deallocate: UInt16 = 0x0002
        /// pmmAllocate flags: bit 0 conventional, bit 1 extended, bit 2 aligned to size.
        static let conventional: UInt16 = 0x1
        static let extended: UInt16 = 0x2
        static let aligned: UInt16 = 0x4
    }

    /// $PMM: signature, revision 01h, length 10h, checksum, entry point
    /// (offset, segment), 5 reserved bytes.
    func installPMMStructure() {
        var s = [UInt8](repeating: 0, count: 16)
        s.replaceSubrange(0..<4, with: Array("$PMM".utf8))
        s[4] = 0x01
        s[5] = 0x10
        s[7] = UInt8(Stub.pmmEntry & 0xFF)
        s[8] = UInt8(Stub.pmmEntry >> 8)
        s[9] = UInt8(PCMemoryMap.biosSegment & 0xFF)
        s[10] = UInt8(PCMemoryMap.biosSegment >> 8)
        s[6] = 0 &- s.reduce(0, &+)
        write(Stub.pmmStructure, s)
    }

    /// The PMM entry trap: arguments at SS:SP+4 (after the far return address).
    func pmmService() {
        let sp = UInt32(UInt16(truncatingIfNeeded: machine[.esp]))
        let ss = machine[.ss]
        func arg16(_ o: UInt32) -> UInt16 { machine.read16(Machine.linear(ss, sp &+ o)) }
        func arg32(_ o: UInt32) -> UInt32 { UInt32(arg16(o)) | UInt32(arg16(o + 2)) << 16 }
        var result: UInt32 = 0
        switch arg16(4) {
        case PMM.allocate:
            let paragraphs = arg32(6), handle = arg32(10), flags = arg16(14)
            if flags & PMM.extended != 0 {
                if paragraphs == 0 {
                    result = pmm.largestFree >> 4  // size of the largest free block, in paragraphs
                } else if paragraphs <= (PMMArena.end - PMMArena.start) >> 4 {
                    let size = paragraphs << 4
                    let align = flags & PMM.aligned != 0 ? UInt32(1) << (32 - size.leadingZeroBitCount) : 16
                    result = pmm.allocate(size: size, alignment: align, handle: handle,
                                          limit: UInt32(min(contiguousExtendedEnd, UInt64(PMMArena.end)))) ?? 0
                }
            }
            // Conventional memory is not handed out: option ROMs fall back
            // to the EBDA/BDA conventions for it.
        case PMM.find:
            result = pmm.find(handle: arg32(6)) ?? 0
        case PMM.deallocate:
            result = pmm.deallocate(address: arg32(6)) ? 0 : 0xFFFF_FFFF
        default:
            result = 0xFFFF_FFFF
        }
        ax = UInt16(result & 0xFFFF)
        dx = UInt16(result >> 16)
    }
}
