/// What a NIC's receiver did with a frame offered from the wire.
public enum ReceiveOutcome: Sendable, Equatable {
    /// Stored for the guest (or counted, in a monitor mode that counts without storing).
    case accepted
    /// Refused by the address filter: the frame is gone, as on real hardware.
    case filtered
    /// The receiver can't take a frame now (ring full, receiver off, no buffers).
    case noRoom
}

/// The NIC side of a `FramePort`: a device model's receiver.
public protocol FrameReceiver: AnyObject {
    /// Offers one Ethernet frame (destination address first, no FCS).
    /// The bytes are valid only during the call; the model copies what it keeps.
    func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome
    /// The backend reports carrier up or down.
    func linkStateDidChange(up: Bool)
}

/// The backend side of a `FramePort`: where a NIC's transmissions go.
public protocol FrameTransmitter: AnyObject {
    /// One frame the NIC put on the wire (no FCS). Valid only during the call.
    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort)
}

/// What a backend does with an inbound frame the NIC can't take now.
public enum BackpressurePolicy: Sendable, Equatable {
    /// Keep up to `capacity` frames, in order, and offer them again when the
    /// event loop pumps the port; beyond that, drop and count.
    case hold(capacity: Int)
    /// Drop and count, as a wire does.
    case drop
}

/// The result of offering a frame to a port.
public enum OfferResult: Sendable, Equatable {
    case delivered
    case filtered
    /// Kept in the port's queue for a later pump.
    case queued
    /// Dropped: no room and no queue space, or link down.
    case dropped
}

/// Counters a port keeps on both directions.
public struct FramePortCounters: Sendable, Equatable {
    public var transmittedFrames = 0
    public var transmittedBytes = 0
    public var deliveredFrames = 0
    public var deliveredBytes = 0
    public var filteredFrames = 0
    /// Frames that had to wait because the receiver had no room.
    public var heldFrames = 0
    /// Frames dropped because the receiver had no room and policy or queue space said drop.
    public var droppedNoRoom = 0
    /// Frames dropped in either direction while the link was down.
    public var droppedLinkDown = 0
    public init() {}
}

/// The wire side of a NIC: it joins one device model to one backend.
///
/// The model calls `transmit(_:)`; the backend calls `offer(_:)` and
/// `setLink(up:)`. Frames the model can't take now wait in a bounded queue
/// of reused buffers (or are dropped) by the port's `BackpressurePolicy`;
/// the event loop calls `pump()` to offer them again. Nothing here
/// allocates per frame.
public final class FramePort {
    @exclusivity(unchecked)
    public weak var receiver: FrameReceiver?
    @exclusivity(unchecked)
    public weak var transmitter: FrameTransmitter?
    public let policy: BackpressurePolicy
    public let maxFrameSize: Int
    @exclusivity(unchecked)
    public private(set) var isLinkUp = true
    @exclusivity(unchecked)
    public private(set) var counters = FramePortCounters()
    private let queue: FrameQueue?

    /// - Parameters:
    ///   - policy: what to do with frames the receiver can't take now.
    ///   - maxFrameSize: the largest frame held in the queue; larger frames
    ///     are still offered directly but dropped rather than held.
    public init(policy: BackpressurePolicy = .hold(capacity: 64), maxFrameSize: Int = 9216) {
        self.policy = policy
        self.maxFrameSize = maxFrameSize
        if case .hold(let capacity) = policy, capacity > 0 {
            queue = FrameQueue(capacity: capacity, maxFrameSize: maxFrameSize)
        } else {
            queue = nil
        }
    }

    // MARK: NIC side

    /// The model puts a frame on the wire.
    public func transmit(_ frame: UnsafeRawBufferPointer) {
        guard isLinkUp else {
            counters.droppedLinkDown += 1
            return
        }
        counters.transmittedFrames += 1
        counters.transmittedBytes += frame.count
        transmitter?.transmit(frame: frame, from: self)
    }

    // MARK: Backend side

    /// Offers an inbound frame to the NIC, queueing or dropping it by policy
    /// when the NIC has no room. Frames keep their order: while any frame is
    /// queued, new ones queue behind it.
    @discardableResult
    public func offer(_ frame: UnsafeRawBufferPointer) -> OfferResult {
        guard isLinkUp else {
            counters.droppedLinkDown += 1
            return .dropped
        }
        if let queue, !queue.isEmpty {
            return enqueue(frame, in: queue)
        }
        switch receiver?.receive(frame: frame) ?? .noRoom {
        case .accepted:
            counters.deliveredFrames += 1
            counters.deliveredBytes += frame.count
            return .delivered
        case .filtered:
            counters.filteredFrames += 1
            return .filtered
        case .noRoom:
            guard let queue else {
                counters.droppedNoRoom += 1
                return .dropped
            }
            return enqueue(frame, in: queue)
        }
    }

    private func enqueue(_ frame: UnsafeRawBufferPointer, in queue: FrameQueue) -> OfferResult {
        if queue.push(frame) {
            counters.heldFrames += 1
            return .queued
        }
        counters.droppedNoRoom += 1
        return .dropped
    }

    /// Frames waiting for the receiver.
    public var pendingFrames: Int { queue?.count ?? 0 }

    /// Offers queued frames to the receiver until it has no room.
    /// Returns the number of frames that left the queue.
    @discardableResult
    public func pump() -> Int {
        guard let queue, let receiver else { return 0 }
        var moved = 0
        while !queue.isEmpty {
            let outcome = queue.withFront { receiver.receive(frame: $0) }
            if outcome == .noRoom { break }
            let size = queue.frontCount
            queue.pop()
            moved += 1
            if outcome == .accepted {
                counters.deliveredFrames += 1
                counters.deliveredBytes += size
            } else {
                counters.filteredFrames += 1
            }
        }
        return moved
    }

    /// Carrier up or down, as the backend sees it. Queued frames are
    /// discarded (and counted) when the link goes down.
    public func setLink(up: Bool) {
        guard up != isLinkUp else { return }
        isLinkUp = up
        if !up, let queue {
            counters.droppedLinkDown += queue.count
            queue.removeAll()
        }
        receiver?.linkStateDidChange(up: up)
    }
}
