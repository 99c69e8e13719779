import NICCore

/// virtio-net's whole state (its VMState): configuration space, device
/// status and features, the selectors, ISR, every queue's configuration
/// and ring positions, the MSI-X table with its pending bits, the current
/// MAC, link, receive filter (modes, MAC tables, VLANs) and counters.
/// Buffers in flight live in guest RAM, which the host migrates; the
/// device holds no frame between calls. A snapshot restores only into a
/// device built the same way (interfaces, vectors, queue sizes, offered
/// features). `lastError` is a diagnostic and is not kept.
extension VirtioNet: Snapshottable {
    /// State version of the fields below; bump it when they change.
    static let snapshotVersion: UInt16 = 1

    private struct State {
        var pci: PCIConfigSpace.SnapshotState
        var queues: [VirtQueue.SnapshotState]
        var msix: MSIXTable.SnapshotState?
        var rxFilter: VirtioNetRxFilter
        var values: [UInt64]
        var counters: [Int]
    }

    /// How the device was built; a snapshot must come from the same shape.
    private var shape: [UInt64] {
        let variant: UInt64 = switch configuration.variant {
        case .legacy: 0
        case .transitional: 1
        case .modern: 2
        }
        return [variant, UInt64(msix?.vectorCount ?? 0), UInt64(queues.count), offeredFeatures.rawValue]
            + queues.map { UInt64($0.maxSize) }
    }

    private var scalarValues: [UInt64] {
        [UInt64(status.rawValue), driverFeatures.rawValue, negotiatedFeatures.rawValue, UInt64(deviceFeatureSelect),
         UInt64(driverFeatureSelect), UInt64(queueSelect), UInt64(isr), UInt64(configGeneration), UInt64(msixConfigVector),
         currentMAC.rawValue, linkUp ? 1 : 0]
    }

    private var counterValues: [Int] {
        let c = counters
        return [c.receivedFrames, c.receivedBytes, c.filteredFrames, c.malformedFrames, c.oversizedFrames, c.transmittedFrames,
                c.transmittedBytes, c.transmitDropped, c.controlOK, c.controlErrors, c.notifications, c.queueInterrupts,
                c.configInterrupts]
    }

    private static func le(_ values: [UInt64]) -> [UInt8] { values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } } }
    private static func decode(_ b: [UInt8]) -> [UInt64] {
        stride(from: 0, to: b.count, by: 8).map { at in (0..<8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(b[at + $1]) } }
    }

    public func saveSnapshot() -> [UInt8] {
        var w = SnapshotWriter(model: modelName, stateVersion: Self.snapshotVersion)
        w.put("virtio.shape", bytes: Self.le(shape))
        config.save(into: &w)
        for q in queues { q.save(into: &w) }
        msix?.save(into: &w)
        rxFilter.save(into: &w)
        w.put("virtio.state", bytes: Self.le(scalarValues))
        w.put("virtio.counters", bytes: Self.le(counterValues.map { UInt64(bitPattern: Int64($0)) }))
        return w.finish()
    }

    public func loadSnapshot(_ bytes: UnsafeRawBufferPointer) throws(SnapshotError) {
        var r = try SnapshotReader(bytes, model: modelName, stateVersion: Self.snapshotVersion)
        let shapeBytes = try r.variableBytes("virtio.shape", maxCount: 8 * 64)
        guard shapeBytes.count % 8 == 0, Self.decode(shapeBytes) == shape else {
            throw SnapshotError("snapshot of a virtio-net built otherwise (interfaces, vectors, queues or features)")
        }
        let pci = try config.read(from: &r)
        var queueStates: [VirtQueue.SnapshotState] = []
        for q in queues { queueStates.append(try q.read(from: &r)) }
        let table = try msix?.read(from: &r)
        let filter = try VirtioNetRxFilter.read(from: &r)
        let v = Self.decode(try r.bytes("virtio.state", count: 8 * scalarValues.count))
        guard v[0] <= 0xFF, v[3] <= 0xFFFF_FFFF, v[4] <= 0xFFFF_FFFF, v[5] <= 0xFFFF, v[6] <= 0xFF, v[7] <= 0xFF,
              v[8] <= 0xFFFF, v[9] >> 48 == 0, v[10] <= 1,
              VirtioFeatures(rawValue: v[2]).isSubset(of: offeredFeatures) else {
            throw SnapshotError("virtio-net state out of range")
        }
        let c = Self.decode(try r.bytes("virtio.counters", count: 8 * counterValues.count)).map { Int(Int64(bitPattern: $0)) }
        try r.finish()
        apply(State(pci: pci, queues: queueStates, msix: table, rxFilter: filter, values: v, counters: c))
    }

    private func apply(_ s: State) {
        config.apply(s.pci)
        for (q, state) in zip(queues, s.queues) { q.apply(state) }
        if let table = s.msix { msix?.apply(table) }
        rxFilter = s.rxFilter
        let v = s.values
        status = VirtioDeviceStatus(rawValue: UInt8(v[0]))
        driverFeatures = VirtioFeatures(rawValue: v[1])
        negotiatedFeatures = VirtioFeatures(rawValue: v[2])
        deviceFeatureSelect = UInt32(v[3]); driverFeatureSelect = UInt32(v[4]); queueSelect = UInt16(v[5])
        isr = UInt8(v[6]); configGeneration = UInt8(v[7]); msixConfigVector = UInt16(v[8])
        currentMAC = MACAddress(rawValue: v[9]); linkUp = v[10] == 1
        let c = s.counters
        counters.receivedFrames = c[0]; counters.receivedBytes = c[1]; counters.filteredFrames = c[2]
        counters.malformedFrames = c[3]; counters.oversizedFrames = c[4]; counters.transmittedFrames = c[5]
        counters.transmittedBytes = c[6]; counters.transmitDropped = c[7]; counters.controlOK = c[8]
        counters.controlErrors = c[9]; counters.notifications = c[10]; counters.queueInterrupts = c[11]
        counters.configInterrupts = c[12]
        configWindowBusy = false
        updateINTx()
    }
}
