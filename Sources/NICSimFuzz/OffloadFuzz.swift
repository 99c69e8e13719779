import NICCore

/// What a host link does to every frame from a live interface before a
/// model sees it: finishing partial TCP/UDP checksums
/// (`ChecksumOffload.completePartial`, and the virtio-net header's
/// NEEDS_CSUM form with offsets from the input) and cutting TCP
/// super-frames to an MTU (`SegmentationOffload`). Input: a flags byte,
/// the MTU (u16, folded into 68...9000), csum_start and csum_offset (u16
/// each), then the frame. Flags bit 0 first stores the pseudo-header sum
/// in the transport checksum field, as a Linux sender leaves it, so the
/// completion path is reached.
///
/// Beyond "never traps": a frame keeps its length; a completed checksum
/// verifies; every segment fits the MTU, verifies, and together the
/// segments carry exactly the super-frame's payload.
enum OffloadFuzz {
    static func run(_ input: inout FuzzInput) {
        let flags = input.u8()
        let mtu = 68 + Int(input.u16()) % (9000 - 68 + 1)
        let start = Int(input.u16())
        let offset = Int(input.u16())
        var frame = Array(input.rest())
        let count = frame.count
        if flags & 1 != 0 { _ = frame.withUnsafeMutableBytes { ChecksumOffload.leavePartial($0) } }

        var completed = frame
        let done = completed.withUnsafeMutableBytes { ChecksumOffload.completePartial($0) }
        precondition(completed.count == count, "completion changed the frame's length")
        if done {
            precondition(completed.withUnsafeBytes { ChecksumOffload.transportChecksumIsValid($0) } == true,
                         "a completed checksum does not verify")
        }

        var needsChecksum = frame
        _ = needsChecksum.withUnsafeMutableBytes { ChecksumOffload.complete($0, start: start, offset: offset) }
        precondition(needsChecksum.count == count)

        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 18 + mtu, alignment: 16)
        defer { scratch.deallocate() }
        var carried = 0
        var segments = 0
        let cut = frame.withUnsafeBytes { f in
            SegmentationOffload.segment(f, mtu: mtu, scratch: scratch) { segment in
                segments += 1
                precondition(segment.count <= 18 + mtu, "a segment is larger than the MTU allows")
                precondition(ChecksumOffload.transportChecksumIsValid(segment) == true, "a segment's checksum does not verify")
                carried += ChecksumOffload.transportPayload(segment)?.count ?? 0
            }
        }
        if let cut {
            precondition(cut == segments)
            let whole = frame.withUnsafeBytes { ChecksumOffload.transportPayload($0)?.count } ?? -1
            precondition(carried == whole, "the segments carry \(carried) bytes of a \(whole)-byte payload")
        }
    }
}
