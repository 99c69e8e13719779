/// The Plug and Play Expansion Header ("$PnP", PnP BIOS Specification 1.0A
/// §3.2), pointed to by the word at 1Ah of a legacy image. A BIOS uses its
/// Boot Connection Vector (disk-like devices) or Bootstrap Entry Vector
/// (network boot) to boot from the device.
public struct PnPExpansionHeader: Equatable, Sendable {
    enum Field {
        /// "$PnP" signature.
        static let signature = 0x00
        /// Structure Revision (01h).
        static let revision = 0x04
        /// Length in 16-byte units.
        static let length = 0x05
        /// Offset of the next header (0 for none).
        static let next = 0x06
        /// Checksum: the header's bytes sum to 0.
        static let checksum = 0x09
        /// Device Identifier (EISA-compressed).
        static let deviceID = 0x0A
        /// Pointer to the Manufacturer String.
        static let manufacturer = 0x0E
        /// Pointer to the Product Name String.
        static let product = 0x10
        /// Device Type Code, 3 bytes (base, sub, interface).
        static let deviceType = 0x12
        /// Device Indicators.
        static let indicators = 0x15
        /// Boot Connection Vector.
        static let bcv = 0x16
        /// Disconnect Vector.
        static let dv = 0x18
        /// Bootstrap Entry Vector.
        static let bev = 0x1A
        /// Static Resource Information Vector.
        static let staticResource = 0x1E
        /// Bytes through the Static Resource Information Vector.
        static let minimumLength = 0x20
    }

    public let offset: Int
    public let revision: UInt8
    public let length: Int
    public let nextHeader: Int
    public let checksumOK: Bool
    public let deviceID: UInt32
    public let manufacturer: String?
    public let product: String?
    public let deviceType: UInt32
    public let indicators: UInt8
    /// Boot Connection Vector offset in the image segment (0: none).
    public let bcv: UInt16
    public let dv: UInt16
    /// Bootstrap Entry Vector offset in the image segment (0: none).
    public let bev: UInt16

    init(_ r: ROMBytes, at o: Int) throws(ROMError) {
        try r.check(o, Field.minimumLength, "$PnP")
        offset = o
        revision = r.u8(o + Field.revision)
        length = Int(r.u8(o + Field.length)) * 16
        nextHeader = Int(r.u16(o + Field.next))
        checksumOK = r.contains(o, length) && length > 0 && r.sum(o, length) == 0
        deviceID = r.u32(o + Field.deviceID)
        let m = Int(r.u16(o + Field.manufacturer)), p = Int(r.u16(o + Field.product))
        if m != 0 { try r.check(m, 1, "$PnP manufacturer string") }
        if p != 0 { try r.check(p, 1, "$PnP product string") }
        manufacturer = r.string(m)
        product = r.string(p)
        deviceType = UInt32(r.u8(o + Field.deviceType)) << 16 | UInt32(r.u8(o + Field.deviceType + 1)) << 8
            | UInt32(r.u8(o + Field.deviceType + 2))
        indicators = r.u8(o + Field.indicators)
        bcv = r.u16(o + Field.bcv)
        dv = r.u16(o + Field.dv)
        bev = r.u16(o + Field.bev)
        for (name, v) in [("BCV", bcv), ("DV", dv), ("BEV", bev)] where v != 0 {
            try r.check(Int(v), 1, "$PnP \(name)")
        }
    }

    /// Checksum sum, for the issue report.
    static func sum(_ r: ROMBytes, at o: Int) -> UInt8 {
        let len = Int(r.u8(o + Field.length)) * 16
        return r.sum(o, len)
    }
}
