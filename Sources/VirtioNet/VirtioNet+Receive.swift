import NICCore

/// Receive (virtio 1.x 5.1.6.3 and 5.1.6.4): a frame from the backend is
/// checked, filtered and written, behind a virtio_net_hdr, into the
/// buffers of the receive queue; with MRG_RXBUF it may span several
/// chains and num_buffers says how many.
extension VirtioNet {
    /// Largest frame the device takes from the backend: MTU plus the
    /// Ethernet header and one 802.1Q tag. Longer frames are giants.
    public var maxReceiveFrameLength: Int { Int(configuration.mtu ?? 1500) + 14 + 4 }

    public func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
        // Until DRIVER_OK (or after a fatal error) the device can't take
        // frames; the backend holds or drops them by its policy.
        guard isRunning, queues[QueueIndex.receive].isEnabled else { return .noRoom }
        guard frame.count >= 14, frame.count <= maxReceiveFrameLength else {
            counters.malformedFrames += 1
            return .filtered
        }
        guard rxFilter.accepts(frame, station: currentMAC) else {
            counters.filteredFrames += 1
            return .filtered
        }
        do {
            return try store(frame)
        } catch {
            fail(error)
            return .filtered
        }
    }

    /// Writes header and frame into as many chains as it takes (one without
    /// MRG_RXBUF), then publishes them. Chains are given back untouched
    /// when the frame can't be placed whole.
    private func store(_ frame: UnsafeRawBufferPointer) throws(VirtioNetError) -> ReceiveOutcome {
        let index = QueueIndex.receive
        let rx = queues[index]
        let memory = self.memory
        let headerLength = self.headerLength
        let mergeable = negotiatedFeatures.contains(.mrgRxbuf)
        var frameOffset = 0
        var chains: UInt16 = 0
        let start = rx.checkpoint
        // Where num_buffers' two bytes are: in the first chain, possibly
        // split across two of its buffers under ANY_LAYOUT.
        var numBuffersLow: UInt64?
        var numBuffersHigh: UInt64?

        // Out of buffers: the chains taken go back, and with EVENT_IDX the
        // driver is asked to kick when it adds any (the frame waits in the
        // port until then).
        func giveBack() throws(VirtioNetError) {
            rx.rewind(to: start)
            rx.dropPendingUsed()
            try onQueue(index) { () throws(VirtQueueError) in try rx.requestNotification(memory) }
        }

        repeat {
            guard chains < rx.size, let chain = try onQueue(index, { () throws(VirtQueueError) in try rx.pop(memory) }) else {
                let exhausted = chains >= rx.size
                try giveBack()
                if exhausted {
                    counters.oversizedFrames += 1
                    return .filtered
                }
                return .noRoom
            }
            chains += 1
            var written = 0
            if chains == 1 {
                guard chain.writableBytes >= headerLength else {
                    throw .headerTruncated(queue: index, bytes: chain.writableBytes)
                }
                if !anyLayout && rx.segment(chain.readableCount).length < headerLength {
                    throw .headerNotInFirstElement(queue: index)
                }
                let header = UnsafeMutableRawBufferPointer(rebasing: headerScratch[0..<headerLength])
                header.initializeMemory(as: UInt8.self, repeating: 0)
                if headerLength == VirtioNetHeader.size { header[VirtioNetHeader.Offset.numBuffers] = 1 }
                written = try onQueue(index) { () throws(VirtQueueError) in
                    try rx.copyToWritable(chain, at: 0, from: UnsafeRawBufferPointer(header), memory)
                }
                if mergeable {
                    numBuffersLow = writableAddress(rx, chain, offset: VirtioNetHeader.Offset.numBuffers)
                    numBuffersHigh = writableAddress(rx, chain, offset: VirtioNetHeader.Offset.numBuffers + 1)
                }
            }
            let part = UnsafeRawBufferPointer(rebasing: frame[frameOffset...])
            let copied = try onQueue(index) { () throws(VirtQueueError) in
                try rx.copyToWritable(chain, at: written, from: part, memory)
            }
            frameOffset += copied
            written += copied
            if !mergeable && frameOffset < frame.count {
                // One chain per frame and this one is too small: a giant
                // for this driver. The chain stays available.
                try giveBack()
                counters.oversizedFrames += 1
                return .filtered
            }
            try onQueue(index) { () throws(VirtQueueError) in try rx.addUsed(chain, length: UInt32(written), memory) }
        } while frameOffset < frame.count

        if chains > 1, let low = numBuffersLow, let high = numBuffersHigh {
            do throws(DMAError) {
                try memory.writeU8(low, UInt8(truncatingIfNeeded: chains))
                try memory.writeU8(high, UInt8(truncatingIfNeeded: chains >> 8))
            } catch {
                throw .queue(index, .dma(error))
            }
        }
        let interrupt = try onQueue(index) { () throws(VirtQueueError) -> Bool in
            let wanted = try rx.publishUsed(memory)
            try rx.updateAvailableEvent(memory)
            return wanted
        }
        counters.receivedFrames += 1
        counters.receivedBytes += frame.count
        if interrupt { raiseQueueInterrupt(rx) }
        return .accepted
    }

    /// Guest address of byte `offset` of the chain's writable bytes.
    private func writableAddress(_ q: VirtQueue, _ chain: DescriptorChain, offset: Int) -> UInt64? {
        var skip = offset
        for i in chain.readableCount..<chain.count {
            let s = q.segment(i)
            if skip < s.length {
                return s.address + UInt64(skip)
            }
            skip -= s.length
        }
        return nil
    }

    /// Runs queue work, turning a queue error into a device error for `index`.
    @inline(__always)
    func onQueue<R>(_ index: Int, _ body: () throws(VirtQueueError) -> R) throws(VirtioNetError) -> R {
        do {
            return try body()
        } catch {
            throw .queue(index, error)
        }
    }
}
