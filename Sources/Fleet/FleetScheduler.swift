import Board
import Dispatch
import Foundation
import NICCore

/// Runs many simulated PCs as one simulation on one `VirtualClock`.
///
/// Each client's PXE code is straight-line and blocking (it waits through
/// `Board.run(until:)` and `Board.advance(by:)`), so each client runs on
/// its own thread; but only one thread ever runs at a time, handing a
/// baton back and forth with the scheduler, so the simulation stays single
/// threaded in effect and deterministic. A client that waits parks with a
/// deadline; it runs again when that deadline comes, or at once when its
/// card takes a frame it may be waiting for (`wake(_:)`). With nothing to
/// run at the current instant the scheduler moves the clock to the next
/// timer or deadline, whichever is first.
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
    private let back = DispatchSemaphore(value: 0)
    private(set) var finished = 0
    /// Thread stack per client: the PXE code's frames, with room to spare.
    static let stackSize = 1 << 20

    /// Called between turns, on the scheduler's thread: outside sources
    /// (a live host link) are polled and the wall clock kept; returns true
    /// if it delivered anything.
    var poll: (() -> Bool)?
    /// Called before the clock moves to `target`: the real-time pacer
    /// sleeps here when virtual time would run ahead of the wall clock.
    /// Returns the target it allows (sooner, to poll live sources again).
    var pace: ((UInt64) -> UInt64)?

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

    // MARK: Scheduler side

    /// Runs until every client has finished, or until virtual time reaches
    /// `limit`; then the clients left are cancelled (their waits return at
    /// once, so their own time-outs end them) and run out.
    func run(limit: UInt64) {
        // Polls in a row that delivered frames but woke nobody: bounded, so
        // a flood on a live link can't hold virtual time still for ever.
        var idlePolls = 0
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
                if s.state == .parked { resume(s) }
                idlePolls = 0
                continue
            }
            if let due = nextDue, due.deadline <= clock.now {
                queue.popFirst()
                resume(slots[due.payload.slot])
                idlePolls = 0
                continue
            }
            if idlePolls < 64, let poll, poll() {
                idlePolls += 1
                continue
            }
            let timer = clock.nextDeadline
            let wakeAt = nextDue?.deadline
            guard var target = [timer, wakeAt].compactMap({ $0 }).min() else { break }
            if target >= limit {
                cancelAll()
                continue
            }
            if let pace {
                target = pace(target)
                if idlePolls < 64, let poll, poll() {
                    idlePolls += 1
                    continue
                }
            }
            if let timer, timer <= target {
                clock.runNextTimer()
            } else {
                clock.advance(to: target)
            }
            idlePolls = 0
        }
        if finished < slots.count { cancelAll() }
    }

    private func cancelAll() {
        for s in slots where s.state != .finished {
            s.cancelled = true
            s.generation &+= 1
        }
        // Clients started or not: each runs to its end, every wait failing at once.
        for s in slots where s.state == .parked || s.state == .waitingToStart {
            resume(s)
        }
    }

    private func resume(_ slot: Slot) {
        slot.generation &+= 1
        let first = slot.state == .waitingToStart
        slot.state = .running
        if first {
            let thread = Thread { [slot] in
                slot.body(slot)
                slot.state = .finished
                slot.board?.scheduler = nil
                slot.board = nil
                self.finishedOne()
                self.back.signal()
            }
            thread.stackSize = Self.stackSize
            thread.start()
        } else {
            slot.go.signal()
        }
        back.wait()
    }

    private func finishedOne() { finished += 1 }

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

    /// Hands the baton to the scheduler until `deadline` (or a frame, if
    /// `frames`), then takes it back.
    private func park(_ slot: Slot, until deadline: UInt64, frames: Bool) {
        slot.state = .parked
        slot.wakeOnFrames = frames
        push(slot, deadline: deadline)
        back.signal()
        slot.go.wait()
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
