import CNICSim
import NICCore

/// Guest RAM behind the emulator's `dma_read`/`dma_write`: every DMA of a
/// card built through the C ABI goes through here. A callback's -1 (or a
/// missing callback) becomes the card's `DMAError`, which the card reports
/// as its hardware reports a bus error; nothing traps.
final class HostMemory: GuestMemory {
    private let host: nicsim_host

    init(host: nicsim_host) {
        self.host = host
    }

    /// The emulator decides what is RAM, so every address may be tried;
    /// ranges that wrap past 2^64 are still refused by `checkRange`.
    var size: UInt64 { .max }

    func read(at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DMAError) {
        try checkRange(address, buffer.count)
        guard buffer.count > 0 else { return }
        guard let dmaRead = host.dma_read, dmaRead(host.opaque, address, buffer.baseAddress, buffer.count) == 0 else {
            throw .outOfRange(address: address, length: buffer.count)
        }
    }

    func write(at address: UInt64, from buffer: UnsafeRawBufferPointer) throws(DMAError) {
        try checkRange(address, buffer.count)
        guard buffer.count > 0 else { return }
        guard let dmaWrite = host.dma_write, dmaWrite(host.opaque, address, buffer.baseAddress, buffer.count) == 0 else {
            throw .outOfRange(address: address, length: buffer.count)
        }
    }

    func fill(at address: UInt64, count: Int, with value: UInt8) throws(DMAError) {
        try checkRange(address, count)
        // In chunks from a stack buffer: no allocation, one callback per 256 bytes.
        var chunk = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
                     UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
                     UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
                     UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        try withUnsafeMutableBytes(of: &chunk) { (bytes) throws(DMAError) in
            bytes.initializeMemory(as: UInt8.self, repeating: value)
            var done = 0
            while done < count {
                let n = min(bytes.count, count - done)
                try write(at: address + UInt64(done), from: UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
                done += n
            }
        }
    }
}

/// The card's INTx (or ISA IRQ) as the emulator's `set_irq`.
final class HostInterruptLine: InterruptLine {
    private let host: nicsim_host

    init(host: nicsim_host) {
        self.host = host
    }

    func set(asserted: Bool) {
        host.set_irq?(host.opaque, asserted ? 1 : 0)
    }
}

/// The wire as the emulator's `transmit`.
final class HostTransmitter: FrameTransmitter {
    private let host: nicsim_host

    init(host: nicsim_host) {
        self.host = host
    }

    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        host.transmit?(host.opaque, frame.baseAddress, frame.count)
    }
}
