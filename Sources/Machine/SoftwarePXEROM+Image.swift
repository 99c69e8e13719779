import OptionROM
import PXE

/// The software PXE ROM's image: its 16-bit code, hand-assembled below,
/// in a legacy option ROM with PCIR, $PnP (BEV) and UNDI ROM ID.
extension SoftwarePXEROM {
    /// Offsets of the entry points in the ROM's code.
    enum Code {
        static let initEntry = 0x00
        static let bootEntry = 0x08
        static let undiLoader = 0x30
        /// The UNDI code segment's contents (copied to base memory at boot).
        static let undiTemplate = 0x40
    }

    /// The ROM's code. Every entry calls a host call; the BEV then enters
    /// the NBP with the registers the host set:
    ///
    ///     init:      call far F000:romInit        ; 9A
    ///                retf
    ///     bev:       call far F000:romBoot        ; AX=0: NBP at 0:7C00
    ///                test ax, ax
    ///                jnz  fail
    ///                cli
    ///                mov  ss, cx                   ; the PXE stack, prepared
    ///                mov  sp, si                   ;   with the ROM return and !PXE
    ///                mov  es, di                   ; ES:BX = PXENV+, EDX = its address
    ///                sti
    ///                jmp  far 0000:7C00
    ///     fail:      int  18h                      ; boot failed: next device
    ///     nbpreturn: call far F000:nbpReturned     ; the NBP's far return lands here
    ///                int  18h
    ///     loader:    call far F000:undiLoader
    ///                retf
    ///     undi+00h:  jmp far F000:pxenvEntry       ; PXENV+ RMEntry
    ///     undi+10h:  jmp far F000:bangPXEEntry     ; !PXE EntryPointSP
    static let code: [UInt8] = assemble().code

    /// Offset in the code of the NBP's return address.
    static let nbpReturnOffsetInCode = assemble().nbpReturn

    private static func assemble() -> (code: [UInt8], nbpReturn: Int) {
        var c = [UInt8](repeating: 0x90, count: Code.undiTemplate + undiCode.count)
        func put(_ at: Int, _ bytes: [UInt8]) { c.replaceSubrange(at..<(at + bytes.count), with: bytes) }
        put(Code.initEntry, farCall(.romInit) + [0xCB])
        var bev = farCall(.romBoot) + [0x85, 0xC0, 0x75, 0x00]  // TEST AX,AX; JNZ fail
        let jnz = bev.count - 1
        bev += [0xFA, 0x8E, 0xD1, 0x89, 0xF4, 0x8E, 0xC7, 0xFB]  // CLI; MOV SS,CX; MOV SP,SI; MOV ES,DI; STI
        bev += [0xEA, 0x00, 0x7C, 0x00, 0x00]                   // JMP FAR 0000:7C00
        bev[jnz] = UInt8(bev.count - jnz - 1)
        bev += [0xCD, 0x18]                                      // fail: INT 18h
        let nbpReturn = Code.bootEntry + bev.count
        bev += farCall(.nbpReturned) + [0xCD, 0x18]             // nbpreturn
        put(Code.bootEntry, bev)
        put(Code.undiLoader, farCall(.undiLoader) + [0xCB])
        put(Code.undiTemplate, undiCode)
        return (c, nbpReturn)
    }

    /// The NBP's return address: its offset in the ROM's segment.
    static var nbpReturnOffset: UInt16 { UInt16(builder(vendorID: 0, deviceID: 0).codeOffset + nbpReturnOffsetInCode) }

    /// The UNDI code segment: the two PXE API entry points.
    static let undiCode: [UInt8] = {
        var u = [UInt8](repeating: 0xCC, count: 0x20)
        u.replaceSubrange(0..<5, with: farJump(.pxenvEntry))
        u.replaceSubrange(0x10..<0x15, with: farJump(.bangPXEEntry))
        return u
    }()

    private static func farCall(_ call: HostCall) -> [UInt8] {
        [0x9A, UInt8(call.offset & 0xFF), UInt8(call.offset >> 8), UInt8(call.segment & 0xFF), UInt8(call.segment >> 8)]
    }

    private static func farJump(_ call: HostCall) -> [UInt8] {
        [0xEA, UInt8(call.offset & 0xFF), UInt8(call.offset >> 8), UInt8(call.segment & 0xFF), UInt8(call.segment >> 8)]
    }

    static func builder(vendorID: UInt16, deviceID: UInt16) -> LegacyROMBuilder {
        LegacyROMBuilder(
            vendorID: vendorID, deviceID: deviceID, manufacturer: "nicsim", product: "nicsim PXE ROM",
            code: code, initEntry: Code.initEntry, bootEntry: Code.bootEntry,
            undi: .init(loader: Code.undiLoader, stackSize: PXELayout.stackSize, dataSize: PXELayout.undiDataSize,
                        codeSize: PXELayout.undiCodeSize))
    }

    /// True when `rom` is an image `image(vendorID:deviceID:)` built: its
    /// $PnP names nicsim's PXE ROM and its code is this code.
    public static func isImage(_ rom: ExpansionROM) -> Bool {
        guard let image = rom.legacyImage, let bytes = rom.legacyBytes,
              let pnp = image.pnpHeaders.first, pnp.manufacturer == "nicsim", pnp.product == "nicsim PXE ROM" else { return false }
        let start = builder(vendorID: 0, deviceID: 0).codeOffset
        return bytes.count >= start + code.count && Array(bytes.dropFirst(start).prefix(code.count)) == code
    }

    /// The ROM image for a card with these PCI IDs: a valid legacy PXE
    /// option ROM (`nicsim rom inspect` reads it) whose code needs a
    /// nicsim machine behind its host calls.
    public static func image(vendorID: UInt16, deviceID: UInt16) throws(ROMBuildError) -> [UInt8] {
        try builder(vendorID: vendorID, deviceID: deviceID).build()
    }
}
