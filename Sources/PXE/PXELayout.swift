/// Where the software option ROM keeps its pieces in conventional memory.
///
/// A PXE ROM copies its UNDI and base code below 640 KiB and describes the
/// segments in the PXENV+ and !PXE structures; NBPs find those structures
/// through INT 1Ah AX=5650h (ES:BX) and the far pointer at SS:SP+4. The
/// default places everything from segment 0x9000 (linear 0x90000) up:
///
/// | segment      | size   | holds                                            |
/// |--------------|--------|--------------------------------------------------|
/// | UNDI code    | 0x0400 | the PXENV+ entry (0) and the !PXE entry (0x10)    |
/// | UNDI data    | 0x0C00 | PXENV+ (0), !PXE (0x30), the ISR frame buffer (0x100) |
/// | BC code      | 0x0400 | (nothing the guest reads)                         |
/// | BC data      | 0x1000 | the three cached DHCP packets (BOOTPLAYER each)   |
/// | stack        | 0x0800 | the stack PXENV+ advertises                       |
public struct PXELayout: Sendable, Equatable {
    public var undiCodeSegment: UInt16
    public var undiDataSegment: UInt16
    public var baseCodeSegment: UInt16
    public var baseDataSegment: UInt16
    public var stackSegment: UInt16

    public static let undiCodeSize: UInt16 = 0x0400
    public static let undiDataSize: UInt16 = 0x0C00
    public static let baseCodeSize: UInt16 = 0x0400
    public static let baseDataSize: UInt16 = 0x1000
    public static let stackSize: UInt16 = 0x0800

    /// Offsets inside the UNDI code segment.
    public static let pxenvEntryOffset: UInt16 = 0x0000
    public static let bangPXEEntryOffset: UInt16 = 0x0010
    /// Offsets inside the UNDI data segment.
    public static let pxenvOffset: UInt16 = 0x0000
    public static let bangPXEOffset: UInt16 = 0x0030
    public static let receiveBufferOffset: UInt16 = 0x0100
    public static let receiveBufferSize = 1536
    /// Size of one cached packet buffer (BOOTPLAYER_t).
    public static let bootPlayerSize = 1260

    /// Everything packed upwards from `baseSegment` (default 0x9000).
    public init(baseSegment: UInt16 = 0x9000) {
        undiCodeSegment = baseSegment
        undiDataSegment = baseSegment &+ PXELayout.undiCodeSize / 16
        baseCodeSegment = undiDataSegment &+ PXELayout.undiDataSize / 16
        baseDataSegment = baseCodeSegment &+ PXELayout.baseCodeSize / 16
        stackSegment = baseDataSegment &+ PXELayout.baseDataSize / 16
    }

    public var pxenvAddress: RealModeAddress { RealModeAddress(segment: undiDataSegment, offset: PXELayout.pxenvOffset) }
    public var bangPXEAddress: RealModeAddress { RealModeAddress(segment: undiDataSegment, offset: PXELayout.bangPXEOffset) }
    public var pxenvEntry: RealModeAddress { RealModeAddress(segment: undiCodeSegment, offset: PXELayout.pxenvEntryOffset) }
    public var bangPXEEntry: RealModeAddress { RealModeAddress(segment: undiCodeSegment, offset: PXELayout.bangPXEEntryOffset) }
    public var receiveBuffer: RealModeAddress { RealModeAddress(segment: undiDataSegment, offset: PXELayout.receiveBufferOffset) }

    /// The BOOTPLAYER buffer for GET_CACHED_INFO packet type 1, 2 or 3.
    public func cachedPacket(_ type: CachedPacketType) -> RealModeAddress {
        RealModeAddress(segment: baseDataSegment, offset: UInt16(type.rawValue - 1) * 0x500)
    }
}

/// GET_CACHED_INFO PacketType.
public enum CachedPacketType: UInt16, Sendable, CaseIterable {
    /// PXENV_PACKET_TYPE_DHCP_DISCOVER: the client's DHCPDISCOVER.
    case dhcpDiscover = 1
    /// PXENV_PACKET_TYPE_DHCP_ACK: the DHCP server's DHCPACK.
    case dhcpAck = 2
    /// PXENV_PACKET_TYPE_CACHED_REPLY: the boot server's (or proxyDHCP's)
    /// reply, with the boot file name.
    case cachedReply = 3
}
