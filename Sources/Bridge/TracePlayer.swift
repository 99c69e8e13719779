import NICCore

/// A trace file as a backend: plays the file's frames into a port (a NIC
/// receives them as if from the wire) and records what the NIC sends, and
/// what it was offered, in a pcapng file.
///
/// With `.asRecorded` timing each frame is offered when the virtual clock
/// reaches the first frame's offer time plus its recorded offset (a timer
/// wakes the player, so `Board.run` moves time to it); with `.immediate`
/// frames go as fast as the loop polls. Frames a pcapng file marks as
/// outbound were sent by the recorded station, not received by it, and are
/// skipped, as are packets whose link type is not Ethernet.
public final class TracePlayer: FrameTransmitter, EventSource {
    public enum Timing: Sendable, Equatable {
        case asRecorded
        case immediate
    }

    public struct Counters: Sendable, Equatable {
        /// Frames offered to the port.
        public var played = 0
        /// Outbound or non-Ethernet packets not offered.
        public var skipped = 0
        /// Frames the NIC transmitted.
        public var transmitted = 0
    }

    public let port: FramePort
    public let clock: VirtualClock
    public let timing: Timing
    /// Where offered (inbound) and transmitted (outbound) frames are written, if anywhere.
    public let recorder: PcapNGWriter?
    public private(set) var counters = Counters()
    /// The read or write error that stopped the player, if any.
    public private(set) var error: TraceFileError?
    /// True once every frame is played (or an error stopped it).
    public private(set) var isFinished = false

    private let reader: any TraceFileReader
    private var pending: TracePacket?
    private var firstTimestamp: UInt64?
    private var startTime: UInt64 = 0
    private var wakeTimer: TimerID?
    private lazy var wake: () -> Void = { [unowned self] in
        self.wakeTimer = nil
        _ = self.poll()
    }

    /// - Parameter recorder: a writer with interface 0 for this port.
    public init(reader: any TraceFileReader, port: FramePort, clock: VirtualClock,
                timing: Timing = .asRecorded, recorder: PcapNGWriter? = nil) {
        self.reader = reader
        self.port = port
        self.clock = clock
        self.timing = timing
        self.recorder = recorder
        port.transmitter = self
    }

    /// Offers every frame that is due (at most 64 per pass).
    public func poll() -> Bool {
        var played = 0
        while played < 64, !isFinished {
            if pending == nil, !readNext() { break }
            guard let p = pending else { break }
            if timing == .asRecorded {
                let first = firstTimestamp ?? p.timestamp
                if firstTimestamp == nil {
                    firstTimestamp = first
                    startTime = clock.now
                }
                let (due, overflow) = startTime.addingReportingOverflow(p.timestamp &- first)
                let when = p.timestamp < first ? clock.now : (overflow ? UInt64.max : due)
                if when > clock.now {
                    if wakeTimer == nil { wakeTimer = clock.schedule(at: when, wake) }
                    break
                }
            }
            port.offer(p.bytes)
            record(p.bytes, .inbound)
            counters.played += 1
            played += 1
            pending = nil
        }
        return played > 0
    }

    /// Reads ahead to the next playable packet. False at the end or on error.
    private func readNext() -> Bool {
        // Bounded by the file: each pass consumes one packet.
        while true {
            do {
                guard let p = try reader.next() else {
                    isFinished = true
                    return false
                }
                if p.direction == .outbound || reader.linkType(of: p.interface) != 1 {
                    counters.skipped += 1
                    continue
                }
                pending = p
                return true
            } catch {
                self.error = error
                isFinished = true
                return false
            }
        }
    }

    /// The NIC transmitted: the trace can't answer, so the frame is only recorded.
    public func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        counters.transmitted += 1
        record(frame, .outbound)
    }

    private func record(_ frame: UnsafeRawBufferPointer, _ direction: TraceDirection) {
        guard let recorder, error == nil else { return }
        do {
            try recorder.write(frame, interface: 0, timestamp: clock.now, direction: direction)
        } catch {
            self.error = error
        }
    }
}
