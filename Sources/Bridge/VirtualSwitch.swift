import NICCore

/// A learning Ethernet switch: any number of ports, a MAC table whose
/// entries age out on the virtual clock, and per-port fault injection.
///
/// It behaves as an IEEE 802.1D transparent bridge: each frame's source
/// address is learned against the port it came in on; a frame to a learned
/// unicast address goes out of that one port (or nowhere, if that is the
/// port it came from); broadcast, multicast and unknown destinations are
/// flooded to every other port. A table entry not refreshed for
/// `agingTime` is forgotten (802.1D's default is 300 s).
///
/// A port faces either a device (a NIC model's `FramePort`: the switch is
/// its transmitter and offers it frames) or a backend (a live capture, a
/// QEMU socket, a trace: the backend is the transmitter of a port the
/// switch receives on). Everything runs on the Board's thread; delays and
/// reorder windows are released by timers on the virtual clock.
public final class VirtualSwitch {
    public struct Configuration: Sendable {
        /// How long an unrefreshed MAC table entry lives (ns).
        public var agingTime: UInt64
        /// Most addresses the table holds; beyond that, new sources are not
        /// learned (their replies are flooded) until entries age out. Its
        /// memory is bounded by this, and learning costs the same at any fill.
        public var macTableCapacity: Int
        /// Largest frame a port queues for delay or reordering.
        public var maxFrameSize: Int
        /// Frames a port's delay line holds before it drops (a tail drop).
        public var delayLineCapacity: Int

        public init(agingTime: UInt64 = 300 * VirtualClock.second, macTableCapacity: Int = 8192,
                    maxFrameSize: Int = 9216, delayLineCapacity: Int = 256) {
            self.agingTime = agingTime
            self.macTableCapacity = max(1, macTableCapacity)
            self.maxFrameSize = max(64, maxFrameSize)
            self.delayLineCapacity = max(1, delayLineCapacity)
        }
    }

    public let clock: VirtualClock
    public let configuration: Configuration
    public let seed: UInt64
    @exclusivity(unchecked)
    public private(set) var ports: [SwitchPort] = []
    @exclusivity(unchecked)
    public internal(set) var counters = SwitchCounters()
    /// Sees every frame entering the switch and every frame a port delivers.
    @exclusivity(unchecked)
    public var tap: SwitchTap?
    @exclusivity(unchecked)
    var macTable: MACTable
    /// MAC table entries looked at to age them out (tests check that
    /// learning on a full table does not sweep it).
    var macTableEntriesExamined: Int { macTable.entriesExamined }
    @exclusivity(unchecked)
    private var depth = 0
    private static let maxDepth = 8

    public init(clock: VirtualClock, seed: UInt64 = 0, configuration: Configuration = Configuration()) {
        self.clock = clock
        self.seed = seed
        self.configuration = configuration
        macTable = MACTable(capacity: configuration.macTableCapacity, agingTime: configuration.agingTime)
    }

    // MARK: Ports

    /// Connects a device (a NIC model's port): the switch becomes its
    /// transmitter and delivers frames with `offer`.
    @discardableResult
    public func connect(device port: FramePort, faults: FaultProfile = .none) -> SwitchPort {
        let p = SwitchPort(switch: self, index: ports.count, facing: .device, port: port, faults: faults)
        port.transmitter = p
        ports.append(p)
        return p
    }

    /// Makes a port for a backend (a live capture, a QEMU socket): hand the
    /// returned port's `port` to the backend, which becomes its transmitter
    /// and offers it the frames it brings in, exactly as it would a NIC's.
    @discardableResult
    public func addBackendPort(faults: FaultProfile = .none) -> SwitchPort {
        let frames = FramePort(policy: .drop, maxFrameSize: configuration.maxFrameSize)
        let p = SwitchPort(switch: self, index: ports.count, facing: .backend, port: frames, faults: faults)
        frames.receiver = p
        ports.append(p)
        return p
    }

    // MARK: MAC table

    /// The port `address` was last seen on, if the entry has not aged out.
    public func port(for address: MACAddress) -> Int? {
        macTable.port(for: address, now: clock.now)
    }

    /// Live (not aged-out) entries in the MAC table.
    public var learnedAddressCount: Int {
        macTable.liveCount(now: clock.now)
    }

    /// Learns `source` on `port` in constant time (see `MACTable`); a full
    /// table of live entries learns nothing new and counts it.
    private func learn(_ source: MACAddress, on port: Int) {
        if !macTable.learn(source, on: port, now: clock.now) { counters.tableFull += 1 }
    }

    /// Drops every aged-out entry.
    public func removeExpiredEntries() {
        macTable.removeExpired(now: clock.now)
    }

    /// Forgets every address learned on `port` (its link went down: the
    /// stations behind it may reappear elsewhere).
    func flushEntries(on port: Int) {
        macTable.removeAll(on: port)
    }

    // MARK: Forwarding

    /// A frame came in on `ingress`.
    func forward(_ frame: UnsafeRawBufferPointer, from ingress: SwitchPort) {
        guard frame.count >= 14, let base = frame.baseAddress else {
            counters.runts += 1
            return
        }
        guard depth < Self.maxDepth else {
            counters.reentrancyDrops += 1
            return
        }
        depth += 1
        defer { depth -= 1 }
        tap?.switchPort(ingress.index, saw: frame, direction: .inbound, at: clock.now)

        let destination = MACAddress(loadingFrom: base)
        let source = MACAddress(loadingFrom: base + 6)

        // IEEE 802.1D reserved addresses 01-80-C2-00-00-00...0F (spanning
        // tree BPDUs, MAC control PAUSE, LACP, 802.1X) are for the link:
        // never relayed by a bridge, nor learned from.
        if destination.rawValue & ~0xF == 0x0180_C200_0000 {
            counters.reservedGroupFiltered += 1
            return
        }
        if !source.isMulticast { learn(source, on: ingress.index) }

        if !destination.isMulticast, let out = port(for: destination), out < ports.count {
            if out == ingress.index {
                counters.filteredSameSegment += 1
                return
            }
            counters.forwarded += 1
            ports[out].egress(frame)
            return
        }
        if !destination.isMulticast, macTable.contains(destination) {
            macTable.remove(destination)  // aged out: forget it and flood
        }
        counters.flooded += 1
        for p in ports where p !== ingress {
            p.egress(frame)
        }
    }
}
