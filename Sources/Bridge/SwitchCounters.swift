/// Switch-wide forwarding counters.
public struct SwitchCounters: Sendable, Equatable {
    /// Frames sent to exactly one port found in the MAC table.
    public var forwarded = 0
    /// Frames sent to every other port: broadcast, multicast, or an unknown
    /// (or aged-out) destination.
    public var flooded = 0
    /// Frames whose destination was learned on the port they came in on:
    /// that segment already has them, so they go nowhere (802.1D filtering).
    public var filteredSameSegment = 0
    /// Frames to an 802.1D reserved group address (BPDU, PAUSE, LACP...),
    /// which a bridge consumes rather than relays.
    public var reservedGroupFiltered = 0
    /// Frames shorter than an Ethernet header.
    public var runts = 0
    /// Source addresses not learned because the MAC table was full.
    public var tableFull = 0
    /// Frames dropped because a port's device sent a frame while the switch
    /// was already delivering one to it too many levels deep.
    public var reentrancyDrops = 0
    public init() {}
}

/// Counters one switch port keeps.
public struct SwitchPortCounters: Sendable, Equatable {
    /// Frames the attached device sent into the switch.
    public var received = 0
    /// Frames handed to the attached device (after every fault).
    public var delivered = 0
    public var deliveredBytes = 0
    /// Frames lost by the loss fault.
    public var lost = 0
    /// Extra copies made by the duplication fault.
    public var duplicated = 0
    /// Frames that had a bit flipped by the corruption fault.
    public var corrupted = 0
    /// Frames the receiving side dropped because their FCS was wrong.
    public var fcsErrors = 0
    /// Frames released from a reorder window in a different order.
    public var reorderWindows = 0
    /// Frames dropped because the delay line was full.
    public var delayOverflow = 0
    /// Frames dropped in either direction while the port's link was down.
    public var droppedLinkDown = 0
    public init() {}
}
