import Benchmark
import BenchmarkSupport
import NICSim

// Frames through the RTL8139C+ model and the RTL8139 UNDI driver, each way,
// at 64 and 1514 bytes, on the classic ring and slots and on the C+
// descriptor rings. Each run moves 1,000 frames (scaling factor kilo), so
// throughput is frames per second and the malloc count, divided by 1,000,
// is mallocs per frame (the target is zero).

private final class CountingWire: FrameTransmitter {
    var frames = 0
    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) { frames += 1 }
}

private let cardMAC = MACAddress(0x52, 0x54, 0x00, 0x81, 0x39, 0x01)

/// A board with the card at 00:03.0 and the driver open on it.
private final class Rig {
    let board = Board(memorySize: 16 << 20)
    let card: RTL8139
    let wire = CountingWire()
    let driver: RTL8139Driver

    init(mode: RTL8139Driver.Mode) throws {
        card = RTL8139(macAddress: cardMAC, memory: board.memory, clock: board.clock, port: FramePort(policy: .drop))
        board.attach(card, at: PCIAddress(device: 3))
        board.assignResources()
        board.add(port: card.port)
        card.port.transmitter = wire
        driver = RTL8139Driver(bus: DriverBus(board: board), mode: mode)
        try driver.probe()
        try driver.open(filter: [.directed, .broadcast], multicast: [])
    }
}

private func frame(length: Int) -> [UInt8] {
    ethernetFrame(to: cardMAC, length: length)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000
    )

    // Baselines in the same run: copying a frame's bytes once, and the
    // Ethernet FCS the receiver computes for every stored frame.
    for length in [64, 1514] {
        registerMemcpyBaseline("Baseline memcpy \(length) bytes", length: length)

        Benchmark("Baseline Ethernet FCS \(length) bytes") { benchmark in
            let bytes = frame(length: length)
            bytes.withUnsafeBytes { p in
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    blackHole(EthernetFCS.compute(p))
                }
                benchmark.stopMeasurement()
            }
        }
    }

    for (label, mode) in [("classic", RTL8139Driver.Mode.classic), ("C+", .automatic)] {
        for length in [64, 1514] {
            Benchmark("RTL8139 \(label) transmit \(length) bytes (driver + model)") { benchmark in
                let rig = try Rig(mode: mode)
                let bytes = frame(length: length)
                try bytes.withUnsafeBytes { p in
                    benchmark.startMeasurement()
                    for _ in benchmark.scaledIterations {
                        try rig.driver.transmit(p)
                    }
                    benchmark.stopMeasurement()
                }
                precondition(rig.wire.frames >= benchmark.scaledIterations.count, "frames went missing")
            }

            Benchmark("RTL8139 \(label) receive \(length) bytes (model + driver)") { benchmark in
                let rig = try Rig(mode: mode)
                let bytes = frame(length: length)
                var buffer = [UInt8](repeating: 0, count: 2048)
                var received = 0
                bytes.withUnsafeBytes { p in
                    buffer.withUnsafeMutableBytes { out in
                        benchmark.startMeasurement()
                        for _ in benchmark.scaledIterations {
                            rig.card.port.offer(p)
                            if rig.driver.receive(into: out) != nil { received += 1 }
                        }
                        benchmark.stopMeasurement()
                    }
                }
                precondition(received == benchmark.scaledIterations.count, "frames went missing")
            }
        }
    }
}
