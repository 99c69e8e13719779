import Machine
import NICCore
import OptionROM

/// Seeds for the stream, text, ROM and machine targets.
enum MoreSeeds {
    // MARK: QEMU stream framing

    /// Frames with QEMU's 4-byte big-endian length in front of each.
    static func framed(_ frames: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for f in frames {
            let n = UInt32(f.count)
            out += [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
            out += f
        }
        return out
    }

    static func qemuStreams() -> [(String, [UInt8])] {
        let frames = TraceFileSeeds.frames
        return [
            // Written 4 KiB at a time.
            ("three-frames", [5] + framed(frames)),
            // Three bytes at a time, echoed back, with half a frame at the end.
            ("echo-small-pieces-partial", [2 | 8] + framed(Array(frames.prefix(2))) + Array(framed([frames[2]]).prefix(40))),
            // A byte at a time, then a length no QEMU sends.
            ("bytewise-then-out-of-step", [0] + framed([frames[0]]) + [0xFF, 0xFF, 0xFF, 0xF0] + frames[1]),
        ]
    }

    // MARK: pxelinux configurations

    static func pxelinuxConfigs() -> [(String, [UInt8])] {
        let menu = """
            # A menu as distributions write it.
            DEFAULT menu.c32
            PROMPT 0
            TIMEOUT 50
            ONTIMEOUT install
            MENU TITLE nicsim boot menu

            LABEL local
            \tMENU LABEL Boot from disk
            \tLOCALBOOT 0
            LABEL install
            \tMENU LABEL Install
            \tMENU DEFAULT
            \tKERNEL debian/vmlinuz
            \tINITRD debian/initrd.gz
            \tAPPEND auto=true priority=critical ---
            \tSYSAPPEND 6
            LABEL rescue
            \tLINUX rescue/vmlinuz
            \tAPPEND initrd=rescue/a.img,rescue/b.img rescue/enable=true
            \tIPAPPEND 1

            """
        let crlf = "default linux\r\nprompt 1\r\ntimeout 0\r\nappend console=ttyS0\r\nipappend 2\r\nlabel linux\r\n  kernel vmlinuz\r\n  append -\r\n"
        return [
            ("fixture-default", Array(FuzzTFTPRoot.files.first { $0.0 == "pxelinux.cfg/default" }!.1)),
            ("menu-with-labels", Array(menu.utf8)),
            ("crlf-global-append", Array(crlf.utf8)),
        ]
    }

    // MARK: Option ROMs

    static func optionROMs() -> [(String, [UInt8])] {
        let own = (try? SoftwarePXEROM.image(vendorID: 0x10EC, deviceID: 0x8139)) ?? []
        let bev = (try? LegacyROMBuilder(vendorID: 0x1AF4, deviceID: 0x1000, manufacturer: "nicsim", product: "fuzz seed",
                                         code: [0xCB, 0xCB], initEntry: 0, bootEntry: 1).build()) ?? []
        // The same legacy image, no longer the last, followed by an EFI image.
        var legacy = bev
        if let pcir = indexOf("PCIR", in: legacy) { legacy[pcir + 0x15] = 0 }
        return [("nicsim-pxe-rom-rtl8139", own), ("legacy-bev", bev), ("legacy-then-efi", legacy + efiImage())]
    }

    /// A one-block EFI image: 0EF1h header, PCIR with code type 3, an "MZ" at 0x40.
    static func efiImage() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 512)
        func put16(_ at: Int, _ v: UInt16) { b[at] = UInt8(truncatingIfNeeded: v); b[at + 1] = UInt8(v >> 8) }
        b[0] = 0x55
        b[1] = 0xAA
        put16(0x02, 1)
        put16(0x04, 0x0EF1)
        put16(0x08, 11)
        put16(0x0A, 0x8664)
        put16(0x16, 0x40)
        put16(0x18, 0x1C)
        for (i, c) in "PCIR".utf8.enumerated() { b[0x1C + i] = c }
        put16(0x1C + 0x04, 0x1AF4)
        put16(0x1C + 0x06, 0x1000)
        put16(0x1C + 0x0A, 0x18)
        b[0x1C + 0x0C] = 3
        b[0x1C + 0x0F] = 0x02
        put16(0x1C + 0x10, 1)
        b[0x1C + 0x14] = 3
        b[0x1C + 0x15] = 0x80
        b[0x40] = 0x4D
        b[0x41] = 0x5A
        return b
    }

    static func indexOf(_ tag: String, in bytes: [UInt8]) -> Int? {
        let t = Array(tag.utf8)
        guard bytes.count >= t.count else { return nil }
        return (0...(bytes.count - t.count)).first { Array(bytes[$0..<($0 + t.count)]) == t }
    }

    // MARK: qtest scripts

    static func qtestScripts() -> [(String, [UInt8])] {
        // The harness's board: ne2k_pci at 00:03.0, rtl8139 at 00:04.0, a
        // transitional virtio-net at 00:05.0, a modern one at 00:06.0, an ISA NE2000 at 0x300.
        let ne2000 = """
            outl 0xcf8 0x80001800
            inl 0xcfc
            outl 0xcf8 0x80001810
            outl 0xcfc 0xffffffff
            inl 0xcfc
            outl 0xcfc 0xc001
            outl 0xcf8 0x80001804
            outw 0xcfc 0x0007
            outb 0xc01f 0x00
            outb 0xc000 0x21
            outb 0xc00a 0x20
            outb 0xc00b 0x00
            outb 0xc008 0x00
            outb 0xc009 0x00
            outb 0xc000 0x0a
            inw 0xc010
            inw 0xc010
            outb 0xc000 0x22
            inb 0xc007
            inb 0x301
            outb 0x30e 0x49

            """
        let rtl8139 = """
            #! args: -m 1M -device rtl8139,addr=4
            outl 0xcf8 0x80002014
            outl 0xcfc 0xfebf0000
            outl 0xcf8 0x80002004
            outw 0xcfc 0x0007
            irq_intercept_in ioapic
            writeb 0xfebf0037 0x10
            readb 0xfebf0037
            writel 0xfebf0030 0x10000
            writel 0xfebf0044 0x0000008f
            writeb 0xfebf0037 0x0c
            writew 0xfebf003c 0xffff
            write 0x20000 0x3c 0xffffffffffff0200000000010800
            writel 0xfebf0020 0x20000
            writel 0xfebf0010 0x3c
            clock_step 1000000
            readw 0xfebf003e
            b64read 0x10000 0x40
            %send ffffffffffff020000000002080045000028000000004011000000000000ffffffff
            %recv
            memset 0x30000 0x100 0x5a
            readq 0x30000
            clock_step

            """
        let virtio = """
            outl 0xcf8 0x80002810
            outl 0xcfc 0xc101
            outl 0xcf8 0x80002804
            outw 0xcfc 0x0007
            outb 0xc112 0x00
            outb 0xc112 0x03
            inl 0xc100
            outl 0xc104 0x00010020
            outw 0xc10e 0x0000
            inw 0xc10c
            outl 0xc108 0x00000010
            outb 0xc112 0x07
            outw 0xc110 0x0000
            inb 0xc113
            b64write 0x10000 8 AAAAAAAAAAA=
            endianness
            clock_set 5000000
            set_irq_in ioapic unnamed-gpio-in 11 1
            readl 0xfffffffc

            """
        return [("ne2000-pci-and-isa", Array(ne2000.utf8)), ("rtl8139-mmio-script", Array(rtl8139.utf8)), ("virtio-legacy", Array(virtio.utf8))]
    }

    // MARK: x86 code

    static func machineCode() -> [(String, [UInt8])] {
        // INT 10h teletype and string output, cursor, INT 11h/12h/1Ah.
        var print: [UInt8] = [
            0xB4, 0x0E, 0xB0, 0x68, 0xCD, 0x10,             // mov ah,0Eh; mov al,'h'; int 10h
            0xB0, 0x69, 0xCD, 0x10,                         // mov al,'i'; int 10h
            0xB4, 0x03, 0x30, 0xFF, 0xCD, 0x10,             // mov ah,03h; xor bh,bh; int 10h
            0xCD, 0x12, 0xCD, 0x11,                         // int 12h; int 11h
            0x30, 0xE4, 0xCD, 0x1A,                         // xor ah,ah; int 1Ah
            0xB4, 0x02, 0xBA, 0x10, 0x05, 0xCD, 0x10,       // mov ah,02h; mov dx,0510h; int 10h
            0xB8, 0x01, 0x13, 0xBB, 0x07, 0x00,             // mov ax,1301h; mov bx,0007h
            0xB9, 0x05, 0x00, 0x31, 0xD2,                   // mov cx,5; xor dx,dx
            0x0E, 0x07,                                     // push cs; pop es
        ]
        let stringAt = 0x7C00 + print.count + 6
        print += [0xBD, UInt8(stringAt & 0xFF), UInt8(stringAt >> 8), 0xCD, 0x10, 0xCB]  // mov bp,string; int 10h; retf
        print += Array("hello".utf8)

        // PCI BIOS: installation check, find 10ec:8139, read BAR0 and the
        // command word, then reset the card through its I/O BAR (0xC000).
        let pci: [UInt8] = [
            0xB8, 0x01, 0xB1, 0xCD, 0x1A,                   // mov ax,B101h; int 1Ah
            0xB8, 0x02, 0xB1, 0xB9, 0x39, 0x81,             // mov ax,B102h; mov cx,8139h
            0xBA, 0xEC, 0x10, 0x31, 0xF6, 0xCD, 0x1A,       // mov dx,10ECh; xor si,si; int 1Ah
            0xB8, 0x0A, 0xB1, 0xBF, 0x10, 0x00, 0xCD, 0x1A, // mov ax,B10Ah; mov di,10h; int 1Ah
            0xB8, 0x09, 0xB1, 0xBF, 0x04, 0x00, 0xCD, 0x1A, // mov ax,B109h; mov di,4; int 1Ah
            0xBA, 0x00, 0xC0, 0xEC,                         // mov dx,C000h; in al,dx
            0x83, 0xC2, 0x37, 0xB0, 0x10, 0xEE,             // add dx,37h; mov al,10h; out dx,al
            0xCB,                                           // retf
        ]

        // The 8254 at a fast rate on IRQ 0, a handler of our own in the IVT,
        // three HLTs woken by it, then back.
        var timer: [UInt8] = [
            0xFA, 0x31, 0xC0, 0x8E, 0xD8,                   // cli; xor ax,ax; mov ds,ax
            0xC7, 0x06, 0x20, 0x00, 0x00, 0x00,             // mov word [20h], handler (patched below)
            0xC7, 0x06, 0x22, 0x00, 0x00, 0x00,             // mov word [22h], 0
            0xB0, 0x34, 0xE6, 0x43,                         // mov al,34h; out 43h,al
            0xB0, 0x00, 0xE6, 0x40, 0xB0, 0x10, 0xE6, 0x40, // count 1000h
            0xE4, 0x21, 0x24, 0xFE, 0xE6, 0x21,             // unmask IRQ 0
            0xB9, 0x03, 0x00, 0xFB,                         // mov cx,3; sti
            0xF4, 0xE2, 0xFD,                               // hlt; loop
            0xFA, 0xCB,                                     // cli; retf
        ]
        let handler = 0x7C00 + timer.count
        timer[9] = UInt8(handler & 0xFF)
        timer[10] = UInt8(handler >> 8)
        timer += [0xFE, 0x06, 0x00, 0x06, 0xB0, 0x20, 0xE6, 0x20, 0xCF]  // inc byte [600h]; EOI; iret

        // INT 15h E820 until EBX comes back 0, then INT 16h, 15h/88h, 15h/86h, A20, INT 13h.
        let e820: [UInt8] = [
            0x66, 0x31, 0xDB,                               // xor ebx,ebx
            0x66, 0xB8, 0x20, 0xE8, 0x00, 0x00,             // again: mov eax,E820h
            0x66, 0xB9, 0x14, 0x00, 0x00, 0x00,             // mov ecx,20
            0x66, 0xBA, 0x50, 0x41, 0x4D, 0x53,             // mov edx,'SMAP'
            0xBF, 0x00, 0x07, 0xCD, 0x15,                   // mov di,700h; int 15h
            0x66, 0x85, 0xDB, 0x75, 0xE4,                   // test ebx,ebx; jnz again
            0xB4, 0x01, 0xCD, 0x16,                         // mov ah,01h; int 16h
            0xB4, 0x88, 0xCD, 0x15,                         // mov ah,88h; int 15h
            0xB4, 0x86, 0x31, 0xC9, 0xBA, 0x10, 0x27, 0xCD, 0x15, // mov ah,86h; xor cx,cx; mov dx,10000; int 15h
            0xB8, 0x01, 0x24, 0xCD, 0x15,                   // mov ax,2401h; int 15h
            0xB4, 0x00, 0xCD, 0x13,                         // mov ah,00h; int 13h
            0xCB,                                           // retf
        ]
        // The flags byte first: DL 80h; interrupts on for the timer program.
        return [("bios-console", [0x00] + print), ("pci-bios-and-card", [0x00] + pci), ("pit-irq0-handler", [0x00] + timer),
                ("int15-memory-map-and-waits", [0x80] + e820), ("pmm-port61-protected-mode-mmio", [0x00] + protectedMode())]
    }

    /// PMM allocate and deallocate through the $PMM entry (F000:E210), the
    /// speaker gate on port 61h and INT 15h E801; then 16-bit protected mode
    /// with a flat data segment: a read of the RTL8139's MMIO BAR (at
    /// E0000000h), a reset written there, IRQ 0 taken through an IDT gate
    /// at HLT; and back to real mode with the IVT.
    static func protectedMode() -> [UInt8] {
        let base = 0x7C00
        var code: [UInt8] = [
            0x6A, 0x02,                                     // push word 2 (extended memory)
            0x66, 0x6A, 0xFF,                               // push dword -1 (anonymous)
            0x66, 0x68, 0x00, 0x01, 0x00, 0x00,             // push dword 100h paragraphs
            0x6A, 0x00,                                     // push word 0 (allocate)
            0x9A, 0x10, 0xE2, 0x00, 0xF0,                   // call F000:E210
            0x83, 0xC4, 0x0C,                               // add sp,12
            0x52, 0x50, 0x6A, 0x02,                         // push dx; push ax; push word 2 (deallocate)
            0x9A, 0x10, 0xE2, 0x00, 0xF0,                   // call F000:E210
            0x83, 0xC4, 0x06,                               // add sp,6
            0xE4, 0x61, 0x0C, 0x03, 0xE6, 0x61,             // in al,61h; or al,3; out 61h,al
            0xB8, 0x01, 0xE8, 0xCD, 0x15,                   // mov ax,E801h; int 15h
            0xFA,                                           // cli
            0x0F, 0x01, 0x16, 0x00, 0x00,                   // lgdt [gdtr]   (patched)
            0x0F, 0x01, 0x1E, 0x00, 0x00,                   // lidt [idtr]   (patched)
            0x0F, 0x20, 0xC0, 0x0C, 0x01, 0x0F, 0x22, 0xC0, // mov eax,cr0; or al,1; mov cr0,eax
            0xEA, 0x00, 0x00, 0x08, 0x00,                   // jmp 08h:pm    (patched)
        ]
        let gdtrPatch = code.count - 20, idtrPatch = code.count - 15, pmPatch = code.count - 4
        let pm = base + code.count
        code += [
            0xB8, 0x10, 0x00, 0x8E, 0xD8, 0x8E, 0xC0,       // mov ax,10h; mov ds,ax; mov es,ax
            0x67, 0x66, 0xA1, 0x00, 0x00, 0x00, 0xE0,       // mov eax,[dword E0000000h]
            0x67, 0xC6, 0x05, 0x37, 0x00, 0x00, 0xE0, 0x10, // mov byte [dword E0000037h],10h
            0xE4, 0x21, 0x24, 0xFE, 0xE6, 0x21,             // unmask IRQ 0
            0xFB, 0xF4, 0xFA,                               // sti; hlt; cli
            0x0F, 0x01, 0x1E, 0x00, 0x00,                   // lidt [ivtr]   (patched)
            0x0F, 0x20, 0xC0, 0x24, 0xFE, 0x0F, 0x22, 0xC0, // mov eax,cr0; and al,FEh; mov cr0,eax
            0xEA, 0x00, 0x00, 0x00, 0x00,                   // jmp 0000:rm   (patched)
        ]
        let ivtrPatch = code.count - 15, rmPatch = code.count - 4
        let rm = base + code.count
        code += [0x31, 0xC0, 0x8E, 0xD8, 0x8E, 0xC0, 0xCB]    // xor ax,ax; mov ds,ax; mov es,ax; retf
        let handler = base + code.count
        code += [0xB0, 0x20, 0xE6, 0x20, 0xCF]               // IRQ 0: EOI; iret
        let gdt = base + code.count
        code += [0, 0, 0, 0, 0, 0, 0, 0,
                 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x9A, 0x00, 0x00,   // 08h: 16-bit code, base 0
                 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x92, 0x8F, 0x00]   // 10h: flat data, 4 GiB
        let idt = base + code.count
        for vector in 0..<9 {
            // Vector 8 (IRQ 0 under the BIOS's PIC base): a 16-bit interrupt gate.
            code += vector == 8 ? [UInt8(handler & 0xFF), UInt8(handler >> 8), 0x08, 0x00, 0x00, 0x86, 0x00, 0x00] : [UInt8](repeating: 0, count: 8)
        }
        func pointer(_ limit: Int, _ address: Int) -> [UInt8] {
            [UInt8(limit & 0xFF), UInt8(limit >> 8), UInt8(address & 0xFF), UInt8(address >> 8 & 0xFF), UInt8(address >> 16 & 0xFF), 0]
        }
        let gdtr = base + code.count
        code += pointer(23, gdt)
        let idtr = base + code.count
        code += pointer(9 * 8 - 1, idt)
        let ivtr = base + code.count
        code += pointer(0x3FF, 0)
        func patch(_ at: Int, _ value: Int) {
            code[at] = UInt8(value & 0xFF)
            code[at + 1] = UInt8(value >> 8 & 0xFF)
        }
        patch(gdtrPatch, gdtr)
        patch(idtrPatch, idtr)
        patch(pmPatch, pm)
        patch(ivtrPatch, ivtr)
        patch(rmPatch, rm)
        return code
    }
}
