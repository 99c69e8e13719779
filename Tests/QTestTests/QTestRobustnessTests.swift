import Board
import NICCore
@testable import QTest
import XCTest

final class QTestRobustnessTests: XCTestCase {
    /// Nothing a script sends may crash or hang the server: seeded random
    /// commands (valid and malformed) against every model at once, with the
    /// cards decoded and bus mastering on, each get exactly one reply line
    /// (plus IRQ lines), and frames from the wire keep arriving.
    func testRandomCommandsAgainstEveryModelGetOneReplyEach() throws {
        let options = try QEMUOptions.parse([
            "-m", "16M",
            "-device", "ne2k_pci,addr=3", "-device", "rtl8139,addr=4",
            "-device", "virtio-net-pci,addr=5", "-device", "virtio-net-pci,addr=6,disable-legacy=on",
            "-device", "ne2k_isa",
        ])
        let machine = try QTestMachine(options: options)
        machine.board.assignResources()
        var lines: [String] = []
        let server = QTestServer(board: machine.board) { lines.append($0) }
        var rng = SeededRandom(seed: 0x9E37_79B9)
        var ioPorts: [UInt64] = [0x300]
        var mmio: [UInt64] = []
        for slot: UInt8 in 3...6 {
            for bar in 0..<6 {
                guard let d = machine.board.decodedBAR(PCIAddress(device: slot), bar) else { continue }
                if d.isIO { ioPorts.append(d.base) } else { mmio.append(d.base) }
            }
        }
        XCTAssertGreaterThanOrEqual(ioPorts.count, 4)
        XCTAssertGreaterThanOrEqual(mmio.count, 3)
        let widths = ["b", "w", "l"]
        let frame = [UInt8](repeating: 0xFF, count: 6) + [UInt8](repeating: 0x11, count: 54)
        for i in 0..<30_000 {
            let roll = rng.next() % 100
            let line: String
            switch roll {
            case 0..<35:
                let base = ioPorts[Int(rng.next() % UInt64(ioPorts.count))]
                line = "out\(widths[Int(rng.next() % 3)]) 0x\(String(base + rng.next() % 0x40, radix: 16)) 0x\(String(rng.next(), radix: 16))"
            case 35..<55:
                let base = ioPorts[Int(rng.next() % UInt64(ioPorts.count))]
                line = "in\(widths[Int(rng.next() % 3)]) 0x\(String(base + rng.next() % 0x40, radix: 16))"
            case 55..<70:
                let base = mmio[Int(rng.next() % UInt64(mmio.count))]
                line = "writel 0x\(String(base + (rng.next() % 0x4000) & ~3, radix: 16)) 0x\(String(rng.next() & 0xFFFF_FFFF, radix: 16))"
            case 70..<78:
                let base = mmio[Int(rng.next() % UInt64(mmio.count))]
                line = "readq 0x\(String(base + rng.next() % 0x4000, radix: 16))"
            case 78..<85:
                // Descriptor-ish garbage in low RAM, where rings may point.
                line = "writeq 0x\(String(rng.next() % 0x10000 & ~7, radix: 16)) 0x\(String(rng.next(), radix: 16))"
            case 85..<90:
                line = "clock_step \(rng.next() % 5_000_000)"
            case 90..<95:
                // Malformed: random bytes, printable or not.
                line = String(decoding: (0..<Int(rng.next() % 24)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, as: UTF8.self)
            default:
                for nic in machine.nics { frame.withUnsafeBytes { _ = nic.device.port.offer($0) } }
                machine.board.runUntilIdle()
                continue
            }
            let before = lines.count
            server.handle(line: line)
            let replies = lines[before...].filter { !$0.hasPrefix("IRQ ") }
            XCTAssertEqual(replies.count, 1, "command \(i): \(line) -> \(Array(lines[before...]))")
            if replies.count != 1 { break }
        }
    }
}
