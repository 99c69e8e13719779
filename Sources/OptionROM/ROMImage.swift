/// One image of an expansion ROM: the 55AA header, its PCI Data Structure,
/// and for a legacy x86 image the $PnP headers and the UNDI ROM ID; for an
/// EFI image its EFI header.
public struct ROMImage: Equatable, Sendable {
    /// Offsets in the legacy header (PCI Firmware Specification 3.0 §5.1.1,
    /// PXE Specification 2.1 §4.4).
    enum Header {
        /// 55h AAh.
        static let signature = 0x00
        /// Initialization size in 512-byte units (legacy images).
        static let size = 0x02
        /// Entry point for INIT (a JMP).
        static let entry = 0x03
        /// Pointer to the UNDI ROM ID structure (PXE ROMs).
        static let undiPointer = 0x16
        /// Pointer to the PCI Data Structure.
        static let pcirPointer = 0x18
        /// Pointer to the first $PnP expansion header (legacy images).
        static let pnpPointer = 0x1A
        /// Smallest header holding every pointer.
        static let minimumLength = 0x1C
    }

    /// Offset of the image in the ROM file.
    public let offset: Int
    /// Header byte 2 times 512: what a BIOS copies and checksums.
    public let initializationSize: Int
    public let pcir: PCIDataStructure
    /// Bytes of the image: the PCIR image length.
    public var length: Int { pcir.imageLength }
    /// Offset of INIT within the image, decoded from the JMP at 03h.
    public let entryOffset: Int?
    /// Low byte of the sum over the initialization size (0 when valid).
    public let checksum: UInt8
    public let pnpHeaders: [PnPExpansionHeader]
    public let undi: UNDIROMID?
    public let efi: EFIImageHeader?
    public private(set) var issues: [ROMIssue] = []

    /// At most this many $PnP headers are followed (a loop guard).
    static let maxPnPHeaders = 8

    init(bytes: [UInt8], at offset: Int) throws(ROMError) {
        let available = bytes.count - offset
        guard available >= Header.minimumLength else { throw .tooShort(offset: offset, available: available) }
        var r = ROMBytes(bytes: bytes, base: offset, count: available)
        let sig = r.u16(Header.signature)
        guard sig == 0xAA55 else { throw .badSignature(offset: offset, found: sig) }
        self.offset = offset
        let pcirAt = Int(r.u16(Header.pcirPointer))
        pcir = try PCIDataStructure(r, at: pcirAt)
        guard pcir.imageLength > 0 else { throw .zeroLength(offset: offset) }
        guard pcir.imageLength <= available else {
            throw .imagePastEnd(offset: offset, length: pcir.imageLength, fileSize: bytes.count)
        }
        r = ROMBytes(bytes: bytes, base: offset, count: pcir.imageLength)

        if pcir.codeType == .efi {
            efi = try EFIImageHeader(r)
            initializationSize = efi?.initializationSize ?? Int(r.u8(Header.size)) * 512
            entryOffset = nil
            pnpHeaders = []
            undi = nil
            checksum = r.sum(0, min(initializationSize, r.count))
            return
        }
        efi = nil
        initializationSize = Int(r.u8(Header.size)) * 512
        guard initializationSize > 0 else { throw .zeroLength(offset: offset) }
        if initializationSize > pcir.imageLength {
            issues.append(.initSizeExceedsImage(offset: offset, initSize: initializationSize, imageLength: pcir.imageLength))
        }
        checksum = r.sum(0, min(initializationSize, r.count))
        if checksum != 0, pcir.codeType == .x86 { issues.append(.imageChecksum(offset: offset, sum: checksum)) }
        entryOffset = Self.decodeJump(r, at: Header.entry)

        var headers: [PnPExpansionHeader] = []
        var next = Int(r.u16(Header.pnpPointer))
        while next != 0, headers.count < Self.maxPnPHeaders {
            guard r.contains(next, 4), r.hasTag(next, "$PnP") else {
                try r.check(next, 4, "$PnP")
                issues.append(.missingPnP(offset: offset, pointer: next))
                break
            }
            let header = try PnPExpansionHeader(r, at: next)
            if !header.checksumOK { issues.append(.pnpChecksum(offset: offset, sum: PnPExpansionHeader.sum(r, at: next))) }
            headers.append(header)
            next = header.nextHeader
        }
        pnpHeaders = headers

        let undiAt = Int(r.u16(Header.undiPointer))
        if undiAt != 0, r.hasTag(undiAt, "UNDI") {
            let id = try UNDIROMID(r, at: undiAt)
            if !id.checksumOK { issues.append(.undiChecksum(offset: offset, sum: UNDIROMID.sum(r, at: undiAt))) }
            undi = id
        } else {
            if undiAt != 0 {
                try r.check(undiAt, 4, "UNDI ROM ID")
                issues.append(.missingUNDI(offset: offset, pointer: undiAt))
            }
            undi = nil
        }
    }

    /// Where a JMP rel16 (E9) or JMP rel8 (EB) at `o` lands, if it is one.
    static func decodeJump(_ r: ROMBytes, at o: Int) -> Int? {
        let target: Int
        switch r.u8(o) {
        case 0xE9: target = (o + 3 + Int(Int16(bitPattern: r.u16(o + 1)))) & 0xFFFF
        case 0xEB: target = o + 2 + Int(Int8(bitPattern: r.u8(o + 1)))
        default: return nil
        }
        return r.contains(target, 1) ? target : nil
    }

    /// The Bootstrap Entry Vector of the first $PnP header that has one.
    public var bev: UInt16? { pnpHeaders.first { $0.bev != 0 }?.bev }
    /// The Boot Connection Vector of the first $PnP header that has one.
    public var bcv: UInt16? { pnpHeaders.first { $0.bcv != 0 }?.bcv }

    public static func == (a: ROMImage, b: ROMImage) -> Bool {
        a.offset == b.offset && a.pcir == b.pcir && a.checksum == b.checksum && a.issues == b.issues
    }
}
