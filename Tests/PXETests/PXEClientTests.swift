import NICSimTestSupport
import Board
import NICCore
import UNDI
import Wire
import XCTest

@testable import PXE

/// The one-piece client: ROM, base code, API and pxelinux, with progress.
final class PXEClientTests: XCTestCase {
    private func client() throws -> (PXEClient, ScriptedPeer) {
        let board = Board(memorySize: 32 << 20)
        let nic = TestNICDriver()
        board.add(port: nic.port)
        let client = try PXEClient(board: board, driver: nic)
        let peer = ScriptedPeer(clock: board.clock, port: nic.port)
        peer.files["pxelinux.0"] = patternFile(20_000, seed: 5)
        peer.files["pxelinux.cfg/default"] = Array("DEFAULT k initrd=r\n".utf8)
        peer.files["k"] = patternFile(3000)
        peer.files["r"] = patternFile(1000)
        return (client, peer)
    }

    func testBootGoesFromPowerOnToKernelAndInitrdInMemory() throws {
        let (client, peer) = try client()
        let report = try withExtendedLifetime(peer) { try client.boot() }
        XCTAssertEqual(report.dhcp.bootFile, "pxelinux.0")
        XCTAssertEqual(report.nbp.kernel.size, 3000)
        XCTAssertEqual(report.nbp.initrds.map(\.size), [1000])
        XCTAssertEqual(try client.board.memory.readBytes(at: report.nbp.kernel.address, count: 3000), patternFile(3000))
        XCTAssertGreaterThan(report.elapsed, 0)
    }

    func testTheROMLoadsTheBootFileAt7C00BeforeTheNBPRuns() throws {
        let (client, peer) = try client()
        let report = try withExtendedLifetime(peer) { try client.boot() }
        XCTAssertEqual(report.nbpFile, LoadedFile(name: "pxelinux.0", address: 0x7C00, size: 20_000))
        XCTAssertEqual(try client.board.memory.readBytes(at: 0x7C00, count: 20_000), patternFile(20_000, seed: 5))
        XCTAssertEqual(peer.readRequests.first?.filename, "pxelinux.0")
    }

    func testABootFileThatWouldReachTheROMIsRefused() throws {
        // Conventional memory from 0x7C00 up to the ROM's segments at 0x90000.
        let (client, peer) = try client()
        peer.files["pxelinux.0"] = patternFile(0x90000 - 0x7C00 + 1)
        XCTAssertThrowsError(try client.boot()) { XCTAssertEqual($0 as? PXEClientError, .rom(.bootstrapFileTooBig)) }
    }

    func testAMissingBootFileStopsTheROM() throws {
        let (client, peer) = try client()
        peer.files["pxelinux.0"] = nil
        XCTAssertThrowsError(try client.boot()) { XCTAssertEqual($0 as? PXEClientError, .rom(.tftpFileNotFound)) }
    }

    func testPXEStructuresAreInstalledAtConstruction() throws {
        let (client, peer) = try client()
        withExtendedLifetime(peer) {}
        let layout = client.api.layout
        XCTAssertEqual(try client.board.memory.readBytes(at: layout.pxenvAddress.linear, count: 6), Array("PXENV+".utf8))
        XCTAssertEqual(try client.board.memory.readBytes(at: layout.bangPXEAddress.linear, count: 4), Array("!PXE".utf8))
    }

    func testProgressEventsFollowTheBoot() throws {
        let (client, peer) = try client()
        var events: [PXEEvent] = []
        client.onEvent = { events.append($0) }
        _ = try client.boot()
        XCTAssertEqual(events.first, .dhcpDiscover(attempt: 1))
        XCTAssertTrue(events.contains(.dhcpOffer(server: peer.dhcpServer.ip, address: peer.clientAddress, proxy: false)))
        XCTAssertTrue(events.contains(.dhcpAck(address: peer.clientAddress)))
        XCTAssertTrue(events.contains(.bootFile(name: "pxelinux.0", server: peer.dhcpServer.ip)))
        XCTAssertTrue(events.contains(.tftpOpened(file: "pxelinux.0", server: peer.dhcpServer.ip, size: 20_000)))
        XCTAssertTrue(events.contains(.tftpOpened(file: "k", server: peer.dhcpServer.ip, size: 3000)))
        XCTAssertEqual(events.last, .tftpCompleted(file: "r", bytes: 1000))
    }

    func testDHCPFailureIsReportedAsAROMError() throws {
        let (client, peer) = try client()
        peer.dhcpSilent = true
        XCTAssertThrowsError(try client.boot()) { XCTAssertEqual($0 as? PXEClientError, .rom(.dhcpTimeout)) }
    }

    func testMissingConfigurationIsReportedAsAnNBPError() throws {
        let (client, peer) = try client()
        peer.files = ["pxelinux.0": [0xEB, 0xFE]]
        XCTAssertThrowsError(try client.boot()) { error in
            guard case .nbp(.noConfiguration)? = error as? PXEClientError else { return XCTFail("\(error)") }
        }
    }
}
