import NE2000
import NICCore
import XCTest

/// Snapshots of the NE2000 family: saved mid-transfer, restored into a
/// fresh card, finished there with the same result; anything the reader
/// can't take is refused with the card unchanged.
final class NE2000SnapshotTests: XCTestCase {
    final class Wire: FrameTransmitter {
        var frames: [[UInt8]] = []
        func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) { frames.append(Array(frame)) }
    }

    private let mac = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)

    private func card(_ wire: Wire) -> (RTL8029, RegisterBlock) {
        let card = RTL8029(macAddress: mac, port: FramePort(policy: .drop))
        card.port.transmitter = wire
        card.config.write(offset: PCIConfigRegister.command, width: .word, value: 1)
        return (card, card.registers(forBAR: 0)!)
    }

    private let frame: [UInt8] = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }

    /// The driver's set-up and the first half of a remote-DMA write of a
    /// frame into the transmit buffer at page 40h (DP8390 datasheet, Remote DMA).
    private func startTransfer(_ io: RegisterBlock) {
        for (offset, value) in [(0x00, 0x21), (0x0E, 0x48), (0x01, 0x46), (0x02, 0x80), (0x03, 0x46), (0x07, 0xFF), (0x0F, 0x03),
                                (0x0C, 0x04), (0x0D, 0x00), (0x0A, 100), (0x0B, 0), (0x08, 0), (0x09, 0x40), (0x00, 0x12)] {
            io.write(offset: UInt64(offset), width: .byte, value: UInt64(value))
        }
        for b in frame[..<50] { io.write(offset: 0x10, width: .byte, value: UInt64(b)) }
    }

    private func finishTransfer(_ io: RegisterBlock) {
        for b in frame[50...] { io.write(offset: 0x10, width: .byte, value: UInt64(b)) }
        for (offset, value) in [(0x04, 0x40), (0x05, 100), (0x06, 0), (0x00, 0x26)] {
            io.write(offset: UInt64(offset), width: .byte, value: UInt64(value))
        }
    }

    func testSnapshotMidRemoteDMAFinishesIdenticallyInAFreshCard() throws {
        let wireA = Wire(), wireB = Wire()
        let (a, ioA) = card(wireA)
        let (b, ioB) = card(wireB)
        startTransfer(ioA)
        let snapshot = a.saveSnapshot()
        try snapshot.withUnsafeBytes { try b.loadSnapshot($0) }
        XCTAssertEqual(b.saveSnapshot(), snapshot)
        finishTransfer(ioA)
        finishTransfer(ioB)
        XCTAssertEqual(wireA.frames, [frame])
        XCTAssertEqual(wireB.frames, wireA.frames)
        XCTAssertEqual(ioB.read(offset: 0x07, width: .byte), ioA.read(offset: 0x07, width: .byte))
        XCTAssertEqual(b.saveSnapshot(), a.saveSnapshot())
    }

    /// Truncated, corrupt, another format or state version, another model,
    /// an unknown field: refused, and the card is exactly as before.
    func testBadSnapshotsAreRefusedWithNothingChanged() throws {
        let (a, ioA) = card(Wire())
        startTransfer(ioA)
        let good = a.saveSnapshot()
        let (b, ioB) = card(Wire())
        startTransfer(ioB)
        ioB.write(offset: 0x0F, width: .byte, value: 0x1F)
        let before = b.saveSnapshot()

        var corrupt = good
        corrupt[corrupt.count / 2] ^= 0x40
        // Format 2 with a valid CRC, so the format check itself refuses it.
        var otherFormat = Array(good.dropLast(4))
        otherFormat[8] = 2
        let crc = CRC32.checksum(otherFormat)
        otherFormat += [UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8),
                        UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 24)]
        var otherState = SnapshotWriter(model: "RTL8029", stateVersion: 99)
        otherState.put("x", UInt8(1))
        var extraField = SnapshotWriter(model: "RTL8029", stateVersion: 1)
        extraField.put("dp8390.future", UInt8(1))
        let isa = NE2000ISA(macAddress: mac).saveSnapshot()

        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "not a nicsim snapshot"),
            ("truncated", Array(good.dropLast(10)), "CRC"),
            ("corrupt", corrupt, "CRC"),
            ("other format", otherFormat, "snapshot format 2"),
            ("other state version", otherState.finish(), "state version 99"),
            ("missing fields", extraField.finish(), "missing"),
            ("another model", isa, "not a RTL8029"),
        ]
        for (name, bytes, reason) in cases {
            XCTAssertThrowsError(try bytes.withUnsafeBytes { try b.loadSnapshot($0) }, name) { error in
                XCTAssertTrue((error as? SnapshotError)?.description.contains(reason) == true, "\(name): \(error)")
            }
            XCTAssertEqual(b.saveSnapshot(), before, "\(name) changed the card")
        }
    }

    /// A well-formed snapshot with a field this nicsim does not know is refused (not half-read).
    func testUnknownFieldIsRefused() throws {
        let (a, _) = card(Wire())
        let full = a.saveSnapshot()
        var r = try full.withUnsafeBytes { try SnapshotReader($0, model: "RTL8029", stateVersion: 1) }
        XCTAssertNoThrow(try r.bytes("pci.config", count: 256))
        XCTAssertThrowsError(try r.finish())
    }

    func testISASnapshotRoundTrip() throws {
        let a = NE2000ISA(macAddress: mac), b = NE2000ISA(macAddress: MACAddress(2, 0, 0, 0, 0, 1))
        startTransfer(a)
        try a.saveSnapshot().withUnsafeBytes { try b.loadSnapshot($0) }
        XCTAssertEqual(b.saveSnapshot(), a.saveSnapshot())
    }
}
