/// Why an expansion ROM image could not be parsed. Each case names the
/// image's offset in the file so a user can find the bad bytes.
public enum ROMError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file is shorter than the smallest legacy header (0x1C bytes).
    case tooShort(offset: Int, available: Int)
    /// The image does not start with 55h AAh.
    case badSignature(offset: Int, found: UInt16)
    /// Header byte 2 (or the PCIR image length) says zero 512-byte blocks.
    case zeroLength(offset: Int)
    /// The image claims more bytes than the file holds after `offset`.
    case imagePastEnd(offset: Int, length: Int, fileSize: Int)
    /// A pointer in the image (to PCIR, $PnP, the UNDI ROM ID, a string, an
    /// entry vector) leads past the image's end.
    case pointerPastEnd(offset: Int, structure: String, pointer: Int, limit: Int)
    /// The pointer at header offset 18h does not lead to "PCIR".
    case missingPCIR(offset: Int, pointer: Int)
    /// The PCIR structure length is smaller than the fields it must hold.
    case shortPCIR(offset: Int, length: Int)
    /// More images than any real ROM chains (a loop or garbage).
    case tooManyImages(count: Int)

    public var description: String {
        switch self {
        case .tooShort(let o, let n):
            "image at 0x\(h(o)): only \(n) bytes, a ROM header needs at least 0x1c"
        case .badSignature(let o, let f):
            "image at 0x\(h(o)): signature is 0x\(h(f)), not 0xaa55 (55 AA)"
        case .zeroLength(let o):
            "image at 0x\(h(o)): length is 0 blocks of 512 bytes"
        case .imagePastEnd(let o, let l, let s):
            "image at 0x\(h(o)): claims 0x\(h(l)) bytes but the file ends at 0x\(h(s))"
        case .pointerPastEnd(let o, let s, let p, let l):
            "image at 0x\(h(o)): \(s) pointer 0x\(h(p)) is past the end of the image (0x\(h(l)))"
        case .missingPCIR(let o, let p):
            "image at 0x\(h(o)): no \"PCIR\" at the PCI data structure pointer 0x\(h(p))"
        case .shortPCIR(let o, let l):
            "image at 0x\(h(o)): PCIR structure length \(l) is shorter than 0x18"
        case .tooManyImages(let n):
            "more than \(n) images chained; the last-image indicator is never set"
        }
    }
}

/// Something wrong in an image that a BIOS might still run (or refuse):
/// a checksum, an inconsistent length, a missing optional structure.
public enum ROMIssue: Equatable, Sendable, CustomStringConvertible {
    /// The bytes of a legacy image (header byte 2 times 512) do not sum to 0.
    case imageChecksum(offset: Int, sum: UInt8)
    /// The $PnP header's bytes (length field times 16) do not sum to 0.
    case pnpChecksum(offset: Int, sum: UInt8)
    /// The UNDI ROM ID's bytes (StructLength) do not sum to 0.
    case undiChecksum(offset: Int, sum: UInt8)
    /// The pointer at 1Ah is set but "$PnP" is not there.
    case missingPnP(offset: Int, pointer: Int)
    /// The pointer at 16h is set but "UNDI" is not there.
    case missingUNDI(offset: Int, pointer: Int)
    /// Header byte 2 (initialization size) exceeds the PCIR image length.
    case initSizeExceedsImage(offset: Int, initSize: Int, imageLength: Int)

    public var description: String {
        switch self {
        case .imageChecksum(let o, let s):
            "image at 0x\(h(o)): checksum byte sum is 0x\(h(s, 2)), must be 0"
        case .pnpChecksum(let o, let s):
            "image at 0x\(h(o)): $PnP header checksum sum is 0x\(h(s, 2)), must be 0"
        case .undiChecksum(let o, let s):
            "image at 0x\(h(o)): UNDI ROM ID checksum sum is 0x\(h(s, 2)), must be 0"
        case .missingPnP(let o, let p):
            "image at 0x\(h(o)): no \"$PnP\" at the expansion header pointer 0x\(h(p))"
        case .missingUNDI(let o, let p):
            "image at 0x\(h(o)): no \"UNDI\" at the UNDI ROM ID pointer 0x\(h(p))"
        case .initSizeExceedsImage(let o, let i, let l):
            "image at 0x\(h(o)): initialization size 0x\(h(i)) exceeds the PCIR image length 0x\(h(l))"
        }
    }
}

func h<T: BinaryInteger>(_ v: T, _ digits: Int = 1) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, digits - s.count)) + s
}
