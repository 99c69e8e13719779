import Board
import NICCore

/// The receive filter: through the control queue when the device has
/// CTRL_RX, in software otherwise (a device without it is promiscuous).
extension VirtioNetDriver {
    private enum Ctrl {
        static let classRx: UInt8 = 0
        static let promisc: UInt8 = 0
        static let allMulti: UInt8 = 1
        static let noUni: UInt8 = 4
        static let noBcast: UInt8 = 5
        static let classMAC: UInt8 = 1
        static let tableSet: UInt8 = 0
        static let tableEntries = 64
    }

    private static let ackOffset: UInt64 = 1000
    private static let dataOffset: UInt64 = 16

    public func setReceiveFilter(_ filter: ReceiveFilter, multicast: [MACAddress]) throws(DriverError) {
        softwareFilter = filter
        softwareMulticast = multicast
        guard isOpen, negotiatedFeatures & Feature.ctrlRx != 0 else { return }
        var on: [UInt8] = [filter.contains(.promiscuous) ? 1 : 0]
        try controlCommand(class: Ctrl.classRx, command: Ctrl.promisc, data: &on)
        on = [multicast.count > Ctrl.tableEntries ? 1 : 0]
        try controlCommand(class: Ctrl.classRx, command: Ctrl.allMulti, data: &on)
        if negotiatedFeatures & Feature.ctrlRxExtra != 0 {
            on = [filter.contains(.broadcast) ? 0 : 1]
            try controlCommand(class: Ctrl.classRx, command: Ctrl.noBcast, data: &on)
            on = [filter.contains(.directed) ? 0 : 1]
            try controlCommand(class: Ctrl.classRx, command: Ctrl.noUni, data: &on)
        }
        let listed = multicast.count <= Ctrl.tableEntries ? multicast : []
        var table: [UInt8] = [0, 0, 0, 0]
        let n = UInt32(listed.count)
        table += [UInt8(truncatingIfNeeded: n), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 24)]
        for m in listed { table += m.bytes }
        try controlCommand(class: Ctrl.classMAC, command: Ctrl.tableSet, data: &table)
    }

    /// Sends one command (class, command, data; ack) and waits for the ack.
    func controlCommand(class cls: UInt8, command: UInt8, data: inout [UInt8]) throws(DriverError) {
        guard let ctrl, let transport, negotiatedFeatures & Feature.ctrlVQ != 0 else {
            throw .unsupported("virtio-net has no control queue")
        }
        guard data.count <= Int(Self.ackOffset - Self.dataOffset) else { throw .unsupported("control command too long") }
        let memory = bus.memory
        do {
            try memory.write(at: ctrlBuffer, bytes: [cls, command])
            try memory.write(at: ctrlBuffer + Self.dataOffset, bytes: data)
            try memory.writeU8(ctrlBuffer + Self.ackOffset, 0xFF)
        } catch {
            throw .dma("control buffer: \(error)")
        }
        ctrl.setDescriptor(0, address: ctrlBuffer, length: 2, flags: VirtioDriverRing.next, next: 1)
        ctrl.setDescriptor(1, address: ctrlBuffer + Self.dataOffset, length: UInt32(data.count), flags: VirtioDriverRing.next, next: 2)
        ctrl.setDescriptor(2, address: ctrlBuffer + Self.ackOffset, length: 1, flags: VirtioDriverRing.write)
        ctrl.publish(0)
        transport.notify(Self.controlQueue)
        var completed = false
        let done = bus.wait(timeout: VirtualClock.second) {
            if !completed, ctrl.nextUsed() != nil { completed = true }
            return completed
        }
        guard done else { throw .timeout("virtio-net control command \(cls)/\(command)") }
        let ack = (try? memory.readU8(ctrlBuffer + Self.ackOffset)) ?? 0xFF
        guard ack == 0 else { throw .hardware("virtio-net refused control command \(cls)/\(command)") }
    }

    /// Without CTRL_RX the device passes everything; the driver applies
    /// the UNDI filter itself.
    func passesSoftwareFilter(_ buffer: UnsafeMutableRawBufferPointer, _ length: Int) -> Bool {
        guard negotiatedFeatures & Feature.ctrlRx == 0 else { return true }
        guard !softwareFilter.contains(.promiscuous) else { return true }
        guard length >= 6, buffer.count >= 6, let base = buffer.baseAddress else { return true }
        let destination = MACAddress(loadingFrom: base)
        if destination.isBroadcast { return softwareFilter.contains(.broadcast) }
        if destination.isMulticast { return softwareMulticast.contains(destination) }
        return softwareFilter.contains(.directed) && destination == stationAddress
    }
}
