import Benchmark
import NICSim

/// Registers the baseline a frame-path figure is read against, in the same
/// run: `copies` back-to-back copies of `length` bytes per iteration, through
/// buffers allocated once (no allocation is measured).
public func registerMemcpyBaseline(_ name: String, length: Int, copies: Int = 1) {
    Benchmark(name) { benchmark in
        let buffers = (0...copies).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 64) }
        defer { for b in buffers { b.deallocate() } }
        buffers[0].initializeMemory(as: UInt8.self, repeating: 0x5A)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for i in 0..<copies {
                buffers[i + 1].copyMemory(from: UnsafeRawBufferPointer(buffers[i]))
            }
            blackHole(buffers[copies][length - 1])
        }
        benchmark.stopMeasurement()
    }
}

/// A test frame of `length` bytes to `destination`: zero source address,
/// the given EtherType (0x88B5, local experimental, by default) and `fill`
/// in every other byte.
public func ethernetFrame(to destination: MACAddress, length: Int, etherType: UInt16 = 0x88B5, fill: UInt8 = 0x5A) -> [UInt8] {
    var f = [UInt8](repeating: fill, count: max(length, 14))
    for i in 0..<6 {
        f[i] = destination[i]
        f[6 + i] = 0
    }
    f[12] = UInt8(etherType >> 8)
    f[13] = UInt8(etherType & 0xFF)
    return f
}
