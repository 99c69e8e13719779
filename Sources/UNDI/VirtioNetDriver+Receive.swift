import Board
import NICCore

/// Receiving: every receive buffer is always posted; a frame is copied out
/// of its used buffers and they go straight back on the available ring.
extension VirtioNetDriver {
    var mergeable: Bool { negotiatedFeatures & Feature.mrgRxbuf != 0 }

    /// Posts every receive buffer. With MRG_RXBUF each is one writable
    /// descriptor (header inline); without it, a header descriptor and a
    /// frame descriptor, as legacy devices without ANY_LAYOUT need.
    func fillReceiveQueue(_ rx: VirtioDriverRing) {
        if mergeable {
            rxBufferCount = Int(rx.size)
            for i in 0..<UInt16(rxBufferCount) {
                rx.setDescriptor(i, address: rxBuffer(Int(i)), length: UInt32(options.mergeableBufferSize), flags: VirtioDriverRing.write)
                rx.publish(i)
            }
        } else {
            rxBufferCount = Int(rx.size / 2)
            for i in 0..<UInt16(rxBufferCount) {
                let buffer = rxBuffer(Int(i))
                rx.setDescriptor(2 * i, address: buffer, length: UInt32(headerLength),
                                 flags: VirtioDriverRing.write | VirtioDriverRing.next, next: 2 * i + 1)
                rx.setDescriptor(2 * i + 1, address: buffer + UInt64(headerLength), length: UInt32(Self.frameBufferSize),
                                 flags: VirtioDriverRing.write)
                rx.publish(2 * i)
            }
        }
    }

    func rxBuffer(_ i: Int) -> UInt64 { rxBuffers + UInt64(i * rxBufferSize) }

    public func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        guard isOpen, let rx, let transport else { return nil }
        // Bounded: each pass consumes at least one used element.
        var attempts = Int(rx.size)
        while attempts > 0 {
            attempts -= 1
            guard let first = rx.peekUsed(0) else { return nil }
            let length: Int?
            if mergeable {
                guard let n = receiveMerged(first, rx, into: buffer) else { return nil }
                length = n
            } else {
                length = receiveSingle(first, rx, into: buffer)
            }
            if rx.shouldKick() { transport.notify(Self.receiveQueue) }
            if let length {
                if passesSoftwareFilter(buffer, length) {
                    statistics.received += 1
                    return length
                }
                continue
            }
            statistics.receiveResourceErrors += 1
        }
        return nil
    }

    /// One frame in a header+data chain. Nil for a bad used element.
    private func receiveSingle(_ used: (id: UInt16, length: UInt32), _ rx: VirtioDriverRing,
                               into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        rx.consumeUsed(1)
        let index = Int(used.id / 2)
        guard used.id % 2 == 0, index < rxBufferCount else { return nil }
        defer { rx.publish(used.id) }
        let length = Int(used.length) - headerLength
        guard length > 0, length <= Self.frameBufferSize else { return nil }
        copyOut(from: rxBuffer(index) + UInt64(headerLength), count: length, into: buffer, at: 0)
        return length
    }

    /// One frame over num_buffers buffers (MRG_RXBUF). Nil (and nothing
    /// consumed) until all of them are in the used ring.
    private func receiveMerged(_ first: (id: UInt16, length: UInt32), _ rx: VirtioDriverRing,
                               into buffer: UnsafeMutableRawBufferPointer) -> Int?? {
        guard Int(first.id) < rxBufferCount else {
            rx.consumeUsed(1)
            return .some(nil)
        }
        let count = (try? bus.memory.readU16(rxBuffer(Int(first.id)) + 10)) ?? 1
        guard count >= 1, count <= rx.size else {
            rx.consumeUsed(1)
            rx.publish(first.id)
            return .some(nil)
        }
        guard rx.pendingUsed >= count else { return nil }
        var total = 0
        var valid = true
        for k in 0..<count {
            guard let e = rx.peekUsed(k), Int(e.id) < rxBufferCount else {
                valid = false
                continue
            }
            let skip = k == 0 ? headerLength : 0
            let n = Int(e.length) - skip
            if n < 0 || e.length > UInt32(options.mergeableBufferSize) { valid = false }
            if valid && n > 0 {
                copyOut(from: rxBuffer(Int(e.id)) + UInt64(skip), count: n, into: buffer, at: total)
                total += n
            }
            rx.publish(e.id)
        }
        rx.consumeUsed(count)
        return .some(valid && total > 0 ? total : nil)
    }

    /// Copies what fits of a received frame into the caller's buffer.
    private func copyOut(from address: UInt64, count: Int, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        let n = min(count, buffer.count - offset)
        guard n > 0 else { return }
        try? bus.memory.read(at: address, into: UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + n)]))
    }
}
