import Board
import Dispatch
import Foundation
import NICCore

/// Runs many simulated PCs as one simulation on one `VirtualClock`.
///
/// Each client's PXE code is straight-line and blocking (it waits through
/// `Board.run(until:)` and `Board.advance(by:)`), so each client runs on
/// its own thread; but only one thread ever runs at a time, the one that
/// holds the baton, so the simulation stays single threaded in effect and
/// deterministic. A client that waits parks with a deadline; it runs again
/// when that deadline comes, or at once when its card takes a frame it may
/// be waiting for (`wake(_:)`). The thread that parks (or finishes) picks
/// what runs next itself: with nothing to run at the current instant it
/// moves the clock to the next timer or deadline, whichever is first, and
/// hands the baton straight to the client due, or keeps it when that is
/// itself (an x86 machine's CPU waits a slice at a time: most of its waits
/// cost no thread switch at all).
final class FleetScheduler: BoardScheduler, @unchecked Sendable {
    let clock: VirtualClock

    /// One client's thread and where it stands.
    final class Slot: @unchecked Sendable {
        enum State { case waitingToStart, running, parked, finished }
        let index: Int
        let body: (Slot) -> Void
        var state = State.waitingToStart
        var board: Board?
        /// The card's wire side: frames it holds for a full ring.
        var port: FramePort?
        /// What the client's NBP does with frames while it idles (pxelinux
        /// answers ARP and drops the rest); nil: it doesn't look.
        var idle: (() -> Void)?
        var idling = false
        var wakeOnFrames = false
        var queued = false
        var generation: UInt64 = 0
        /// After the fleet's time limit, every wait returns at once.
        var cancelled = false {
            didSet { if cancelled, !oldValue { onCancel?() } }
        }
        /// Called when the client is cut off (before it runs again).
        var onCancel: (() -> Void)?
        let go = DispatchSemaphore(value: 0)
        init(index: Int, body: @escaping (Slot) -> Void) {
            self.index = index
            self.body = body
        }
    }

    /// A client due to run: its slot, and the slot's generation when it
    /// was queued (an older generation is stale).
    private struct Due {
        var slot: Int
        var generation: UInt64
    }

    private var slots: [Slot] = []
    private var queue = DeadlineQueue<Due>()
    private var ready: [Int] = []
    private var readyHead = 0
    private(set) var finished = 0
    /// Thread stack per client: the PXE code's frames, with room to spare.
    static let stackSize = 1 << 20

    /// Called between turns, on the scheduler's thread: outside sources
    /// (a live host link) are polled; returns true if it delivered anything.
    var poll: (() -> Bool)?
    /// With a live link: where virtual time should stand by the wall clock
    /// now (the run's start plus real time elapsed). The run keeps virtual
    /// time there: it moves the clock up to it (running what fell due on
    /// the way, in order) before it polls, so frames from the link arrive
    /// at the virtual time they arrived in reality, and it sleeps while
    /// the next event is ahead of it.
    var realTime: (() -> UInt64)?
    /// With a live link: the most virtual time ever stood behind the wall
    /// clock when the run took a turn (ns), sleeping's granularity included.
    private(set) var lag: UInt64 = 0

    init(clock: VirtualClock) {
        self.clock = clock
    }

    /// Adds a client whose `body` runs on its own thread from `start`
    /// (virtual ns); returns its slot number.
    @discardableResult
    func add(start: UInt64, _ body: @escaping (Slot) -> Void) -> Int {
        let slot = Slot(index: slots.count, body: body)
        slots.append(slot)
        push(slot, deadline: start)
        return slot.index
    }

    /// The client's card took (or had to hold) a frame: if it is parked
    /// waiting for the network, it runs at this instant.
    func wake(_ index: Int) {
        let slot = slots[index]
        guard slot.state == .parked, slot.wakeOnFrames, !slot.queued else { return }
        slot.queued = true
        ready.append(index)
    }

    private func push(_ slot: Slot, deadline: UInt64) {
        slot.generation &+= 1
        queue.push(deadline: deadline, Due(slot: slot.index, generation: slot.generation))
    }

    /// The earliest live deadline (stale entries dropped).
    private var nextDue: DeadlineQueue<Due>.Entry? {
        while let top = queue.first {
            let s = slots[top.payload.slot]
            if top.payload.generation == s.generation, s.state == .parked || s.state == .waitingToStart { return top }
            queue.popFirst()
        }
        return nil
    }

    // MARK: Choosing what runs

    /// Where the run stops moving time.
    private var limit: UInt64 = .max
    /// Polls in a row that delivered frames but woke nobody: bounded, so a
    /// flood on a live link can't hold off the clients' own deadlines.
    private var idlePolls = 0
    /// With a live link: when (wall-clock virtual time) it is next looked at.
    private var nextPoll: UInt64 = 0
    static let pollInterval = 100 * VirtualClock.microsecond
    /// Signalled when the last client has finished.
    private let done = DispatchSemaphore(value: 0)

    /// Runs until every client has finished; at virtual time `limit` the
    /// clients left are cancelled (their waits return at once, so their
    /// own time-outs end them) and run out.
    func run(limit: UInt64) {
        self.limit = limit
        guard let first = next() else { return }
        start(first)
        done.wait()
    }

    /// The client to run next, moving the clock (and, with a live link,
    /// polling it and keeping to the wall clock) until one is due; nil
    /// when every client has finished. Runs on the baton holder's thread.
    private func next() -> Slot? {
        while finished < slots.count {
            if readyHead < ready.count {
                let i = ready[readyHead]
                readyHead += 1
                if readyHead == ready.count {
                    ready.removeAll(keepingCapacity: true)
                    readyHead = 0
                }
                let s = slots[i]
                s.queued = false
                idlePolls = 0
                if s.state == .parked || s.state == .waitingToStart { return s }
                continue
            }
            if let due = nextDue, due.deadline <= clock.now {
                queue.popFirst()
                idlePolls = 0
                return slots[due.payload.slot]
            }
            let timer = clock.nextDeadline
            let wakeAt = nextDue?.deadline
            guard let next = [timer, wakeAt].compactMap({ $0 }).min() else {
                // Nothing will ever wake the clients left: end them.
                cancelAll()
                continue
            }
            if let realTime {
                // Virtual time follows the wall clock: catch up to it (but
                // not past the next event), then look at the link, so its
                // frames arrive at the virtual time they arrived in
                // reality; the link is looked at even while the run is
                // behind (a busy CPU) and catching up.
                let real = realTime()
                if real > clock.now {
                    lag = max(lag, real - clock.now)
                    if next > real { clock.advance(to: min(real, limit)) }
                }
                // Looked at every 100 us of wall time at most while events
                // are due (a CPU's slices come faster), and always before
                // sleeping: a look is a system call.
                if idlePolls < 64, let poll, next > real || real >= nextPoll {
                    nextPoll = real &+ Self.pollInterval
                    if poll() {
                        idlePolls += 1
                        continue
                    }
                }
                idlePolls = 0
                if next >= limit { cancelAll(); continue }
                if next <= real {
                    step(to: next, timer: timer)
                    continue
                }
                // Ahead of the wall clock: wait for it, at most 1 ms at a
                // time so the link is polled often.
                if next > clock.now { usleep(useconds_t(min(next - clock.now, VirtualClock.millisecond) / 1000)) }
                continue
            }
            if next >= limit {
                cancelAll()
                continue
            }
            step(to: next, timer: timer)
        }
        return nil
    }

    /// Moves the clock to `target`, the earliest of the next timer and the
    /// next client due: the timer runs if it is that one.
    private func step(to target: UInt64, timer: UInt64?) {
        if let timer, timer <= target {
            clock.runNextTimer()
        } else {
            clock.advance(to: target)
        }
    }

    /// Cancels every client not finished and makes them all ready, started
    /// or not: each runs to its end, every wait failing at once.
    private func cancelAll() {
        for s in slots where s.state != .finished {
            s.cancelled = true
            s.generation &+= 1
            if (s.state == .parked || s.state == .waitingToStart), !s.queued {
                s.queued = true
                ready.append(s.index)
            }
        }
    }

    /// Gives `slot` the baton: its thread starts, or it returns from `park`.
    private func start(_ slot: Slot) {
        slot.generation &+= 1
        let first = slot.state == .waitingToStart
        slot.state = .running
        guard first else {
            slot.go.signal()
            return
        }
        let thread = Thread { [slot] in
            slot.body(slot)
            slot.state = .finished
            slot.board?.scheduler = nil
            slot.board = nil
            self.finished += 1
            self.handOff(from: nil)
        }
        thread.stackSize = Self.stackSize
        thread.start()
    }

    /// The baton holder stops running (`current` has parked, or its client
    /// finished: nil): it picks what runs next and hands the baton over,
    /// or keeps it when that is `current`. Returns once `current` runs again.
    private func handOff(from current: Slot?) {
        guard let n = next() else {
            done.signal()
            return
        }
        if let current, n === current {
            n.generation &+= 1
            n.state = .running
            return
        }
        start(n)
        current?.go.wait()
    }

    // MARK: Client side (on the client's thread)

    /// Each client's board, to its slot.
    private var boards: [ObjectIdentifier: Slot] = [:]

    private func slot(of board: Board) -> Slot? { boards[ObjectIdentifier(board)] }

    /// Makes `board` the client's: its waits come here from now on.
    func bind(_ board: Board, to slot: Slot) {
        boards[ObjectIdentifier(board)] = slot
        slot.board = board
        board.scheduler = self
    }

    func unbind(_ board: Board) {
        boards[ObjectIdentifier(board)] = nil
        board.scheduler = nil
    }

    /// Waits until `deadline` (or a frame, if `frames`): what runs
    /// meanwhile is chosen here, on this thread, and may be this client.
    private func park(_ slot: Slot, until deadline: UInt64, frames: Bool) {
        slot.state = .parked
        slot.wakeOnFrames = frames
        push(slot, deadline: deadline)
        handOff(from: slot)
    }

    func run(_ board: Board, until condition: () -> Bool, timeout: UInt64) -> Bool {
        guard let slot = slot(of: board) else { return false }
        let (t, overflow) = clock.now.addingReportingOverflow(timeout)
        let end = overflow ? UInt64.max : t
        var retries = 0
        while true {
            board.runUntilIdle()
            if condition() { return true }
            if slot.cancelled || clock.now >= end { return false }
            // Frames held while the ring was full reach the card only when
            // pumped; having drained the ring, look at them before waiting.
            if let port = slot.port, port.pendingFrames > 0, retries < 256 {
                retries += 1
                continue
            }
            park(slot, until: end, frames: true)
        }
    }

    /// Idle waits at least this long run the client's idle handler as frames come.
    static let idleThreshold = 10 * VirtualClock.millisecond

    func advance(_ board: Board, by nanoseconds: UInt64) {
        guard let slot = slot(of: board) else { return }
        board.runUntilIdle()
        guard !slot.cancelled else { return }
        let (t, overflow) = clock.now.addingReportingOverflow(nanoseconds)
        let end = overflow ? UInt64.max : t
        if nanoseconds >= Self.idleThreshold, let idle = slot.idle, !slot.idling {
            // A long wait of the NBP's own (pxelinux's PROMPT timeout): it
            // keeps serving the network as frames arrive. Short waits are a
            // driver's, inside an UNDI call, where nothing may re-enter it.
            while clock.now < end, !slot.cancelled {
                park(slot, until: end, frames: true)
                board.runUntilIdle()
                slot.idling = true
                idle()
                slot.idling = false
            }
        } else {
            park(slot, until: end, frames: false)
        }
        board.runUntilIdle()
    }
}
