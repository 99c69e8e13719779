/// Builds small PE32+ images for the UEFI tests, by hand as a linker
/// would lay them out: MS-DOS header with e_lfanew 40h, "PE\0\0", the COFF
/// header (machine 8664h, two sections), the 240-byte PE32+ optional
/// header, then .text at RVA 1000h and .reloc at RVA 2000h, each in one
/// 200h-byte file block.
struct UEFITestImage {
    var code: [UInt8]
    /// Offsets in .text of 64-bit absolute addresses (DIR64 relocations).
    var dir64: [Int] = []
    var preferredBase: UInt64 = 0x40_0000
    var subsystem: UInt16 = 10
    var machine: UInt16 = 0x8664

    static let textRVA = 0x1000
    static let relocRVA = 0x2000

    var bytes: [UInt8] {
        var f = [UInt8](repeating: 0, count: 0x600)
        func put16(_ o: Int, _ v: UInt16) { f[o] = UInt8(v & 0xFF); f[o + 1] = UInt8(v >> 8) }
        func put32(_ o: Int, _ v: UInt32) { for i in 0..<4 { f[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }
        func put64(_ o: Int, _ v: UInt64) { for i in 0..<8 { f[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        f[0] = 0x4D; f[1] = 0x5A
        put32(0x3C, 0x40)
        put32(0x40, 0x0000_4550)
        let coff = 0x44
        put16(coff, machine)
        put16(coff + 2, 2)
        put16(coff + 16, 240)
        put16(coff + 18, 0x22)
        let opt = coff + 20
        put16(opt, 0x20B)
        put32(opt + 16, UInt32(Self.textRVA))  // entry: the start of .text
        put64(opt + 24, preferredBase)
        put32(opt + 32, 0x1000)
        put32(opt + 36, 0x200)
        put32(opt + 56, 0x3000)
        put32(opt + 60, 0x200)
        put16(opt + 68, subsystem)
        put32(opt + 108, 16)
        // Relocation block: one page, DIR64 entries padded to 4 bytes.
        var reloc: [UInt8] = []
        if !dir64.isEmpty {
            var entries = dir64.map { UInt16(10 << 12) | UInt16($0 & 0xFFF) }
            if entries.count % 2 == 1 { entries.append(0) }
            let size = 8 + entries.count * 2
            reloc = [UInt8](repeating: 0, count: size)
            let page = UInt32(Self.textRVA)
            for i in 0..<4 { reloc[i] = UInt8(truncatingIfNeeded: page >> (8 * UInt32(i))); reloc[4 + i] = UInt8(truncatingIfNeeded: UInt32(size) >> (8 * UInt32(i))) }
            for (k, e) in entries.enumerated() { reloc[8 + 2 * k] = UInt8(e & 0xFF); reloc[9 + 2 * k] = UInt8(e >> 8) }
            put32(opt + 112 + 40, UInt32(Self.relocRVA))
            put32(opt + 112 + 44, UInt32(size))
        }
        let sections = opt + 240
        for (i, (name, rva, size, raw)) in [(".text", Self.textRVA, code.count, 0x200), (".reloc", Self.relocRVA, reloc.count, 0x400)].enumerated() {
            let s = sections + i * 40
            for (k, c) in name.utf8.enumerated() { f[s + k] = c }
            put32(s + 8, UInt32(max(size, 1)))
            put32(s + 12, UInt32(rva))
            put32(s + 16, 0x200)
            put32(s + 20, UInt32(raw))
        }
        f.replaceSubrange(0x200..<0x200 + code.count, with: code)
        f.replaceSubrange(0x400..<0x400 + reloc.count, with: reloc)
        return f
    }

    /// An EFI application that writes `text` through ConOut->OutputString
    /// and returns `status`. The string's address is a 64-bit absolute
    /// pointer in .text, so the image only prints the right text when its
    /// DIR64 relocation was applied.
    static func hello(_ text: String, status: UInt32 = 0) -> UEFITestImage {
        var code: [UInt8] = [
            0x48, 0x83, 0xEC, 0x28,              // sub rsp, 28h: shadow space, 16-byte alignment
            0x48, 0x8B, 0x4A, 0x40,              // mov rcx, [rdx+40h]: SystemTable->ConOut
            0x48, 0x8B, 0x15, 0, 0, 0, 0,        // mov rdx, [rip+disp32]: the string's absolute address
            0xFF, 0x51, 0x08,                    // call [rcx+8]: OutputString(ConOut, text)
            0x48, 0x83, 0xC4, 0x28,              // add rsp, 28h
            0xB8,                                // mov eax, status
        ]
        code += withUnsafeBytes(of: status.littleEndian) { Array($0) }
        code += [0xC3]                           // ret
        // The pointer follows the code; RIP after the mov is 15.
        let pointerOffset = code.count
        code[11] = UInt8(pointerOffset - 15)
        let stringOffset = pointerOffset + 8
        let pointer = UInt64(0x40_0000 + textRVA + stringOffset)
        code += withUnsafeBytes(of: pointer.littleEndian) { Array($0) }
        for u in text.utf16 { code += [UInt8(u & 0xFF), UInt8(u >> 8)] }
        code += [0, 0]
        return UEFITestImage(code: code, dir64: [pointerOffset])
    }
}
