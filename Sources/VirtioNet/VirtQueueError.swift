import NICCore

/// Why a split virtqueue could not be used as the guest laid it out.
///
/// Every one of these is a driver bug or a hostile guest. The device never
/// trusts a ring: it validates each descriptor as it walks, and on any of
/// these errors it sets DEVICE_NEEDS_RESET and stops using its queues.
public enum VirtQueueError: Error, Equatable, Sendable {
    /// A `next` field or an available-ring entry names a descriptor past
    /// the end of its table.
    case descriptorIndexOutOfRange(index: UInt16, tableSize: Int)
    /// The chain visits more descriptors than its table holds: a loop, or a
    /// chain longer than the queue (virtio 1.x 2.7.5.3.1).
    case chainTooLong(limit: Int)
    /// An indirect table whose length is zero, not a multiple of 16, or
    /// larger than the device walks (virtio 1.x 2.7.5.3.1).
    case indirectTableBadSize(length: UInt32)
    /// An indirect descriptor inside an indirect table.
    case nestedIndirect
    /// VIRTQ_DESC_F_INDIRECT without VIRTIO_F_RING_INDIRECT_DESC negotiated.
    case indirectNotNegotiated
    /// A device-readable descriptor after a device-writable one (2.7.4.2).
    case readableAfterWritable
    /// The available index ran ahead of what the device has seen by more
    /// than the queue size.
    case availableIndexJump(lastSeen: UInt16, published: UInt16)
    /// The used index in guest memory is not the one the device last wrote:
    /// the guest wrote to a device-owned field.
    case usedIndexMoved(expected: UInt16, found: UInt16)
    /// A buffer, an indirect table or a ring lies (partly) outside guest RAM.
    case outsideRAM(address: UInt64, length: UInt64)
    /// Packed ring: a descriptor inside a chain is not marked available,
    /// although the driver must publish the whole list first (2.8.6).
    case chainNotAvailable(slot: UInt16)
    /// Packed ring: an indirect descriptor inside a NEXT-linked list (2.8.7).
    case indirectInChain
    /// A DMA access failed (bus mastering disabled, or outside RAM).
    case dma(DMAError)
}
