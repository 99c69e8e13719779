import NICCore

/// Control classes and commands (virtio 1.x 5.1.6.5).
public enum VirtioNetControl {
    /// VIRTIO_NET_CTRL_RX and its commands (data: one byte, 0 off / 1 on).
    public static let classRx: UInt8 = 0
    public static let rxPromisc: UInt8 = 0
    public static let rxAllMulti: UInt8 = 1
    public static let rxAllUni: UInt8 = 2
    public static let rxNoMulti: UInt8 = 3
    public static let rxNoUni: UInt8 = 4
    public static let rxNoBcast: UInt8 = 5
    /// VIRTIO_NET_CTRL_MAC: TABLE_SET (two tables, each le32 entries then
    /// 6-byte addresses: unicast first) and ADDR_SET (6 bytes).
    public static let classMAC: UInt8 = 1
    public static let macTableSet: UInt8 = 0
    public static let macAddrSet: UInt8 = 1
    /// VIRTIO_NET_CTRL_VLAN: ADD and DEL (data: le16 VLAN ID).
    public static let classVLAN: UInt8 = 2
    public static let vlanAdd: UInt8 = 0
    public static let vlanDel: UInt8 = 1
    /// The ack byte: VIRTIO_NET_OK / VIRTIO_NET_ERR.
    public static let ok: UInt8 = 0
    public static let err: UInt8 = 1
}

/// The control queue: each chain is class, command and data (device
/// readable) then one ack byte (device writable).
extension VirtioNet {
    func processControlQueue() {
        let index = QueueIndex.control
        guard isRunning, queues.count > index else { return }
        let cq = queues[index]
        guard cq.isEnabled else { return }
        let memory = self.memory
        do throws(VirtioNetError) {
            var budget = Int(cq.size)
            while budget > 0, let chain = try onQueue(index, { () throws(VirtQueueError) in try cq.pop(memory) }) {
                budget -= 1
                guard chain.writableBytes >= 1 else { throw .controlWithoutAck }
                var ack = VirtioNetControl.err
                if chain.readableBytes >= 2 && chain.readableBytes <= controlScratch.count {
                    let command = UnsafeMutableRawBufferPointer(rebasing: controlScratch[0..<chain.readableBytes])
                    _ = try onQueue(index) { () throws(VirtQueueError) in try cq.copyReadable(chain, from: 0, into: command, memory) }
                    ack = execute(class: command[0], command: command[1], data: UnsafeRawBufferPointer(rebasing: command[2...]))
                }
                if ack == VirtioNetControl.ok { counters.controlOK += 1 } else { counters.controlErrors += 1 }
                var byte = ack
                _ = try onQueue(index) { () throws(VirtQueueError) in
                    try withUnsafeBytes(of: &byte) { (p) throws(VirtQueueError) in try cq.copyToWritable(chain, at: 0, from: p, memory) }
                }
                try onQueue(index) { () throws(VirtQueueError) in try cq.addUsed(chain, length: 1, memory) }
            }
            let interrupt = try onQueue(index) { () throws(VirtQueueError) -> Bool in
                let wanted = try cq.publishUsed(memory)
                try cq.updateAvailableEvent(memory)
                return wanted
            }
            if interrupt { raiseQueueInterrupt(cq) }
        } catch {
            fail(error)
        }
    }

    /// One command; the result is the ack byte. A command whose feature was
    /// not negotiated, or whose data has the wrong size, fails.
    func execute(class cls: UInt8, command: UInt8, data: UnsafeRawBufferPointer) -> UInt8 {
        typealias C = VirtioNetControl
        let f = negotiatedFeatures
        switch (cls, command) {
        case (C.classRx, C.rxPromisc...C.rxNoBcast):
            let needed: VirtioFeatures = command <= C.rxAllMulti ? .ctrlRx : .ctrlRxExtra
            guard f.contains(needed), data.count == 1 else { return C.err }
            let on = data[0] != 0
            switch command {
            case C.rxPromisc: rxFilter.promiscuous = on
            case C.rxAllMulti: rxFilter.allMulticast = on
            case C.rxAllUni: rxFilter.allUnicast = on
            case C.rxNoMulti: rxFilter.noMulticast = on
            case C.rxNoUni: rxFilter.noUnicast = on
            default: rxFilter.noBroadcast = on
            }
            return C.ok
        case (C.classMAC, C.macTableSet):
            guard f.contains(.ctrlRx) else { return C.err }
            return setMACTables(data) ? C.ok : C.err
        case (C.classMAC, C.macAddrSet):
            guard f.contains(.ctrlMACAddr), data.count == 6, let base = data.baseAddress else { return C.err }
            currentMAC = MACAddress(loadingFrom: base)
            configGeneration &+= 1
            return C.ok
        case (C.classVLAN, C.vlanAdd), (C.classVLAN, C.vlanDel):
            guard f.contains(.ctrlVLAN), data.count == 2 else { return C.err }
            let id = UInt16(data[0]) | UInt16(data[1]) << 8
            guard id < 4096 else { return C.err }
            rxFilter.setVLAN(id, allowed: command == C.vlanAdd)
            return C.ok
        default:
            return C.err
        }
    }

    /// VIRTIO_NET_CTRL_MAC_TABLE_SET: the unicast table then the multicast
    /// table, each le32 count and that many addresses; the data must be
    /// exactly that long. A table longer than the device keeps sets its
    /// overflow flag instead (accept the whole class).
    private func setMACTables(_ data: UnsafeRawBufferPointer) -> Bool {
        func count(at o: Int) -> Int? {
            guard o + 4 <= data.count else { return nil }
            return Int(data[o]) | Int(data[o + 1]) << 8 | Int(data[o + 2]) << 16 | Int(data[o + 3]) << 24
        }
        guard let unicastCount = count(at: 0) else { return false }
        let unicastEnd = 4 + 6 * unicastCount
        guard unicastEnd <= data.count, let multicastCount = count(at: unicastEnd),
              unicastEnd + 4 + 6 * multicastCount == data.count, let base = data.baseAddress
        else { return false }
        let limit = VirtioNetRxFilter.macTableEntries
        rxFilter.unicastTable.removeAll(keepingCapacity: true)
        rxFilter.multicastTable.removeAll(keepingCapacity: true)
        rxFilter.unicastOverflow = unicastCount > limit
        rxFilter.multicastOverflow = multicastCount > limit
        if unicastCount <= limit {
            for i in 0..<unicastCount { rxFilter.unicastTable.append(MACAddress(loadingFrom: base + 4 + 6 * i)) }
        }
        if multicastCount <= limit {
            for i in 0..<multicastCount { rxFilter.multicastTable.append(MACAddress(loadingFrom: base + unicastEnd + 4 + 6 * i)) }
        }
        return true
    }
}
