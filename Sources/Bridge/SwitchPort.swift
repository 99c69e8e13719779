import NICCore

/// One port of a `VirtualSwitch`, with its link state, its faults and its
/// counters.
public final class SwitchPort: FrameTransmitter, FrameReceiver {
    enum Facing {
        /// A NIC model's port: the switch transmits into it with `offer`.
        case device
        /// A backend's port: the switch hands frames to the backend with
        /// `transmit` and receives what the backend offers.
        case backend
    }

    public let index: Int
    /// The `FramePort` this switch port drives.
    public let port: FramePort
    let facing: Facing
    unowned let owner: VirtualSwitch
    @exclusivity(unchecked)
    public internal(set) var counters = SwitchPortCounters()
    @exclusivity(unchecked)
    public private(set) var isLinkUp = true

    /// The impairments applied to frames leaving through this port.
    /// Changing them releases whatever is waiting in the delay line and
    /// reorder window first.
    public var faults: FaultProfile {
        didSet { if oldValue != faults { releaseHeldFrames() } }
    }

    @exclusivity(unchecked)
    var random: SeededRandom
    /// A frame being shaped (copied, FCS appended, maybe corrupted).
    let staging: FrameBuffer
    let delayLine: FrameSlots
    let reorderWindow: FrameSlots
    /// Release order for a reorder window, reused.
    @exclusivity(unchecked)
    var reorderOrder: [Int]
    @exclusivity(unchecked)
    var delayTimer: TimerID?
    /// A pending reorder-window timer, kept across windows so a busy port
    /// schedules at most one per hold time instead of one per window.
    @exclusivity(unchecked)
    var reorderTimer: TimerID?
    /// When the current reorder window must be released, if it holds frames.
    @exclusivity(unchecked)
    var reorderDeadline: UInt64?
    /// True while a frame is being handed to the attached side.
    @exclusivity(unchecked)
    var isDelivering = false
    lazy var delayLineDue: () -> Void = { [unowned self] in self.releaseDueDelayedFrames() }
    lazy var reorderWindowDue: () -> Void = { [unowned self] in self.reorderTimerFired() }

    init(switch owner: VirtualSwitch, index: Int, facing: Facing, port: FramePort, faults: FaultProfile) {
        self.owner = owner
        self.index = index
        self.facing = facing
        self.port = port
        self.faults = faults
        // Each port draws from its own stream so ports don't disturb each other.
        random = SeededRandom(seed: owner.seed ^ (UInt64(index + 1) &* 0xD1B5_4A32_D192_ED03))
        let slot = owner.configuration.maxFrameSize + 4
        staging = FrameBuffer(capacity: slot)
        delayLine = FrameSlots(capacity: owner.configuration.delayLineCapacity, slotSize: slot)
        reorderWindow = FrameSlots(capacity: FaultProfile.maxReorderWindow, slotSize: slot)
        reorderOrder = Array(0..<FaultProfile.maxReorderWindow)
    }

    // MARK: Link

    /// Carrier up or down on this port (the link up/down fault, or a backend
    /// that lost its peer). While down, frames in both directions are dropped
    /// and counted; going down discards held frames and forgets the
    /// addresses learned here.
    public func setLink(up: Bool) {
        guard up != isLinkUp else { return }
        isLinkUp = up
        if !up {
            counters.droppedLinkDown += delayLine.count + reorderWindow.count
            delayLine.removeAll()
            reorderWindow.removeAll()
            reorderDeadline = nil
            owner.flushEntries(on: index)
        }
        if facing == .device { port.setLink(up: up) }
    }

    /// Takes the link down `after` ns from now and back up `downFor` ns
    /// later, on the virtual clock (a cable pulled and plugged back in).
    public func flapLink(after delay: UInt64, downFor duration: UInt64) {
        let clock = owner.clock
        clock.schedule(after: delay) { [weak self] in
            guard let self else { return }
            self.setLink(up: false)
            clock.schedule(after: duration) { [weak self] in self?.setLink(up: true) }
        }
    }

    // MARK: Ingress

    /// A device on this port transmitted.
    public func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        ingress(frame)
    }

    /// A backend on this port brought a frame in.
    public func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
        ingress(frame)
        return .accepted
    }

    /// The backend's carrier changed (a QEMU peer connected or left).
    public func linkStateDidChange(up: Bool) {
        setLink(up: up)
    }

    private func ingress(_ frame: UnsafeRawBufferPointer) {
        guard isLinkUp else {
            counters.droppedLinkDown += 1
            return
        }
        counters.received += 1
        owner.forward(frame, from: self)
    }

    // MARK: Delivery

    /// Hands a frame that survived every fault to the attached side.
    func deliver(_ frame: UnsafeRawBufferPointer) {
        guard isLinkUp else {
            counters.droppedLinkDown += 1
            return
        }
        counters.delivered += 1
        counters.deliveredBytes += frame.count
        owner.tap?.switchPort(index, saw: frame, direction: .outbound, at: owner.clock.now)
        let wasDelivering = isDelivering
        isDelivering = true
        defer { isDelivering = wasDelivering }
        switch facing {
        case .device: port.offer(frame)
        case .backend: port.transmit(frame)
        }
    }
}
