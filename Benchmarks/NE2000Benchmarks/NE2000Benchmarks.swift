import Benchmark
import BenchmarkSupport
import NICSim

// Frames through the RTL8029 model and the NE2000 UNDI driver, both ways,
// at the smallest and largest Ethernet frame sizes. One iteration is one
// frame, so throughput is frames per second and the malloc count is
// mallocs per frame (the target is zero).

/// Swallows what the card transmits.
private final class NullWire: FrameTransmitter {
    var frames = 0
    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) { frames += 1 }
}

/// A board with an RTL8029 in slot 3 and the driver opened on it.
private final class Rig {
    let board = Board(memorySize: 4 << 20)
    let card = RTL8029(macAddress: MACAddress(0x00, 0x20, 0x18, 0x29, 0x80, 0x01), port: FramePort(policy: .drop))
    let wire = NullWire()
    let driver: NE2000Driver

    init() throws {
        board.attach(card, at: PCIAddress(device: 3))
        board.assignResources()
        board.add(port: card.port)
        card.port.transmitter = wire
        driver = NE2000Driver(bus: DriverBus(board: board), location: .pci())
        try driver.probe()
        try driver.open(filter: [.directed, .broadcast], multicast: [])
    }
}

/// A frame to the card's address, `length` bytes.
private func frame(length: Int) -> [UInt8] {
    ethernetFrame(to: MACAddress(0x00, 0x20, 0x18, 0x29, 0x80, 0x01), length: length, fill: 0xA5)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        warmupIterations: 1_000,
        maxDuration: .seconds(3),
        maxIterations: 1_000_000
    )

    for length in [64, 1514] {
        // The baseline the ratios are taken against: copying the same bytes.
        registerMemcpyBaseline("memcpy \(length) bytes (baseline)", length: length)

        Benchmark("NE2000 transmit \(length) bytes (driver + model)") { benchmark in
            let rig = try Rig()
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

        Benchmark("NE2000 receive \(length) bytes (model + driver)") { benchmark in
            let rig = try Rig()
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
