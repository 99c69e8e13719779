import NICCore

/// Transmit (virtio 1.x 5.1.6.2): each chain on the transmit queue is a
/// virtio_net_hdr followed by one frame. The device completes a partial
/// checksum when the header asks (our backends take finished frames),
/// puts the frame on the wire and returns the chain with length 0.
extension VirtioNet {
    /// Largest frame the device sends: MTU plus Ethernet header and one
    /// 802.1Q tag (no segmentation offload is offered).
    public var maxTransmitFrameLength: Int { Int(configuration.mtu ?? 1500) + 14 + 4 }

    /// Sends every chain the driver has made available, then publishes
    /// them and interrupts if the driver wants it.
    func processTransmitQueue() {
        let index = QueueIndex.transmit
        let tx = queues[index]
        guard isRunning, tx.isEnabled else { return }
        let memory = self.memory
        do throws(VirtioNetError) {
            // At most one pass over the ring per kick: bounded whatever the
            // guest publishes meanwhile.
            var budget = Int(tx.size)
            while budget > 0, let chain = try onQueue(index, { () throws(VirtQueueError) in try tx.pop(memory) }) {
                budget -= 1
                try send(chain, tx)
                try onQueue(index) { () throws(VirtQueueError) in try tx.addUsed(chain, length: 0, memory) }
            }
            let interrupt = try onQueue(index) { () throws(VirtQueueError) -> Bool in
                let wanted = try tx.publishUsed(memory)
                try tx.updateAvailableEvent(memory)
                return wanted
            }
            if interrupt { raiseQueueInterrupt(tx) }
        } catch {
            fail(error)
        }
    }

    /// One chain: header checks, frame gathered into the transmit buffer,
    /// checksum completed, handed to the port.
    private func send(_ chain: DescriptorChain, _ tx: VirtQueue) throws(VirtioNetError) {
        let index = QueueIndex.transmit
        let memory = self.memory
        let headerLength = self.headerLength
        guard chain.readableBytes >= headerLength else {
            throw .headerTruncated(queue: index, bytes: chain.readableBytes)
        }
        if !anyLayout && tx.segment(0).length < headerLength {
            throw .headerNotInFirstElement(queue: index)
        }
        // The header goes into a fixed scratch of exactly its size, however
        // the guest split it (the CVE-2023-6693 class of overrun can't happen).
        let header = UnsafeMutableRawBufferPointer(rebasing: headerScratch[0..<headerLength])
        _ = try onQueue(index) { () throws(VirtQueueError) in try tx.copyReadable(chain, from: 0, into: header, memory) }
        let frameLength = chain.readableBytes - headerLength
        guard frameLength >= 14, frameLength <= maxTransmitFrameLength, frameLength <= transmitBuffer.capacity,
              header[VirtioNetHeader.Offset.gsoType] == VirtioNetHeader.gsoNone
        else {
            counters.transmitDropped += 1
            return
        }
        let frame = UnsafeMutableRawBufferPointer(rebasing: transmitBuffer.storage[0..<frameLength])
        _ = try onQueue(index) { () throws(VirtQueueError) in
            try tx.copyReadable(chain, from: headerLength, into: frame, memory)
        }
        if header[VirtioNetHeader.Offset.flags] & VirtioNetHeader.flagNeedsCsum != 0 {
            let start = Int(header[6]) | Int(header[7]) << 8
            let offset = Int(header[8]) | Int(header[9]) << 8
            guard ChecksumOffload.complete(frame, start: start, offset: offset) else {
                counters.transmitDropped += 1
                return
            }
        }
        counters.transmittedFrames += 1
        counters.transmittedBytes += frameLength
        port.transmit(UnsafeRawBufferPointer(frame))
    }
}
