/// INT 15h, system services: the memory map (E820h, E801h, 88h) and the
/// A20 gate (2400h-2403h). Everything else answers AH=86h, CF set.
extension BIOS {
    /// One E820h address range descriptor.
    struct MemoryRange {
        /// Type 1: usable RAM; 2: reserved.
        var base: UInt64
        var length: UInt64
        var type: UInt32
    }

    /// "SMAP", the signature E820h takes in EDX and returns in EAX.
    static let smap: UInt32 = 0x534D_4150

    /// The memory map: conventional RAM below the EBDA, the EBDA and the
    /// BIOS reserved, and extended RAM from 1 MiB to the end of the board's
    /// RAM, with the machine's `reservedRAM` cut out of it as reserved ranges.
    var memoryMap: [MemoryRange] {
        var map = [
            MemoryRange(base: 0, length: PCMemoryMap.ebda, type: 1),
            MemoryRange(base: PCMemoryMap.ebda, length: 0xA_0000 - PCMemoryMap.ebda, type: 2),
            MemoryRange(base: PCMemoryMap.bios, length: 0x1_0000, type: 2),
        ]
        var at = PCMemoryMap.extendedMemory
        for hole in extendedHoles {
            if hole.lowerBound > at { map.append(MemoryRange(base: at, length: hole.lowerBound - at, type: 1)) }
            map.append(MemoryRange(base: hole.lowerBound, length: hole.upperBound - hole.lowerBound, type: 2))
            at = hole.upperBound
        }
        let size = machine.memory.size
        if size > at { map.append(MemoryRange(base: at, length: size - at, type: 1)) }
        return map
    }

    /// `reservedRAM` within extended memory: clamped to [1 MiB, end of
    /// RAM), sorted, overlapping ranges merged.
    var extendedHoles: [Range<UInt64>] {
        let size = machine.memory.size
        let clamped = machine.reservedRAM
            .compactMap { r -> Range<UInt64>? in
                let low = max(r.lowerBound, PCMemoryMap.extendedMemory), high = min(r.upperBound, size)
                return low < high ? low..<high : nil
            }
            .sorted { $0.lowerBound < $1.lowerBound }
        var merged: [Range<UInt64>] = []
        for r in clamped {
            if let last = merged.last, r.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        return merged
    }

    /// Where the usable RAM that starts at 1 MiB ends: the first reserved
    /// range, or the end of RAM. E801h and 88h report only this much.
    var contiguousExtendedEnd: UInt64 {
        extendedHoles.first?.lowerBound ?? machine.memory.size
    }

    func systemService() {
        switch ax {
        case 0xE820: e820()
        case 0xE801: e801()
        case 0x2400: ah = 0; returnCarry(false)           // disable A20: accepted
        case 0x2401: ah = 0; returnCarry(false)           // enable A20
        case 0x2402: ah = 0; al = 1; returnCarry(false)   // A20 status: enabled
        case 0x2403: ah = 0; bx = 0x0003; returnCarry(false)  // supported via 8042 and port 92h
        default:
            if ah == 0x88 {
                // Extended memory in KiB above 1 MiB, capped at 64 MiB - 1 KiB.
                ax = UInt16(min((contiguousExtendedEnd - PCMemoryMap.extendedMemory) >> 10, 0xFFFF))
                returnCarry(false)
            } else {
                unsupported()
            }
        }
    }

    /// E820h: EBX continuation (0 first), ES:DI buffer of ECX bytes (at
    /// least 20), EDX "SMAP". Returns EAX "SMAP", ECX 20, EBX next (0 after
    /// the last), CF clear; CF set on a bad call.
    private func e820() {
        let map = memoryMap
        let index = Int(ebx)
        guard edx == Self.smap, ecx >= 20, index < map.count else {
            ah = 0x86
            returnCarry(true)
            return
        }
        let r = map[index]
        let at = Machine.linear(UInt32(es), UInt32(di))
        machine.write32(at, UInt32(truncatingIfNeeded: r.base))
        machine.write32(at + 4, UInt32(truncatingIfNeeded: r.base >> 32))
        machine.write32(at + 8, UInt32(truncatingIfNeeded: r.length))
        machine.write32(at + 12, UInt32(truncatingIfNeeded: r.length >> 32))
        machine.write32(at + 16, r.type)
        eax = Self.smap
        ecx = 20
        ebx = index + 1 < map.count ? UInt32(index + 1) : 0
        returnCarry(false)
    }

    /// E801h: AX=CX KiB between 1 MiB and 16 MiB (at most 3C00h), BX=DX
    /// 64 KiB blocks above 16 MiB.
    private func e801() {
        let size = contiguousExtendedEnd
        let low = min(size, 16 << 20) - PCMemoryMap.extendedMemory
        let high = size > 16 << 20 ? (size - (16 << 20)) >> 16 : 0
        ax = UInt16(low >> 10)
        cx = UInt16(low >> 10)
        bx = UInt16(min(high, 0xFFFF))
        dx = UInt16(min(high, 0xFFFF))
        returnCarry(false)
    }
}
