import Board
import NICCore
import XCTest

final class PIIX3Tests: XCTestCase {
    private func makeBoard() -> (Board, TestFunction) {
        let board = Board(memorySize: 1 << 20)
        board.attach(PIIX3(router: board.pirq), at: PCIAddress(device: 1))
        let f = TestFunction()
        board.attach(f, at: PCIAddress(device: 3))
        return (board, f)
    }

    /// 82371SB function 0: vendor 8086h, device 7000h, class 060100h (PCI-to-ISA
    /// bridge), header type 80h (multi-function device).
    func testIdentityIsPCIToISABridge() {
        let (board, _) = makeBoard()
        let a = PCIAddress(device: 1)
        XCTAssertEqual(board.pci.configRead(a, offset: 0x00, width: .dword), 0x7000_8086)
        XCTAssertEqual(board.pci.configRead(a, offset: 0x08, width: .dword), 0x0601_0000)
        XCTAssertEqual(board.pci.configRead(a, offset: 0x0E, width: .byte), 0x80)
        XCTAssertEqual(board.pci.configRead(a, offset: 0x06, width: .word), 0x0200)
    }

    /// PIRQRC[A:D] reset to 80h: no PCI interrupt reaches an IRQ until software routes it.
    func testPIRQRoutingIsDisabledAfterReset() {
        let (board, f) = makeBoard()
        XCTAssertEqual(board.pci.configRead(PCIAddress(device: 1), offset: 0x60, width: .dword), 0x8080_8080)
        f.config.set(asserted: true)
        for irq in 0..<InterruptController.lineCount { XCTAssertFalse(board.interrupts.isAsserted(irq)) }
        XCTAssertNil(board.irq(of: PCIAddress(device: 3)))
    }

    /// Writing PIRQRCC (62h) with IRQ 11 steers slot 3 INTA (PIRQC on
    /// PIIX3 wiring) to IRQ 11, carrying a level that is already asserted.
    func testWritingPIRQRCRoutesTheLine() {
        let (board, f) = makeBoard()
        f.config.set(asserted: true)
        board.pci.configWrite(PCIAddress(device: 1), offset: 0x63, width: .byte, value: 10)
        XCTAssertFalse(board.interrupts.isAsserted(10), "PIRQD is not slot 3's line")
        board.pci.configWrite(PCIAddress(device: 1), offset: 0x62, width: .byte, value: 11)
        XCTAssertTrue(board.interrupts.isAsserted(11))
        XCTAssertEqual(board.irq(of: PCIAddress(device: 3)), 11)
    }

    /// A dword write to 60h programs all four routing registers at once.
    func testDwordWriteProgramsAllFourRoutes() {
        let (board, _) = makeBoard()
        board.pci.configWrite(PCIAddress(device: 1), offset: 0x60, width: .dword, value: 0x0B0B_0A0A)
        XCTAssertEqual(board.pirq.routes, [10, 10, 11, 11])
    }

    /// Bits 6:4 of PIRQRC are reserved (read 0); bit 7 set disables the route.
    func testReservedBitsReadZeroAndBit7Disables() {
        let (board, f) = makeBoard()
        let a = PCIAddress(device: 1)
        board.pci.configWrite(a, offset: 0x63, width: .byte, value: 0xFB)
        XCTAssertEqual(board.pci.configRead(a, offset: 0x63, width: .byte), 0x8B)
        f.config.set(asserted: true)
        XCTAssertFalse(board.interrupts.isAsserted(11))
    }

    /// IRQ values 0-2, 8 and 13 are reserved in PIRQRC bits 3:0: they route nowhere.
    func testReservedIRQValuesAreNotRouted() {
        let (board, f) = makeBoard()
        f.config.set(asserted: true)
        for reserved: UInt32 in [0, 1, 2, 8, 13] {
            board.pci.configWrite(PCIAddress(device: 1), offset: 0x63, width: .byte, value: reserved)
            XCTAssertFalse(board.interrupts.isAsserted(Int(reserved)), "IRQ \(reserved)")
            XCTAssertNil(board.irq(of: PCIAddress(device: 3)))
        }
    }

    /// Datasheet reset values: IORT 4Dh, XBCS 0003h, TOM 02h, MBIRQ0 80h,
    /// MBDMA 0Ch/0Ch, PCSC 0002h, SMICNTL 08h, FTMR 0Fh.
    func testOtherRegistersHaveDatasheetResetValues() {
        let (board, _) = makeBoard()
        let a = PCIAddress(device: 1)
        XCTAssertEqual(board.pci.configRead(a, offset: 0x4C, width: .dword), 0x0003_004D)
        XCTAssertEqual(board.pci.configRead(a, offset: 0x68, width: .dword), 0x0000_0200)
        XCTAssertEqual(board.pci.configRead(a, offset: 0x70, width: .byte), 0x80)
        XCTAssertEqual(board.pci.configRead(a, offset: 0x74, width: .dword), 0x0C0C_0000)
        XCTAssertEqual(board.pci.configRead(a, offset: 0x78, width: .word), 0x0002)
        XCTAssertEqual(board.pci.configRead(a, offset: 0xA0, width: .byte), 0x08)
        XCTAssertEqual(board.pci.configRead(a, offset: 0xA8, width: .byte), 0x0F)
    }
}
