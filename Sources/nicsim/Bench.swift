import ArgumentParser
import Board
import BootServer
import Bridge
import Foundation
import NICCore
import PXE
import UNDI
import Wire

/// `nicsim bench`: a TFTP download through the whole chain (the model, its
/// UNDI driver, the PXE base code's TFTP client, the virtual switch and the
/// BootServer), timed against copying the same bytes in the same run.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
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
