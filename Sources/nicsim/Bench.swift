import ArgumentParser
import Board
import BootServer
import Bridge
import Foundation
import NICCore
import NICSim
import PXE
import UNDI
import Wire

/// `nicsim bench`: figures as ratios to a baseline measured in the same
/// run, so they stand on any machine. `tftp` (the default) times a whole
/// download; `frames` times the frame path of one model and its driver.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks against memcpy in the same run: a TFTP download (tftp, the default) or the frame path (frames).",
        subcommands: [BenchTFTP.self, BenchFrames.self],
        defaultSubcommand: BenchTFTP.self
    )
}

/// `nicsim bench tftp`: a TFTP download through the whole chain (the model,
/// its UNDI driver, the PXE base code's TFTP client, the virtual switch and
/// the BootServer), timed against copying the same bytes in the same run.
struct BenchTFTP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tftp",
        abstract: "Time a TFTP download through model, UNDI, PXE, switch and BootServer against memcpy."
    )

    @Option(help: "NIC model: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ModelName = .rtl8139

    @Option(help: "File size in MiB.")
    var size: Int = 64

    @Option(help: "TFTP blksize the client asks for.")
    var blksize: Int = 1468

    @Option(help: "TFTP windowsize the client asks for.")
    var windowsize: Int = 16

    @Option(help: "Timed downloads (the best is reported).")
    var runs: Int = 3

    func validate() throws {
        guard (1...1024).contains(size) else { throw ValidationError("--size must be 1 to 1024 MiB") }
        guard (8...65464).contains(blksize) else { throw ValidationError("--blksize must be 8 to 65464") }
        guard (1...64).contains(windowsize) else { throw ValidationError("--windowsize must be 1 to 64") }
        guard (1...20).contains(runs) else { throw ValidationError("--runs must be 1 to 20") }
    }

    func run() throws {
        let bytes = size << 20
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededRandom(seed: UInt64(size))
        let content = [UInt64]((0..<(bytes / 8)).map { _ in rng.next() })
        _ = content.withUnsafeBytes { FileManager.default.createFile(atPath: dir.appendingPathComponent("big.img").path, contents: Data($0)) }

        let pc = SimulatedPC(model: model, mac: MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56))
        let network = VirtualSwitch(clock: pc.board.clock, seed: 1)
        network.connect(device: pc.port)
        let config = BootServerConfiguration(mac: MACAddress(0x02, 0x6E, 0x69, 0x63, 0x73, 0x01), ip: IPv4Address(10, 0, 2, 2),
                                             pool: IPv4Address(10, 0, 2, 100)...IPv4Address(10, 0, 2, 199), tftpRoot: dir.path)
        let server: BootServer
        do { server = try BootServer(configuration: config, clock: pc.board.clock) } catch { throw CLIError(description: error.description) }
        network.connect(device: server.port)
        let client: PXEClient
        do { client = try PXEClient(board: pc.board, driver: pc.driver) } catch { throw CLIError(description: error.description) }
        let options = TFTPTransferOptions(blockSize: blksize, windowSize: windowsize)
        let dhcp: DHCPResult
        do throws(PXEStatus) { dhcp = try client.baseCode.boot() } catch { throw CLIError(description: "DHCP failed: \(error)") }

        var best = Double.infinity
        var frames = 0
        for _ in 0..<runs {
            let before = pc.port.counters
            let wall = MonotonicClock()
            var sum = 0
            let n: Int
            do {
                n = try client.baseCode.tftp.readFile(server: dhcp.tftpServer, file: "big.img", options: options) { (_, chunk) throws(PXEStatus) in
                    sum &+= chunk.count
                }
            } catch { throw CLIError(description: "TFTP: \(error)") }
            let seconds = Double(wall.elapsed) / 1e9
            guard n == bytes, sum == bytes else { throw CLIError(description: "TFTP delivered \(n) of \(bytes) bytes") }
            best = min(best, seconds)
            frames = pc.port.counters.deliveredFrames - before.deliveredFrames + pc.port.counters.transmittedFrames - before.transmittedFrames
        }
        // The baseline: copying the same bytes, best of the same number of runs.
        var copy = [UInt8](repeating: 0, count: bytes)
        var baseline = Double.infinity
        content.withUnsafeBytes { from in
            copy.withUnsafeMutableBytes { to in
                for _ in 0..<max(runs, 3) {
                    let wall = MonotonicClock()
                    if let d = to.baseAddress, let s = from.baseAddress { d.copyMemory(from: s, byteCount: bytes) }
                    baseline = min(baseline, Double(wall.elapsed) / 1e9)
                }
            }
        }
        emit("nicsim bench: \(size) MiB over TFTP (blksize \(blksize), windowsize \(windowsize)) on \(pc.modelName), best of \(runs)")
        emit(String(format: "chain:  %.3f s, %.1f MB/s, %d frames (%.0f frames/s)", best, Double(bytes) / best / 1e6, frames, Double(frames) / best))
        emit(String(format: "memcpy: %.4f s, %.1f MB/s", baseline, Double(bytes) / baseline / 1e6))
        emit(String(format: "ratio:  %.1f x memcpy", best / baseline))
        _ = server
    }
}

/// `nicsim bench frames`: frames through one model and its UNDI driver, in
/// one direction, against a memcpy of the same frames in the same run.
/// rx: the wire offers each frame to the card's port and the driver takes
/// it from the ring; tx: the driver queues each frame and the card puts it
/// on the wire.
struct BenchFrames: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames",
        abstract: "Frames per second through a model and its driver, against a memcpy of the same frames."
    )

    enum Direction: String, ExpressibleByArgument, CaseIterable { case rx, tx }

    @Option(help: "NIC model: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ModelName = .rtl8139

    @Option(help: "rx (wire to driver) or tx (driver to wire).")
    var direction: Direction = .rx

    @Option(help: "Frame size in bytes, 60 to 1514.")
    var size: Int = 64

    @Option(help: "Frames per timed run.")
    var frames: Int = 200_000

    @Option(help: "Timed runs (the best is reported).")
    var runs: Int = 3

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard (60...1514).contains(size) else { throw ValidationError("--size must be 60 to 1514 bytes") }
        guard (1000...100_000_000).contains(frames) else { throw ValidationError("--frames must be 1000 to 100000000") }
        guard (1...20).contains(runs) else { throw ValidationError("--runs must be 1 to 20") }
    }

    struct Report: JSONReport {
        var model: String
        var direction: String
        var size: Int
        var frames: Int
        var framesPerSecond: Double
        var memcpyFramesPerSecond: Double
        /// framesPerSecond / memcpyFramesPerSecond.
        var ratio: Double
    }

    /// Counts the card's transmissions (tx) without keeping them.
    final class Sink: FrameTransmitter {
        var frames = 0
        func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) { frames += 1 }
    }

    func run() throws {
        let mac = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
        let pc = SimulatedPC(model: model, mac: mac)
        let sink = Sink()
        pc.port.transmitter = sink
        do {
            try pc.driver.probe()
            try pc.driver.open(filter: [.directed, .broadcast], multicast: [])
        } catch { throw CLIError(description: "\(pc.modelName) driver: \(error)") }
        // A frame to the card from a peer, payload counting up.
        var frame = mac.bytes + [0x02, 0, 0, 0, 0, 1, 0x88, 0xB5]
        frame += (0..<(size - frame.count)).map { UInt8(truncatingIfNeeded: $0) }
        var buffer = [UInt8](repeating: 0, count: 2048)

        var best = Double.infinity
        for _ in 0..<runs {
            let wall = MonotonicClock()
            var moved = 0
            try frame.withUnsafeBytes { f in
                try buffer.withUnsafeMutableBytes { b in
                    switch direction {
                    case .rx:
                        for _ in 0..<frames {
                            pc.port.offer(f)
                            if pc.driver.receive(into: b) != nil { moved += 1 }
                        }
                    case .tx:
                        let before = sink.frames
                        for _ in 0..<frames {
                            do throws(DriverError) { try pc.driver.transmit(f) } catch {
                                throw CLIError(description: "\(pc.modelName) transmit: \(error)")
                            }
                        }
                        moved = sink.frames - before
                    }
                }
            }
            let seconds = Double(wall.elapsed) / 1e9
            guard moved == frames else {
                throw CLIError(description: "\(pc.modelName) moved \(moved) of \(frames) frames \(direction.rawValue)")
            }
            best = min(best, seconds)
        }
        // The baseline: copying the same frames, one memcpy each.
        var baseline = Double.infinity
        frame.withUnsafeBytes { f in
            buffer.withUnsafeMutableBytes { b in
                guard let d = b.baseAddress, let s = f.baseAddress else { return }
                for _ in 0..<max(runs, 3) {
                    let wall = MonotonicClock()
                    for i in 0..<frames {
                        d.copyMemory(from: s, byteCount: f.count)
                        // Keep the copy from being hoisted out of the loop.
                        d.storeBytes(of: UInt8(truncatingIfNeeded: i), as: UInt8.self)
                    }
                    baseline = min(baseline, Double(wall.elapsed) / 1e9)
                }
            }
        }
        let report = Report(model: model.rawValue, direction: direction.rawValue, size: size, frames: frames,
                            framesPerSecond: Double(frames) / best, memcpyFramesPerSecond: Double(frames) / baseline,
                            ratio: baseline / best)
        if json {
            emit(report.json())
        } else {
            emit("nicsim bench frames: \(frames) frames of \(size) bytes \(direction.rawValue) through \(pc.modelName) and its driver, best of \(runs)")
            emit(String(format: "model+driver: %.0f frames/s", report.framesPerSecond))
            emit(String(format: "memcpy:       %.0f frames/s", report.memcpyFramesPerSecond))
            emit(String(format: "ratio:        %.3f x memcpy", report.ratio))
        }
    }
}
