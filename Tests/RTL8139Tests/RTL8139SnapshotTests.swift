import NICCore
import XCTest

@testable import RTL8139

/// Snapshots of the RTL8139C+: saved mid-traffic, restored into a fresh
/// card (with a copy of guest RAM, as an emulator migrates it), the rest of
/// the traffic gives bit-identical rings, frames, registers and timers.
final class RTL8139SnapshotTests: XCTestCase {
    private func copyRAM(from a: Rig, to b: Rig) throws {
        let bytes = try a.memory.readBytes(at: 0, count: Int(a.memory.size))
        try b.memory.write(at: 0, bytes: bytes)
    }

    /// `origin`: where the restoring host's clock stands (younger or older than the saver's).
    private func restored(from a: Rig, origin: UInt64 = 123_456_789) throws -> Rig {
        let b = Rig()
        b.clock.advance(by: origin)
        try copyRAM(from: a, to: b)
        try a.nic.saveSnapshot().withUnsafeBytes { try b.nic.loadSnapshot($0) }
        return b
    }

    func testClassicTrafficContinuesIdenticallyAfterRestore() throws {
        try classicTraffic(origin: 123_456_789)
    }

    /// A fresh host clock at 0, younger than the saving card's: TCTR's base lies before 0.
    func testTimerSurvivesRestoreOntoAYoungerClock() throws {
        try classicTraffic(origin: 0)
    }

    private func classicTraffic(origin: UInt64) throws {
        let a = Rig(policy: .drop)
        a.startClassicReceiver()
        a.w16(RTL8139Register.imr, 0xFFFF)
        a.offer(makeFrame(seed: 1))
        try a.memory.write(at: 0x2_0000, bytes: makeFrame(to: .broadcast, length: 90, seed: 2))
        a.w32(RTL8139Register.tsad0, 0x2_0000)
        a.w32(RTL8139Register.tsd0, 90)
        // TimerInt armed and TCTR running: 1000 ticks from now.
        a.w32(RTL8139Register.tctr, 0)
        a.w32(RTL8139Register.timerInt, 1000)
        a.clock.advance(by: 10_000)

        let b = try restored(from: a, origin: origin)
        XCTAssertEqual(b.nic.saveSnapshot(), a.nic.saveSnapshot())
        XCTAssertEqual(b.r32(RTL8139Register.tctr), a.r32(RTL8139Register.tctr))

        for rig in [a, b] {
            rig.offer(makeFrame(length: 300, seed: 3))
            try rig.memory.write(at: 0x2_1000, bytes: makeFrame(to: .broadcast, length: 70, seed: 4))
            rig.w32(RTL8139Register.tsad0 + 4, 0x2_1000)
            rig.w32(RTL8139Register.tsd0 + 4, 70)
            rig.clock.advance(by: 40_000)
        }
        XCTAssertEqual(Array(b.sent.suffix(1)), Array(a.sent.suffix(1)))
        XCTAssertEqual(b.r16(RTL8139Register.isr), a.r16(RTL8139Register.isr))
        XCTAssertNotEqual(a.r16(RTL8139Register.isr) & 0x4000, 0, "TimerInt (TimeOut) fired")
        XCTAssertEqual(try b.memory.readBytes(at: 0x1_0000, count: 0x2000), try a.memory.readBytes(at: 0x1_0000, count: 0x2000))
        XCTAssertEqual(b.nic.saveSnapshot(), a.nic.saveSnapshot())
    }

    /// The EEPROM is saved mid-read: the restored card shifts out the same bits.
    func testEEPROMReadContinuesAfterRestore() throws {
        let a = Rig()
        // 9346CR: program mode, EECS; a READ of word 7 (110 + 000111), 9 bits shifted in.
        a.w8(RTL8139Register.cr9346, 0x80 | 0x08)
        for bit in [1, 1, 0, 0, 0, 0, 1, 1, 1] {
            let di: UInt8 = bit == 1 ? 0x02 : 0
            a.w8(RTL8139Register.cr9346, 0x80 | 0x08 | di)
            a.w8(RTL8139Register.cr9346, 0x80 | 0x08 | di | 0x04)
            a.w8(RTL8139Register.cr9346, 0x80 | 0x08 | di)
        }
        let b = try restored(from: a)
        func shiftOut(_ rig: Rig) -> UInt16 {
            var word: UInt16 = 0
            for _ in 0..<16 {
                rig.w8(RTL8139Register.cr9346, 0x80 | 0x08 | 0x04)
                rig.w8(RTL8139Register.cr9346, 0x80 | 0x08)
                word = word << 1 | UInt16(rig.r8(RTL8139Register.cr9346) & 0x01)
            }
            return word
        }
        let wordA = shiftOut(a)
        XCTAssertEqual(shiftOut(b), wordA)
        XCTAssertEqual(wordA, UInt16(Rig.mac[0]) | UInt16(Rig.mac[1]) << 8)
    }

    func testBadSnapshotsChangeNothing() throws {
        let a = Rig()
        a.startClassicReceiver()
        let good = a.nic.saveSnapshot()
        let b = Rig()
        b.w8(RTL8139Register.cr, 0x04)
        let before = b.nic.saveSnapshot()
        var corrupt = good
        corrupt[100] ^= 0xFF
        for bytes in [Array(good.prefix(good.count - 1)), corrupt, [UInt8](repeating: 0, count: 64)] {
            XCTAssertThrowsError(try bytes.withUnsafeBytes { try b.nic.loadSnapshot($0) })
            XCTAssertEqual(b.nic.saveSnapshot(), before)
        }
    }
}
