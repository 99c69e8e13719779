import Board
import Bridge
import NICCore
import PXE
import RTL8139
import UNDI
import Wire
import XCTest
@testable import BootServer

/// The BootServer against nicsim's own PXE client on a real model: an
/// RTL8139 on the board, its UNDI driver, the PXE base code, a virtual
/// switch between them.
final class PXEChainTests: XCTestCase {
    func testPXEClientDownloadsThroughTheSwitchWithWindows() throws {
        let tree = TemporaryTree()
        let file = tree.write("big.img", patternBytes(1468 * 300 + 5))
        let board = Board(memorySize: 64 << 20)
        let card = RTL8139(macAddress: MACAddress(0x52, 0x54, 0, 0x12, 0x34, 0x56), memory: board.memory, clock: board.clock)
        board.attach(card, at: PCIAddress(device: 3))
        board.assignResources()
        board.add(port: card.port)
        let network = VirtualSwitch(clock: board.clock, seed: 1)
        network.connect(device: card.port)
        let server = try BootServer(configuration: makeConfiguration(root: tree.path), clock: board.clock)
        network.connect(device: server.port)
        let client = try PXEClient(board: board, driver: RTL8139Driver(bus: DriverBus(board: board)))
        client.baseCode.tftpOptions = TFTPTransferOptions(blockSize: 1468, windowSize: 16)
        let dhcp = try client.baseCode.boot()
        XCTAssertEqual(dhcp.address, IPv4Address(10, 0, 2, 100))
        XCTAssertEqual(dhcp.tftpServer, serverIP)
        // Twice: the second transfer reuses the ARP entry and gets a new TID.
        for round in 1...2 {
            var received: [UInt8] = []
            let n = try client.baseCode.tftp.readFile(server: dhcp.tftpServer, file: "big.img", options: client.baseCode.tftpOptions) { (_, bytes) throws(PXEStatus) in
                received += bytes
            }
            XCTAssertEqual(n, file.count)
            XCTAssertEqual(received, file)
            XCTAssertEqual(server.tftp?.counters.completed, round)
        }
        XCTAssertEqual(server.tftp?.counters.retransmissions, 0)
    }
}
