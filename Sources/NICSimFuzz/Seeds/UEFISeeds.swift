/// Seeds of the uefi-image target: small PE32+ applications, hand
/// assembled, that call into the firmware.
enum UEFISeeds {
    static func seeds() -> [(String, [UInt8])] {
        [("hello-conout", image(hello)), ("boot-services-sweep", image(sweep)), ("exit-from-image", image(exit))]
    }

    /// ConOut->OutputString(ConOut, "nicsim") then return.
    static let hello: [UInt8] = [
        0x48, 0x83, 0xEC, 0x28,             // sub rsp, 28h
        0x48, 0x8B, 0x4A, 0x40,             // mov rcx, [rdx+40h]  ConOut
        0x48, 0x8D, 0x15, 0x0D, 0, 0, 0,    // lea rdx, [rip+0Dh]  the string
        0xFF, 0x51, 0x08,                   // call [rcx+8]        OutputString
        0x48, 0x83, 0xC4, 0x28,             // add rsp, 28h
        0x31, 0xC0,                         // xor eax, eax
        0xC3,                               // ret
        0x90, 0x90, 0x90,
    ] + Array("nicsim\r\n".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }) + [0, 0]

    /// Calls every boot service (44 of them) with RCX..R9 pointing into
    /// the image's own scratch area, as a fuzzer's starting point.
    static let sweep: [UInt8] = [
        0x53,                               // push rbx
        0x48, 0x83, 0xEC, 0x40,             // sub rsp, 40h
        0x48, 0x8B, 0x5A, 0x60,             // mov rbx, [rdx+60h]  BootServices
        0x48, 0x83, 0xC3, 0x18,             // add rbx, 18h        first service
        0xC7, 0x44, 0x24, 0x38, 44, 0, 0, 0, // mov dword [rsp+38h], 44
        // loop:
        0x48, 0x8D, 0x0D, 0x40, 0, 0, 0,    // lea rcx, [rip+40h]
        0x48, 0x8D, 0x15, 0x49, 0, 0, 0,    // lea rdx, [rip+49h]
        0x4C, 0x8D, 0x05, 0x52, 0, 0, 0,    // lea r8, [rip+52h]
        0x4C, 0x8D, 0x0D, 0x5B, 0, 0, 0,    // lea r9, [rip+5Bh]
        0x48, 0x89, 0x4C, 0x24, 0x20,       // mov [rsp+20h], rcx  fifth argument
        0x48, 0x89, 0x4C, 0x24, 0x28,       // mov [rsp+28h], rcx  sixth
        0xFF, 0x13,                         // call [rbx]
        0x48, 0x83, 0xC3, 0x08,             // add rbx, 8
        0xFF, 0x4C, 0x24, 0x38,             // dec dword [rsp+38h]
        0x75, 0xCE,                         // jnz loop
        0x48, 0x83, 0xC4, 0x40,             // add rsp, 40h
        0x5B,                               // pop rbx
        0x31, 0xC0,                         // xor eax, eax
        0xC3,                               // ret
    ] + [UInt8](repeating: 0, count: 160)

    /// BootServices->Exit(ImageHandle, 5, 0, NULL) from inside the entry point.
    static let exit: [UInt8] = [
        0x48, 0x83, 0xEC, 0x28,             // sub rsp, 28h
        0x48, 0x8B, 0x42, 0x60,             // mov rax, [rdx+60h]  BootServices
        0xBA, 5, 0, 0, 0,                   // mov edx, 5          (rcx is still ImageHandle)
        0x45, 0x31, 0xC0,                   // xor r8d, r8d
        0x45, 0x31, 0xC9,                   // xor r9d, r9d
        0xFF, 0x90, 0xD8, 0, 0, 0,          // call [rax+0D8h]     Exit (service 24)
        0xEB, 0xFE,                         // jmp $ (never reached)
    ]

    /// A PE32+ EFI application with `code` as its only section, at RVA 1000h.
    static func image(_ code: [UInt8]) -> [UInt8] {
        var f = [UInt8](repeating: 0, count: 0x200 + max((code.count + 0x1FF) & ~0x1FF, 0x200))
        func put16(_ o: Int, _ v: Int) { f[o] = UInt8(v & 0xFF); f[o + 1] = UInt8(v >> 8 & 0xFF) }
        func put32(_ o: Int, _ v: Int) { for i in 0..<4 { f[o + i] = UInt8(v >> (8 * i) & 0xFF) } }
        f[0] = 0x4D; f[1] = 0x5A
        put32(0x3C, 0x40)
        put32(0x40, 0x4550)
        put16(0x44, 0x8664); put16(0x46, 1); put16(0x54, 240); put16(0x56, 0x22)
        let opt = 0x58
        put16(opt, 0x20B); put32(opt + 16, 0x1000); put32(opt + 32, 0x1000); put32(opt + 36, 0x200)
        put32(opt + 56, 0x1000 + ((code.count + 0xFFF) & ~0xFFF)); put32(opt + 60, 0x200); put16(opt + 68, 10); put32(opt + 108, 16)
        let s = opt + 240
        for (k, c) in ".text".utf8.enumerated() { f[s + k] = c }
        put32(s + 8, code.count); put32(s + 12, 0x1000); put32(s + 16, f.count - 0x200); put32(s + 20, 0x200)
        f.replaceSubrange(0x200..<0x200 + code.count, with: code)
        return f
    }
}
