import ArgumentParser
import Board
import Bridge
import Foundation
import NICCore
import NICSim
import UNDI

/// `nicsim replay`: every frame of a pcap or pcapng trace, in order, to a
/// model's wire side, with the model's UNDI driver open for directed and
/// broadcast frames. When the model has no room, replay waits for the
/// driver to drain it, so pacing loses nothing; what the model refuses is
/// its receive filter's doing.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Drive a model's wire side with a pcap/pcapng trace."
    )

    @Option(help: "NIC model: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ModelName

    @Option(help: "The trace to play (pcap or pcapng).")
    var trace: String

    @Option(help: "The model's MAC address (default 52:54:00:12:34:56).")
    var mac: String?

    @OptionGroup(title: "Host network (the model's transmissions go out there)")
    var host: HostNetworkOptions

    @Option(help: "Record what the driver received and what the model transmitted (pcapng).")
    var out: String?

    @Flag(help: "Print one JSON object instead of the summary.")
    var json = false

    func validate() throws {
        if let mac, MACAddress(mac) == nil { throw ValidationError("--mac must look like 52:54:00:12:34:56") }
    }

    struct Report: JSONReport {
        var model: String
        var mac: String
        /// Ethernet frames read from the trace.
        var frames: Int
        /// Frames the model accepted and the driver received.
        var delivered: Int
        /// Frames the receive filter refused.
        var filtered: Int
        /// Frames the model transmitted.
        var transmitted: Int
        /// Packets not played: not Ethernet.
        var skipped: Int
        /// Accepted by the model but never handed to the driver (should be 0).
        var lost: Int
    }

    /// The model's transmissions: counted, recorded, and sent out of a
    /// host interface when bridged.
    final class Wire: FrameTransmitter {
        var transmitted = 0
        var recorder: PcapNGWriter?
        var host: FramePort?
        var clock: VirtualClock?
        var failure: TraceFileError?

        func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
            transmitted += 1
            host?.transmit(frame)
            record(frame, .outbound)
        }

        func record(_ frame: UnsafeRawBufferPointer, _ direction: TraceDirection) {
            guard let recorder, failure == nil else { return }
            do { try recorder.write(frame, interface: 0, timestamp: clock?.now ?? 0, direction: direction) } catch { failure = error }
        }
    }

    func run() throws {
        let macAddress = mac.flatMap(MACAddress.init) ?? MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
        let pc = SimulatedPC(model: model, mac: macAddress)
        let reader: any TraceFileReader
        do { reader = try openTraceFile(trace) } catch { throw CLIError(description: "\(trace): \(error.description)") }

        let wire = Wire()
        wire.clock = pc.board.clock
        pc.port.transmitter = wire
        var live: HostLink?
        if host.isRequested {
            let hostSide = FramePort(policy: .drop)
            live = try host.open(port: hostSide, macAddress: macAddress)
            wire.host = hostSide
        }
        if let out {
            do { wire.recorder = try PcapNGWriter(path: out) } catch { throw CLIError(description: "\(out): \(error.description)") }
        }
        try host.dropPrivileges()
        do {
            try pc.driver.probe()
            try pc.driver.open(filter: [.directed, .broadcast], multicast: [])
        } catch { throw CLIError(description: "\(pc.modelName) driver: \(error)") }

        var received = 0
        var buffer = [UInt8](repeating: 0, count: 16384)
        /// Hands every frame the driver has to the recorder; true if any.
        func drainDriver() -> Bool {
            var any = false
            // Each pass takes one frame from a finite ring.
            for _ in 0..<4096 {
                let n = buffer.withUnsafeMutableBytes { pc.driver.receive(into: $0) }
                guard let n else { break }
                received += 1
                any = true
                buffer.withUnsafeBytes { wire.record(UnsafeRawBufferPointer(rebasing: $0[0..<min(n, $0.count)]), .inbound) }
            }
            return any
        }
        /// Takes the one frame the model has just accepted; false if the
        /// driver did not find it.
        func takeOne() -> Bool {
            let n = buffer.withUnsafeMutableBytes { pc.driver.receive(into: $0) }
            guard let n else { return false }
            received += 1
            if wire.recorder != nil {
                buffer.withUnsafeBytes { wire.record(UnsafeRawBufferPointer(rebasing: $0[0..<min(n, $0.count)]), .inbound) }
            }
            return true
        }
        /// Lets the board and driver run until the port holds nothing back.
        func settle() {
            for _ in 0..<10_000 {
                pc.board.runUntilIdle()
                let drained = drainDriver()
                if pc.port.pendingFrames == 0 && !drained { return }
                if !drained { pc.board.advance(by: 10 * VirtualClock.microsecond) }
            }
        }

        var frames = 0, skipped = 0
        while true {
            let packet: TracePacket?
            do { packet = try reader.next() } catch { throw CLIError(description: "\(trace): \(error.description)") }
            guard let packet else { break }
            guard reader.linkType(of: packet.interface) == 1 else {
                skipped += 1
                continue
            }
            frames += 1
            // The common case needs no settling: the model took the frame
            // (or its filter refused it) and the driver takes it straight
            // from the ring. The board runs only when there is something
            // for it to do: a frame held back for want of room, a frame the
            // driver did not find, or outside sources (a live host link)
            // to poll.
            let offered = pc.port.offer(packet.bytes)
            let direct: Bool
            switch offered {
            case .delivered: direct = takeOne()
            case .filtered: direct = true
            case .queued, .dropped: direct = false
            }
            if !direct || pc.board.hasSources { settle() }
        }
        settle()
        try? wire.recorder?.close()
        if let failure = wire.failure { throw CLIError(description: "\(out ?? ""): \(failure.description)") }
        _ = live

        let counters = pc.port.counters
        let report = Report(model: model.rawValue, mac: macAddress.description, frames: frames, delivered: received,
                            filtered: counters.filteredFrames, transmitted: wire.transmitted, skipped: skipped,
                            lost: max(0, counters.deliveredFrames - received) + counters.droppedNoRoom)
        if json {
            emit(report.json())
        } else {
            emit("nicsim replay: \(trace) into \(pc.modelName) \(macAddress)")
            emit("frames: \(frames) read, \(received) delivered, \(counters.filteredFrames) filtered, \(wire.transmitted) transmitted"
                 + (skipped > 0 ? ", \(skipped) not Ethernet" : ""))
        }
    }
}
