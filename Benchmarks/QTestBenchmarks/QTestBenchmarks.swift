import Benchmark
import NICSim

#if canImport(Glibc)
import Glibc
#endif

/// A receiver that takes every frame and keeps nothing.
final class Sink: FrameReceiver {
    var bytes = 0
    func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
        bytes &+= frame.count
        return .accepted
    }
    func linkStateDidChange(up: Bool) {}
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.throughput, .wallClock, .mallocCountTotal], maxDuration: .seconds(3))

    // The stream netdev's inbound path (qtest's `-netdev socket,fd=N`, the
    // Bridge's QEMUSocket adopting the socket): length-prefixed frames read
    // from a socket, split and offered to the NIC's port. Baseline: the same
    // bytes through the socket with nothing parsed.
    for size in [64, 1514] {
        Benchmark("stream netdev inbound, \(size)-byte frames (batch of 32)") { benchmark in
            var fds: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { return }
            var bufferSize: Int32 = 1 << 20
            setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &bufferSize, socklen_t(MemoryLayout<Int32>.size))
            let port = FramePort(policy: .drop)
            let sink = Sink()
            port.receiver = sink
            guard let netdev = try? QEMUSocket(.adopt(fd: fds[0], listening: false), port: port, drivesLink: false) else { return }
            var batch = [UInt8]()
            for _ in 0..<32 {
                batch += [0, 0, UInt8(size >> 8), UInt8(size & 0xFF)] + [UInt8](repeating: 0xA5, count: size)
            }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                _ = batch.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
                let target = netdev.counters.framesIn + 32
                var spins = 0
                while netdev.counters.framesIn < target && spins < 10_000 {
                    _ = netdev.poll()
                    spins += 1
                }
            }
            benchmark.stopMeasurement()
            blackHole(sink.bytes)
            netdev.close()
            close(fds[1])
        }
    }

    // Baseline for the above: the same batches through the same socket,
    // read raw into one buffer with nothing parsed or delivered.
    for size in [64, 1514] {
        Benchmark("baseline: raw socket read, \(size)-byte frames (batch of 32)") { benchmark in
            var fds: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { return }
            var bufferSize: Int32 = 1 << 20
            setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &bufferSize, socklen_t(MemoryLayout<Int32>.size))
            let batch = [UInt8](repeating: 0xA5, count: 32 * (4 + size))
            var sink = [UInt8](repeating: 0, count: 4 + 65536)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                _ = batch.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
                var got = 0
                var spins = 0
                while got < batch.count && spins < 10_000 {
                    let n = sink.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
                    if n > 0 { got += n }
                    spins += 1
                }
            }
            benchmark.stopMeasurement()
            blackHole(sink[0])
            close(fds[0])
            close(fds[1])
        }
    }

    // One qtest command end to end: parse, a configuration cycle, the reply.
    Benchmark("qtest command: inl 0xcfc (parse, config read, reply)") { benchmark in
        var options = QEMUOptions()
        options.memorySize = 16 << 20
        guard let machine = try? QTestMachine(options: options) else { return }
        var replies = 0
        let server = QTestServer(board: machine.board) { _ in replies &+= 1 }
        server.handle(line: "outl 0xcf8 0x80000800")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { server.handle(line: "inl 0xcfc") }
        benchmark.stopMeasurement()
        blackHole(replies)
    }
}
