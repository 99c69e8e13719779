import Benchmark
import BenchmarkSupport
import NICSim

// Frames through the virtio-net model and VirtioNetDriver, each way, at 64
// and 1514 bytes, over the modern (virtio 1.x) and the legacy interface.
// One iteration is one frame and a sample is 1,000 of them (scaling
// factor kilo): throughput is frames per second, and the malloc count of a
// sample divided by 1,000 is mallocs per frame (target: zero).

/// Counts what the card puts on the wire.
private final class CountingWire: FrameTransmitter {
    var frames = 0
    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) { frames += 1 }
}

/// A board with a virtio-net card in slot 3 and the driver opened on it.
private final class Rig {
    static let mac = MACAddress(0x52, 0x54, 0x00, 0x00, 0x00, 0x99)
    let board = Board(memorySize: 48 << 20)
    let card: VirtioNet
    let wire = CountingWire()
    let driver: VirtioNetDriver

    init(variant: VirtioPCIVariant) throws {
        card = VirtioNet(configuration: VirtioNetConfiguration(macAddress: Rig.mac, variant: variant),
                         memory: board.memory, clock: board.clock)
        board.attach(card, at: PCIAddress(device: 3))
        board.assignResources()
        board.add(port: card.port)
        card.port.transmitter = wire
        var options = VirtioNetDriver.Options()
        options.preferModern = variant != .legacy
        driver = VirtioNetDriver(bus: DriverBus(board: board), options: options)
        try driver.probe()
        try driver.open(filter: [.directed, .broadcast], multicast: [])
    }
}

/// A frame to the card, `length` bytes.
private func frame(length: Int) -> [UInt8] {
    ethernetFrame(to: Rig.mac, length: length)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000
    )

    // The baseline in the same run: the two copies every frame needs at
    // least (into guest memory, out to the caller), as plain memcpy.
    for length in [64, 1514] {
        registerMemcpyBaseline("memcpy baseline \(length) bytes (two copies)", length: length, copies: 2)
    }

    for variant in [VirtioPCIVariant.transitional, .legacy] {
        let interface = variant == .legacy ? "legacy" : "modern"
        for length in [64, 1514] {
            Benchmark("virtio-net \(interface) transmit \(length) bytes (driver + model)") { benchmark in
                let rig = try Rig(variant: variant)
                let bytes = frame(length: length)
                try bytes.withUnsafeBytes { p in
                    benchmark.startMeasurement()
                    for _ in benchmark.scaledIterations {
                        try rig.driver.transmit(p)
                    }
                    benchmark.stopMeasurement()
                }
                guard rig.wire.frames >= benchmark.scaledIterations.count else {
                    throw DriverError.hardware("transmitted frames went missing")
                }
            }

            Benchmark("virtio-net \(interface) receive \(length) bytes (model + driver)") { benchmark in
                let rig = try Rig(variant: variant)
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
                guard received == benchmark.scaledIterations.count else {
                    throw DriverError.hardware("received frames went missing")
                }
            }
        }
    }
}
