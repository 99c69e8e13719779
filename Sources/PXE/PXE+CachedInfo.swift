import NICCore
import UNDI

/// PXENV_GET_CACHED_INFO: PacketType 2, BufferSize 4, Buffer 6,
/// BufferLimit 10 (never written).
extension PXEAPI {
    /// Copies the cached DISCOVER, ACK or boot reply into the caller's
    /// buffer, or — when BufferSize is 0 or Buffer is null — points Buffer
    /// at our own BOOTPLAYER copy in the base-code data segment. BufferSize
    /// returns the bytes copied (or the packet's length).
    func getCachedInfo(_ b: GuestBlock) throws(PXEStatus) {
        try requireBaseCode()
        guard let type = CachedPacketType(rawValue: try b.u16(2)) else { throw .undiInvalidParameter }
        let (player, length) = baseCode.bootPlayer(type)
        let own = layout.cachedPacket(type)
        try GuestBlock(memory, at: own.linear).setBytes(0, player)
        let size = Int(try b.u16(4))
        let buffer = try b.address(6)
        if size == 0 || buffer.isNull {
            try b.set16(4, UInt16(length))
            try b.setAddress(6, own)
            return
        }
        let n = min(size, length)
        try GuestBlock(memory, at: buffer.linear).setBytes(0, Array(player.prefix(n)))
        try b.set16(4, UInt16(n))
    }

    /// Puts all three packets in their BOOTPLAYER buffers (done at boot,
    /// so an NBP that reads them straight from memory finds them).
    public func storeCachedPackets() throws(DMAError) {
        for type in CachedPacketType.allCases {
            try memory.write(at: layout.cachedPacket(type).linear, bytes: baseCode.bootPlayer(type).bytes)
        }
    }
}
