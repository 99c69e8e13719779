import NICCatalogue
import NICCore
import XCTest

/// Snapshots are input an emulator may take from anywhere: mutated ones
/// with a valid CRC (so the field checks, not the checksum, must refuse
/// them) never trap any model, and a refused one changes nothing.
final class SnapshotHostilityTests: XCTestCase {
    private func withCRC(_ body: [UInt8]) -> [UInt8] {
        let crc = CRC32.checksum(body)
        return body + [UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8),
                       UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 24)]
    }

    func testMutatedSnapshotsNeverTrapAndRefusalsChangeNothing() throws {
        var random = SeededRandom(seed: 0x5EED)
        for entry in NICCatalogue.all {
            let card = try entry.build(resources: NICHostResources(memory: FlatMemory(size: 1 << 20), clock: VirtualClock()))
            card.pci?.config.write(offset: PCIConfigRegister.command, width: .word, value: 7)
            let good = card.snapshots.saveSnapshot()
            let body = Array(good.dropLast(4))
            var refused = 0
            for round in 0..<400 {
                var bytes = body
                if round % 5 == 4 {
                    // Cut short (a structural error behind a valid CRC).
                    bytes.removeLast(Int(random.next() % UInt64(bytes.count - 8)))
                } else {
                    for _ in 0..<(1 + Int(random.next() % 4)) {
                        let at = 8 + Int(random.next() % UInt64(bytes.count - 8))
                        bytes[at] = UInt8(truncatingIfNeeded: random.next())
                    }
                }
                let before = card.snapshots.saveSnapshot()
                do {
                    try withCRC(bytes).withUnsafeBytes { try card.snapshots.loadSnapshot($0) }
                } catch {
                    refused += 1
                    XCTAssertEqual(card.snapshots.saveSnapshot(), before, "\(entry.name) round \(round): a refused snapshot changed the card")
                }
                // Whatever was loaded, the card keeps working as a register block.
                _ = card.registers(forBAR: 0)?.read(offset: 0, width: .byte)
            }
            XCTAssertGreaterThan(refused, 0, entry.name)
            try good.withUnsafeBytes { try card.snapshots.loadSnapshot($0) }
            XCTAssertEqual(card.snapshots.saveSnapshot(), good, entry.name)
        }
    }
}
