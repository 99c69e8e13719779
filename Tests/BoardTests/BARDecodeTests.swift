import Board
import NICCore
import XCTest

final class BARDecodeTests: XCTestCase {
    let slot = PCIAddress(device: 3)

    func configWrite(_ board: Board, _ offset: Int, _ value: UInt32, _ width: AccessWidth = .dword) {
        board.pci.configWrite(slot, offset: offset, width: width, value: value)
    }

    func testBARSizingThroughConfigCycles() {
        let board = Board(memorySize: 1 << 20)
        board.attach(TestFunction(), at: slot)
        configWrite(board, 0x10, 0xFFFF_FFFF)
        configWrite(board, 0x14, 0xFFFF_FFFF)
        XCTAssertEqual(board.pci.configRead(slot, offset: 0x10, width: .dword), 0xFFFF_FFE1)
        XCTAssertEqual(board.pci.configRead(slot, offset: 0x14, width: .dword), 0xFFFF_FF00)
    }

    /// Nothing is decoded until a BAR holds an address and the command bit is set.
    func testBARDecodesOnlyWithCommandBit() {
        let board = Board(memorySize: 1 << 20)
        let f = TestFunction()
        board.attach(f, at: slot)
        configWrite(board, 0x10, 0xC100)
        XCTAssertEqual(board.io.read(0xC104, width: .byte), 0xFF, "decoded before I/O Space Enable")
        configWrite(board, 0x04, UInt32(PCICommand.ioSpace.rawValue), .word)
        XCTAssertEqual(board.io.read(0xC104, width: .word), 0x1004)
        XCTAssertEqual(board.decodedBAR(slot, 0)?.base, 0xC100)
        // The memory BAR stays dark: memory space is still disabled.
        configWrite(board, 0x14, 0xFEB0_0000)
        XCTAssertEqual(board.mmio.read(0xFEB0_0010, width: .dword), 0xFFFF_FFFF)
        configWrite(board, 0x04, UInt32(PCICommand([.ioSpace, .memorySpace]).rawValue), .word)
        XCTAssertEqual(board.mmio.read(0xFEB0_0010, width: .dword), 0x2010)
    }

    /// Reprogramming a BAR moves the window; clearing the command bit removes it.
    func testMovedBARAndClearedCommandBit() {
        let board = Board(memorySize: 1 << 20)
        let f = TestFunction()
        board.attach(f, at: slot)
        configWrite(board, 0x10, 0xC100)
        configWrite(board, 0x04, UInt32(PCICommand.ioSpace.rawValue), .word)
        configWrite(board, 0x10, 0xD000)
        XCTAssertEqual(board.io.read(0xC100, width: .byte), 0xFF)
        XCTAssertEqual(board.io.read(0xD001, width: .byte), 0x01)
        board.io.write(0xD002, width: .byte, value: 0x5A)
        XCTAssertEqual(f.ioRegisters.lastWrite?.offset, 2)
        XCTAssertEqual(f.ioRegisters.lastWrite?.value, 0x5A)
        configWrite(board, 0x04, 0, .word)
        XCTAssertEqual(board.io.read(0xD001, width: .byte), 0xFF)
        XCTAssertNil(board.decodedBAR(slot, 0))
    }

    /// The expansion ROM appears only with its enable bit and Memory Space Enable.
    func testExpansionROMDecode() {
        let board = Board(memorySize: 1 << 20)
        board.attach(TestFunction(), at: slot)
        configWrite(board, 0x30, 0xFEC0_0000)
        configWrite(board, 0x04, UInt32(PCICommand.memorySpace.rawValue), .word)
        XCTAssertEqual(board.mmio.read(0xFEC0_0000, width: .word), 0xFFFF)
        configWrite(board, 0x30, 0xFEC0_0001)
        XCTAssertEqual(board.mmio.read(0xFEC0_0000, width: .word), 0xAA55)
        XCTAssertEqual(board.mmio.read(0xFEC0_0003, width: .byte), 0xFF)  // past the image
    }

    /// A BAR programmed on top of another mapping stays dark and is counted.
    func testConflictingBARStaysDark() {
        let board = Board(memorySize: 1 << 20)
        board.attach(TestFunction(), at: slot)
        configWrite(board, 0x10, 0x0CE0)  // 0xCE0-0xCFF overlaps the host bridge at 0xCF8
        configWrite(board, 0x04, UInt32(PCICommand.ioSpace.rawValue), .word)
        XCTAssertNil(board.decodedBAR(slot, 0))
        XCTAssertEqual(board.decodeConflicts, 1)
        XCTAssertEqual(board.io.read(0xCF8, width: .dword), 0)  // host bridge still answers
    }

    /// The firmware-like set-up sizes and places every BAR, routes the IRQ and enables the function.
    func testAssignResourcesProgramsFunction() {
        let board = Board(memorySize: 1 << 20)
        let f = TestFunction()
        board.attach(f, at: slot)
        board.assignResources()
        let io = board.decodedBAR(slot, 0)
        XCTAssertEqual(io?.base, 0xC000)
        XCTAssertEqual(io?.isIO, true)
        XCTAssertEqual(board.decodedBAR(slot, 1)?.base, 0xE000_0000)
        XCTAssertTrue(f.config.busMasterEnabled)
        XCTAssertEqual(f.config.interruptLineRegister, UInt8(board.irq(of: slot)!))
        XCTAssertNil(f.config.expansionROMAddress, "ROM is given an address but left disabled")
    }
}
