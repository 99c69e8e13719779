import NICCore

/// The RTL8029AS in a snapshot: its configuration space and the DP8390.
extension RTL8029: Snapshottable {
    public func saveSnapshot() -> [UInt8] {
        var w = SnapshotWriter(model: modelName, stateVersion: DP8390.snapshotVersion)
        config.save(into: &w)
        nic.save(into: &w)
        return w.finish()
    }

    public func loadSnapshot(_ bytes: UnsafeRawBufferPointer) throws(SnapshotError) {
        var r = try SnapshotReader(bytes, model: modelName, stateVersion: DP8390.snapshotVersion)
        let pci = try config.read(from: &r)
        let chip = try nic.read(from: &r)
        try r.finish()
        config.apply(pci)
        nic.apply(chip)
    }
}

/// The ISA NE2000 in a snapshot: the DP8390 (its port base and IRQ are jumpers, not state).
extension NE2000ISA: Snapshottable {
    public func saveSnapshot() -> [UInt8] {
        var w = SnapshotWriter(model: modelName, stateVersion: DP8390.snapshotVersion)
        nic.save(into: &w)
        return w.finish()
    }

    public func loadSnapshot(_ bytes: UnsafeRawBufferPointer) throws(SnapshotError) {
        var r = try SnapshotReader(bytes, model: modelName, stateVersion: DP8390.snapshotVersion)
        let chip = try nic.read(from: &r)
        try r.finish()
        nic.apply(chip)
    }
}
