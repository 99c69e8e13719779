import Benchmark
import Foundation
import NICSim

// Trace readers against libpcap on the same file in the same run, and
// switch forwarding. One iteration of a reader benchmark reads a whole
// file of `tracePackets` packets, so packets/s = iterations/s * tracePackets
// and mallocs per packet = mallocs per iteration / tracePackets. One
// iteration of a switch benchmark forwards `switchFrames` frames.

let tracePackets = 20_000
let switchFrames = 10_000

/// Writes the benchmark trace files once: mixed frame sizes 60...1514.
func traceFiles() -> (pcap: String, pcapng: String) {
    // One fixed place, overwritten by every run, so runs leave no litter.
    let dir = NSTemporaryDirectory() + "nicsim-bridge-bench"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let pcap = dir + "/bench.pcap", pcapng = dir + "/bench.pcapng"
    do {
        let w1 = try PcapWriter(path: pcap, precision: .nanosecond)
        let w2 = try PcapNGWriter(path: pcapng)
        var rng = SeededRandom(seed: 1)
        let frame = [UInt8]((0..<1514).map { UInt8(truncatingIfNeeded: $0) })
        try frame.withUnsafeBytes { (all: UnsafeRawBufferPointer) throws in
            for i in 0..<tracePackets {
                let size = [60, 590, 1514][Int(rng.next() % 3)]
                let f = UnsafeRawBufferPointer(rebasing: all[..<size])
                try w1.write(f, timestamp: UInt64(i) * 1_000)
                try w2.write(f, timestamp: UInt64(i) * 1_000, direction: i % 2 == 0 ? .inbound : .outbound)
            }
        }
        try w1.close()
        try w2.close()
    } catch {
        fatalError("bridge benchmarks: cannot write trace files: \(error)")
    }
    return (pcap, pcapng)
}

/// The replay figure's trace: `tracePackets` 64-byte frames to `replayMAC`.
let replayMAC = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)

func replayTrace() -> String {
    let path = NSTemporaryDirectory() + "nicsim-bridge-bench/replay.pcap"
    do {
        let w = try PcapWriter(path: path, precision: .nanosecond)
        var frame = [UInt8](repeating: 0x5A, count: 64)
        for i in 0..<6 { frame[i] = replayMAC[i] }
        frame[12] = 0x88; frame[13] = 0xB5
        try frame.withUnsafeBytes { (f: UnsafeRawBufferPointer) throws in
            for i in 0..<tracePackets { try w.write(f, timestamp: UInt64(i) * 1_000) }
        }
        try w.close()
    } catch {
        fatalError("bridge benchmarks: cannot write the replay trace: \(error)")
    }
    return path
}

/// What `nicsim replay` does per frame: the next packet of the trace to
/// the RTL8139's port, and the driver takes it from the ring.
@inline(never)
func replay(_ path: String) throws -> Int {
    let board = Board(memorySize: 16 << 20)
    let card = RTL8139(macAddress: replayMAC, memory: board.memory, clock: board.clock)
    board.attach(card, at: PCIAddress(device: 3))
    board.assignResources()
    board.add(port: card.port)
    let driver = RTL8139Driver(bus: DriverBus(board: board))
    try driver.probe()
    try driver.open(filter: [.directed, .broadcast], multicast: [])
    let reader = try PcapReader(path: path)
    var buffer = [UInt8](repeating: 0, count: 2048)
    var received = 0
    try buffer.withUnsafeMutableBytes { out throws in
        while let p = try reader.next() {
            card.port.offer(p.bytes)
            if driver.receive(into: out) != nil { received += 1 }
        }
    }
    if received != tracePackets { fatalError("replayed \(received) of \(tracePackets) frames") }
    return received
}

/// Reads every packet, touching one byte of each so nothing is optimised
/// away, and stops the run if a reader did not deliver the whole file.
@inline(never)
func readAll(_ reader: any TraceFileReader) -> Int {
    var sum = 0
    var count = 0
    while let p = try? reader.next() {
        sum &+= p.bytes.count &+ Int(p.bytes.first ?? 0)
        count += 1
    }
    if count != tracePackets { fatalError("read \(count) of \(tracePackets) packets") }
    return sum
}

/// A NIC stand-in that counts what it is offered.
final class CountingReceiver: FrameReceiver {
    let port = FramePort(policy: .drop)
    var frames = 0
    init() { port.receiver = self }
    func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
        frames &+= 1
        return .accepted
    }
    func linkStateDidChange(up: Bool) {}
}

func forward(faults: FaultProfile, _ benchmark: Benchmark) {
    let clock = VirtualClock()
    let sw = VirtualSwitch(clock: clock, seed: 1)
    let a = CountingReceiver(), b = CountingReceiver()
    sw.connect(device: a.port)
    sw.connect(device: b.port, faults: faults)
    let macA = MACAddress(0x02, 0, 0, 0, 0, 1), macB = MACAddress(0x02, 0, 0, 0, 0, 2)
    var toB = [UInt8](repeating: 0x11, count: 590)
    var fromB = [UInt8](repeating: 0x22, count: 60)
    for i in 0..<6 {
        toB[i] = macB[i]; toB[6 + i] = macA[i]
        fromB[i] = macA[i]; fromB[6 + i] = macB[i]
    }
    fromB.withUnsafeBytes { b.port.transmit($0) }  // learn B
    toB.withUnsafeBytes { frame in
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for _ in 0..<switchFrames { a.port.transmit(frame) }
            clock.advance(by: VirtualClock.millisecond)
        }
        benchmark.stopMeasurement()
    }
    blackHole(b.frames)
}

let benchmarks: @Sendable () -> Void = {
    let files = traceFiles()
    let replayFile = replayTrace()
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        warmupIterations: 2,
        maxDuration: .seconds(4),
        maxIterations: 200
    )

    Benchmark("pcap: nicsim PcapReader (20k packets)") { _ in
        blackHole(readAll(try PcapReader(path: files.pcap)))
    }
    Benchmark("pcap: libpcap pcap_next_ex (20k packets)") { _ in
        blackHole(readAll(try LibpcapFileReader(path: files.pcap)))
    }
    Benchmark("pcapng: nicsim PcapNGReader (20k packets)") { _ in
        blackHole(readAll(try PcapNGReader(path: files.pcapng)))
    }
    Benchmark("pcapng: libpcap pcap_next_ex (20k packets)") { _ in
        blackHole(readAll(try LibpcapFileReader(path: files.pcapng)))
    }
    // The replay figure (docs/PERFORMANCE.md, figure 1) against libpcap
    // reading the same file in the same run; setting up the board and
    // driver is inside each iteration, as it is inside `nicsim replay`.
    Benchmark("replay: 20k 64-byte frames, libpcap pcap_next_ex") { _ in
        blackHole(readAll(try LibpcapFileReader(path: replayFile)))
    }
    Benchmark("replay: 20k 64-byte frames, PcapReader into RTL8139 C+ model + driver") { _ in
        blackHole(try replay(replayFile))
    }
    Benchmark("switch: forward learned unicast, clean (10k frames)") { benchmark in
        forward(faults: .none, benchmark)
    }
    Benchmark("switch: forward with loss+dup+corruption+reorder (10k frames)") { benchmark in
        forward(faults: FaultProfile(lossRate: 0.01, duplicationRate: 0.01, corruptionRate: 0.01, reorderWindow: 4), benchmark)
    }
}
