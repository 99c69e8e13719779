import Board
import NICCore
import XCTest

final class PCIHostBridgeTests: XCTestCase {
    func selectConfig(_ board: Board, device: UInt8, register: UInt32) {
        board.io.write(0xCF8, width: .dword, value: UInt64(0x8000_0000 | UInt32(device) << 11 | register))
    }

    /// 00:00.0 is an i440FX host bridge, 8086:1237, class 06/00.
    func testHostBridgeIdentity() {
        let board = Board(memorySize: 1 << 20)
        selectConfig(board, device: 0, register: 0)
        XCTAssertEqual(board.io.read(0xCFC, width: .dword), 0x1237_8086)
        selectConfig(board, device: 0, register: 8)
        XCTAssertEqual(board.io.read(0xCFC, width: .dword) >> 8, 0x06_00_00)
    }

    /// CONFIG_DATA takes byte and word accesses at each lane.
    func testDataPortByteAndWordLanes() {
        let board = Board(memorySize: 1 << 20)
        selectConfig(board, device: 0, register: 0)
        XCTAssertEqual(board.io.read(0xCFC, width: .byte), 0x86)
        XCTAssertEqual(board.io.read(0xCFD, width: .byte), 0x80)
        XCTAssertEqual(board.io.read(0xCFE, width: .word), 0x1237)
        XCTAssertEqual(board.io.read(0xCFF, width: .byte), 0x12)
    }

    /// An absent function reads all-ones; with the enable bit clear, nothing is decoded.
    func testAbsentFunctionAndDisabledAddressReadAllOnes() {
        let board = Board(memorySize: 1 << 20)
        selectConfig(board, device: 7, register: 0)
        XCTAssertEqual(board.io.read(0xCFC, width: .dword), 0xFFFF_FFFF)
        board.io.write(0xCF8, width: .dword, value: 0)
        XCTAssertEqual(board.io.read(0xCFC, width: .dword), 0xFFFF_FFFF)
        XCTAssertEqual(board.io.read(0xCF8, width: .dword), 0)
    }

    /// CONFIG_ADDRESS latches only dword writes.
    func testConfigAddressIgnoresNarrowWrites() {
        let board = Board(memorySize: 1 << 20)
        board.io.write(0xCF8, width: .byte, value: 0xFF)
        XCTAssertEqual(board.io.read(0xCF8, width: .dword), 0)
    }
}
