import NICCore

/// The impairments one switch port applies to the frames it sends out.
///
/// Every random choice comes from the port's own `SeededRandom`, derived
/// from the switch seed and the port number, so the same seed and the same
/// traffic give the same losses, copies, corruptions and orders, and
/// changing one port's faults never changes another port's outcomes.
public struct FaultProfile: Sendable, Equatable {
    /// Probability (0...1) that a frame is lost on the wire.
    public var lossRate: Double
    /// Probability (0...1) that a frame arrives twice.
    public var duplicationRate: Double
    /// Probability (0...1) that one bit of a frame (or its FCS) flips on the
    /// wire. The receiving side checks the FCS, drops the frame and counts it.
    public var corruptionRate: Double
    /// Fixed one-way latency, in virtual nanoseconds.
    public var delay: UInt64
    /// Extra latency drawn uniformly from 0...jitter per frame. The wire is a
    /// queue, so frames still leave in order; reordering is its own fault.
    public var jitter: UInt64
    /// Frames are gathered into a window of this many and released in a
    /// seeded random order (0 or 1: no reordering). At most `maxReorderWindow`.
    public var reorderWindow: Int
    /// How long a partly filled reorder window waits before it is released.
    public var reorderHold: UInt64

    public static let maxReorderWindow = 64

    public init(
        lossRate: Double = 0, duplicationRate: Double = 0, corruptionRate: Double = 0,
        delay: UInt64 = 0, jitter: UInt64 = 0,
        reorderWindow: Int = 0, reorderHold: UInt64 = VirtualClock.millisecond
    ) {
        self.lossRate = Self.probability(lossRate)
        self.duplicationRate = Self.probability(duplicationRate)
        self.corruptionRate = Self.probability(corruptionRate)
        self.delay = delay
        self.jitter = jitter
        self.reorderWindow = max(0, min(reorderWindow, Self.maxReorderWindow))
        self.reorderHold = reorderHold
    }

    /// A perfect wire.
    public static let none = FaultProfile()

    /// True when frames pass untouched and at once.
    public var isClean: Bool {
        lossRate == 0 && duplicationRate == 0 && corruptionRate == 0
            && delay == 0 && jitter == 0 && reorderWindow <= 1
    }

    private static func probability(_ p: Double) -> Double {
        p.isNaN ? 0 : max(0, min(p, 1))
    }
}
