import Board
import NICCore
import XCTest

/// A PCI function that sends a message when the test says so.
final class SignalingFunction: MessageSignalingFunction {
    let config = PCIConfigSpace(identity: PCIIdentity(vendorID: 0x1234, deviceID: 0x0001, classCode: 0x02_00_00))
    private var deliver: ((UInt64, UInt32) -> Void)?

    func registers(forBAR index: Int) -> RegisterBlock? { nil }
    func connectMessages(_ deliver: @escaping (UInt64, UInt32) -> Void) { self.deliver = deliver }
    func send(address: UInt64, data: UInt32) { deliver?(address, data) }
}

/// MSI/MSI-X messages through the Board: a DWORD write by the function as
/// bus master (PCI Local Bus 3.0 6.8.3.3), as QEMU's machines deliver them.
final class MessageDeliveryTests: XCTestCase {
    private func plugged() -> (Board, SignalingFunction) {
        let board = Board(memorySize: 1 << 20)
        let function = SignalingFunction()
        board.attach(function, at: PCIAddress(device: 3))
        function.config.write(offset: PCIConfigRegister.command, width: .word, value: UInt32(PCICommand.busMaster.rawValue))
        return (board, function)
    }

    /// QEMU's qtest harness points vectors at guest RAM and polls the word there.
    func testMessageToRAMIsAMemoryWrite() throws {
        let (board, function) = plugged()
        function.send(address: 0x8000, data: 0x4041)
        XCTAssertEqual(try board.memory.readU32(0x8000), 0x4041)
        XCTAssertEqual(board.messages.count, 0)
    }

    func testMessageToTheAPICWindowIsLogged() {
        let (board, function) = plugged()
        var seen: [(UInt64, UInt32)] = []
        board.messages.onMessage = { seen.append(($0, $1)) }
        function.send(address: 0xFEE0_0000, data: 0x41)
        XCTAssertEqual(board.messages.count, 1)
        XCTAssertEqual(board.messages.last?.data, 0x41)
        XCTAssertEqual(seen.count, 1)
    }

    /// Without Bus Master Enable the function can't write memory, so no message arrives.
    func testNoMessageWithoutBusMaster() throws {
        let (board, function) = plugged()
        function.config.write(offset: PCIConfigRegister.command, width: .word, value: 0)
        function.send(address: 0x8000, data: 0x4041)
        function.send(address: 0xFEE0_0000, data: 0x41)
        XCTAssertEqual(try board.memory.readU32(0x8000), 0)
        XCTAssertEqual(board.messages.count, 0)
    }

    /// An address that is neither RAM nor the APIC window is an unclaimed write.
    func testMessageElsewhereIsDropped() {
        let (board, function) = plugged()
        function.send(address: 0xF000_0000, data: 1)
        function.send(address: UInt64.max - 1, data: 1)
        XCTAssertEqual(board.messages.count, 0)
    }
}
