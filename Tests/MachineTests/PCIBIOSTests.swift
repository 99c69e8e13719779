import Board
import Machine
import NICCore
import XCTest

/// INT 1Ah AH=B1h, the PCI BIOS, over the board's host bridge.
final class PCIBIOSTests: XCTestCase {
    typealias H = MachineHarness

    /// B101h: EDX "PCI ", AH=0, BX=0210h (version 2.10), AL bit 0 (mechanism #1).
    func testInstallationCheck() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x1A, [.eax: 0xB101, .edi: 0])
        XCTAssertFalse(H.carry(m))
        XCTAssertEqual(m[.edx], 0x2049_4350)
        XCTAssertEqual(m[.eax] & 0xFF00, 0)
        XCTAssertEqual(m[.eax] & 0x01, 1)
        XCTAssertEqual(m[.ebx] & 0xFFFF, 0x0210)
    }

    /// B102h finds 8086:1237 (the host bridge) at bus 0 device 0 function 0.
    func testFindDeviceFindsTheHostBridge() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x1A, [.eax: 0xB102, .ecx: 0x1237, .edx: 0x8086, .esi: 0, .ebx: 0xFFFF])
        XCTAssertFalse(H.carry(m))
        XCTAssertEqual(m[.ebx] & 0xFFFF, 0x0000)
    }

    /// B102h with an index past the last match: AH=86h (device not found), CF set.
    func testFindDeviceReportsNotFound() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x1A, [.eax: 0xB102, .ecx: 0x1237, .edx: 0x8086, .esi: 1])
        XCTAssertTrue(H.carry(m))
        XCTAssertEqual(m[.eax] & 0xFF00, 0x8600)
    }

    /// B103h finds class 060000h (host bridge).
    func testFindClassFindsTheHostBridge() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x1A, [.eax: 0xB103, .ecx: 0x06_0000, .esi: 0, .ebx: 0xFFFF])
        XCTAssertFalse(H.carry(m))
        XCTAssertEqual(m[.ebx] & 0xFFFF, 0)
    }

    /// B10Ah reads the vendor/device dword; B109h a word; B108h a byte.
    func testReadConfiguration() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x1A, [.eax: 0xB10A, .ebx: 0, .edi: 0])
        XCTAssertEqual(m[.ecx], 0x1237_8086)
        _ = try H.int(m, 0x1A, [.eax: 0xB109, .ebx: 0, .edi: 2, .ecx: 0])
        XCTAssertEqual(m[.ecx] & 0xFFFF, 0x1237)
        _ = try H.int(m, 0x1A, [.eax: 0xB108, .ebx: 0, .edi: 0x0B, .ecx: 0])
        XCTAssertEqual(m[.ecx] & 0xFF, 0x06)
    }

    /// An unaligned word register: AH=87h (bad register number), CF set.
    func testUnalignedRegisterIsRefused() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x1A, [.eax: 0xB109, .ebx: 0, .edi: 1])
        XCTAssertTrue(H.carry(m))
        XCTAssertEqual(m[.eax] & 0xFF00, 0x8700)
    }

    /// B10Bh writes reach the function's configuration space: the command
    /// register of the host bridge takes the write.
    func testWriteConfiguration() throws {
        let m = try H.machine()
        let before = m.board.pci.configRead(PCIAddress(device: 0), offset: 4, width: .word)
        _ = try H.int(m, 0x1A, [.eax: 0xB10C, .ebx: 0, .edi: 4, .ecx: 0x0006])
        XCTAssertFalse(H.carry(m))
        let after = m.board.pci.configRead(PCIAddress(device: 0), offset: 4, width: .word)
        XCTAssertEqual(after & 0x6, 0x6, "command was \(before)")
    }
}
