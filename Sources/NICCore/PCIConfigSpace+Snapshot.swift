/// The function's configuration space in a snapshot: the 256 bytes as the
/// guest left them (command, BARs, capabilities' writable bits, Interrupt
/// Line) and the device's interrupt level. The identity bytes must match
/// the function loading it.
extension PCIConfigSpace {
    public struct SnapshotState {
        fileprivate var data: [UInt8]
        fileprivate var interruptLevel: Bool
    }

    public func save(into w: inout SnapshotWriter, prefix: String = "pci.") {
        w.put(prefix + "config", bytes: data)
        w.put(prefix + "intx", interruptLevel)
    }

    /// Reads and checks the state without applying it.
    public func read(from r: inout SnapshotReader, prefix: String = "pci.") throws(SnapshotError) -> SnapshotState {
        let bytes = try r.bytes(prefix + "config", count: PCIConfigSpace.size)
        // Vendor, device, revision, class, header type, subsystem: fixed for this function.
        for o in [0, 1, 2, 3, 8, 9, 10, 11, 14, 0x2C, 0x2D, 0x2E, 0x2F] where bytes[o] != data[o] {
            throw SnapshotError("snapshot of another PCI function (configuration byte \(o))")
        }
        return SnapshotState(data: bytes, interruptLevel: try r.bool(prefix + "intx"))
    }

    /// The state as it stands, e.g. the power-on state for a later RST#.
    public func capture() -> SnapshotState {
        SnapshotState(data: data, interruptLevel: interruptLevel)
    }

    /// Applies a checked state: the bytes, then decode and the INTx level follow.
    public func apply(_ state: SnapshotState) {
        data = state.data
        interruptLevel = state.interruptLevel
        onDecodeChange?()
        forwardInterrupt()
    }
}
