import NICCore

/// An MSI-X table and pending-bit array in a memory BAR (PCI Local Bus
/// 3.0 6.8.2): 16 bytes per vector (Message Address, Message Upper
/// Address, Message Data, Vector Control with the mask in bit 0), then the
/// PBA. A message the function sends is recorded (per-vector counts and
/// the last address/data) and handed to `onMessage`, which the host
/// connects through `MessageSignalingFunction` (the Board writes it to
/// memory, the C ABI calls the emulator's `msi`).
public final class MSIXTable: RegisterBlock {
    /// The MSI-X capability ID.
    public static let capabilityID: UInt8 = 0x11
    public static let barSize: UInt32 = 0x1000
    /// Offset of the pending-bit array in the BAR.
    public static let pbaOffset = 0x800
    static let entrySize = 16

    public let vectorCount: Int
    public let size = UInt64(MSIXTable.barSize)
    @exclusivity(unchecked)
    private var entries: [UInt32]
    @exclusivity(unchecked)
    private var pending: [Bool]
    /// Messages sent per vector.
    @exclusivity(unchecked)
    public private(set) var deliveries: [Int]
    /// The last message sent: address and data as the guest programmed them.
    @exclusivity(unchecked)
    public private(set) var lastMessage: (vector: Int, address: UInt64, data: UInt32)?
    /// Called for every message sent.
    @exclusivity(unchecked)
    public var onMessage: ((_ address: UInt64, _ data: UInt32) -> Void)?
    /// The capability's Function Mask, read from config space.
    @exclusivity(unchecked)
    var isFunctionMasked: () -> Bool = { false }

    init(vectors: Int) {
        vectorCount = max(1, min(vectors, 64))
        entries = Array(repeating: 0, count: 4 * vectorCount)
        pending = Array(repeating: false, count: vectorCount)
        deliveries = Array(repeating: 0, count: vectorCount)
        reset()
    }

    /// Message Control (Table Size - 1), Table Offset/BIR, PBA Offset/BIR.
    static func capabilityBody(vectors: Int, bar: Int) -> [UInt8] {
        let n = UInt16(max(1, min(vectors, 64)) - 1)
        let table = UInt32(0) | UInt32(bar)
        let pba = UInt32(pbaOffset) | UInt32(bar)
        var b: [UInt8] = [UInt8(truncatingIfNeeded: n), UInt8(truncatingIfNeeded: n >> 8)]
        for v in [table, pba] {
            b += [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8),
                  UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 24)]
        }
        return b
    }

    /// Every vector masked, nothing pending (the reset state).
    public func reset() {
        for v in 0..<vectorCount {
            for i in 0..<3 { entries[4 * v + i] = 0 }
            entries[4 * v + 3] = 1
            pending[v] = false
        }
    }

    public func isMasked(_ vector: Int) -> Bool {
        vector >= 0 && vector < vectorCount ? entries[4 * vector + 3] & 1 != 0 : true
    }

    /// The function raises `vector`: sent now, or pending while masked.
    /// VIRTIO_MSI_NO_VECTOR (or any vector past the table) raises nothing.
    func signal(vector: UInt16, functionMasked: Bool) {
        let v = Int(vector)
        guard v < vectorCount else { return }
        if functionMasked || isMasked(v) {
            pending[v] = true
        } else {
            send(v)
        }
    }

    /// Sends pending messages of vectors that are now unmasked.
    func deliverPending() {
        guard !isFunctionMasked() else { return }
        for v in 0..<vectorCount where pending[v] && !isMasked(v) {
            pending[v] = false
            send(v)
        }
    }

    private func send(_ v: Int) {
        let address = UInt64(entries[4 * v + 1]) << 32 | UInt64(entries[4 * v])
        let data = entries[4 * v + 2]
        deliveries[v] += 1
        lastMessage = (v, address, data)
        onMessage?(address, data)
    }

    // MARK: Registers (dword or qword accesses, dword aligned)

    public func read(offset: UInt64, width: AccessWidth) -> UInt64 {
        guard width == .dword || width == .qword, offset % 4 == 0, offset < size, size - offset >= UInt64(width.rawValue) else { return 0 }
        var value = UInt64(readDword(Int(offset)))
        if width == .qword { value |= UInt64(readDword(Int(offset) + 4)) << 32 }
        return value
    }

    public func write(offset: UInt64, width: AccessWidth, value: UInt64) {
        guard width == .dword || width == .qword, offset % 4 == 0, offset < size, size - offset >= UInt64(width.rawValue) else { return }
        writeDword(Int(offset), UInt32(truncatingIfNeeded: value))
        if width == .qword { writeDword(Int(offset) + 4, UInt32(truncatingIfNeeded: value >> 32)) }
    }

    private func readDword(_ o: Int) -> UInt32 {
        if o < vectorCount * MSIXTable.entrySize { return entries[o / 4] }
        let p = o - MSIXTable.pbaOffset
        guard p >= 0, p < (vectorCount + 31) / 32 * 4 else { return 0 }
        var bits: UInt32 = 0
        for bit in 0..<32 {
            let v = p * 8 + bit
            if v < vectorCount && pending[v] { bits |= 1 << UInt32(bit) }
        }
        return bits
    }

    private func writeDword(_ o: Int, _ value: UInt32) {
        guard o < vectorCount * MSIXTable.entrySize else { return }  // the PBA is read-only
        let isControl = o % MSIXTable.entrySize == 12
        entries[o / 4] = isControl ? value & 1 : value
        if isControl && value & 1 == 0 { deliverPending() }
    }
}

// MARK: Snapshot (in this file: the table is private to it)

extension MSIXTable {
    /// The table, the pending bits and the per-vector message counts.
    struct SnapshotState {
        fileprivate var entries: [UInt32]
        fileprivate var pending: [Bool]
        fileprivate var deliveries: [Int]
    }

    func save(into w: inout SnapshotWriter) {
        w.put("msix.table", bytes: entries.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } })
        w.put("msix.pending", bytes: pending.map { $0 ? 1 : 0 })
        w.put("msix.deliveries", bytes: deliveries.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: UInt64(v) >> (8 * $0)) } })
    }

    func read(from r: inout SnapshotReader) throws(SnapshotError) -> SnapshotState {
        let t = try r.bytes("msix.table", count: 16 * vectorCount)
        let p = try r.bytes("msix.pending", count: vectorCount)
        let d = try r.bytes("msix.deliveries", count: 8 * vectorCount)
        guard p.allSatisfy({ $0 <= 1 }) else { throw SnapshotError("MSI-X pending bits not booleans") }
        let entries = stride(from: 0, to: t.count, by: 4).map { at in (0..<4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32(t[at + $1]) } }
        // Vector Control keeps only its mask bit.
        guard stride(from: 3, to: entries.count, by: 4).allSatisfy({ entries[$0] <= 1 }) else {
            throw SnapshotError("MSI-X vector control out of range")
        }
        let deliveries = stride(from: 0, to: d.count, by: 8).map { at in
            Int(truncatingIfNeeded: (0..<8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(d[at + $1]) })
        }
        return SnapshotState(entries: entries, pending: p.map { $0 == 1 }, deliveries: deliveries)
    }

    func apply(_ s: SnapshotState) {
        entries = s.entries
        pending = s.pending
        deliveries = s.deliveries
    }
}
