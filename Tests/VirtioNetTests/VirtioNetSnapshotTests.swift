import NICCore
import VirtioNet
import XCTest

/// Snapshots of virtio-net: saved with buffers posted and frames in the
/// rings, restored into a fresh device (with a copy of guest RAM, as an
/// emulator migrates it), the rest of the traffic is bit-identical.
final class VirtioNetSnapshotTests: XCTestCase {
    private let data = VirtioTestGuest.dataBase
    private let configuration = VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, variant: .modern, msixVectors: 4)

    private func restored(from a: VirtioTestGuest) throws -> VirtioTestGuest {
        let b = VirtioTestGuest(configuration)
        let ram = try a.memory.readBytes(at: 0, count: Int(a.memory.size))
        try b.memory.write(at: 0, bytes: ram)
        try a.device.saveSnapshot().withUnsafeBytes { try b.device.loadSnapshot($0) }
        return b
    }

    func testTrafficContinuesIdenticallyAfterRestore() throws {
        let a = VirtioTestGuest(configuration)
        XCTAssertEqual(a.start(features: VirtioTestGuest.modernFeatures) & 4, 4)
        for i in 0..<4 as Range<UInt16> {
            a.rx.setDescriptor(i, address: data + 0x1000 * UInt64(i), length: 2048, flags: MockVirtQueue.write)
            a.rx.publish(i)
        }
        a.kick(0)
        XCTAssertEqual(a.offer(VirtioTestGuest.frame(length: 100)), .delivered)

        let b = try restored(from: a)
        XCTAssertEqual(b.device.saveSnapshot(), a.device.saveSnapshot())
        XCTAssertEqual(b.device.currentMAC, a.device.currentMAC)

        for g in [a, b] {
            XCTAssertEqual(g.offer(VirtioTestGuest.frame(length: 300, fill: 7)), .delivered)
            g.put([UInt8](repeating: 0, count: 12) + VirtioTestGuest.frame(to: .broadcast, length: 80), at: data + 0x8000)
            g.tx.setDescriptor(0, address: data + 0x8000, length: 92)
            g.tx.publish(0)
            g.kick(1)
        }
        XCTAssertEqual(b.sink.frames, a.sink.frames)
        XCTAssertEqual(b.rx.usedIndex, 2)
        XCTAssertEqual(b.tx.usedIndex, a.tx.usedIndex)
        XCTAssertEqual(try b.memory.readBytes(at: 0, count: 0x20000), try a.memory.readBytes(at: 0, count: 0x20000))
        XCTAssertEqual(try b.memory.readBytes(at: data, count: 0x9000), try a.memory.readBytes(at: data, count: 0x9000))
        XCTAssertEqual(b.device.saveSnapshot(), a.device.saveSnapshot())
    }

    /// A snapshot of a device built otherwise (here: 2 MSI-X vectors, not 4),
    /// a corrupt or truncated one: refused, nothing changed.
    func testBadSnapshotsChangeNothing() throws {
        let other = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, variant: .modern, msixVectors: 2))
        other.start(features: VirtioTestGuest.modernFeatures)
        let b = VirtioTestGuest(configuration)
        b.start(features: [.version1, .mac])
        let before = b.device.saveSnapshot()
        var corrupt = before
        corrupt[corrupt.count - 20] ^= 0x10
        for (name, bytes) in [("other shape", other.device.saveSnapshot()), ("corrupt", corrupt), ("truncated", Array(before.prefix(200)))] {
            XCTAssertThrowsError(try bytes.withUnsafeBytes { try b.device.loadSnapshot($0) }, name)
            XCTAssertEqual(b.device.saveSnapshot(), before, name)
        }
    }
}
