import NICCore
import Wire
import XCTest
@testable import BootServer

/// The server's own record of what each client fetched (`TFTPServer.records`,
/// what `nicsim serve` prints when it stops): a transfer counts as complete
/// when the client acknowledged the last block, and its hash covers each
/// block once, however often it was sent.
final class TFTPServerRecordTests: XCTestCase {
    var tree: TemporaryTree!
    var server: BootServer!
    var client: ScriptedClient!

    override func setUpWithError() throws {
        tree = TemporaryTree()
        server = try BootServer(configuration: makeConfiguration(root: tree.path), clock: VirtualClock())
        server.tftp?.records = TFTPTransferRecords()
        client = ScriptedClient(server: server, ip: IPv4Address(10, 0, 2, 100))
    }

    private func replies() -> [(port: UInt16, packet: TFTPPacket)] {
        ScriptedClient.datagrams(client.drain()).compactMap { d, payload in parseTFTP(payload).map { (d.udp.sourcePort, $0) } }
    }

    private func error(_ code: TFTPErrorCode, _ message: String) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 128)
        let n = (try? out.withUnsafeMutableBytes { try TFTPPacket.writeError(code, message: message, to: $0) }) ?? 0
        return Array(out[0..<n])
    }

    func testRecordsAreKeptOnlyWhenAsked() throws {
        let plain = try BootServer(configuration: makeConfiguration(root: tree.path), clock: VirtualClock())
        XCTAssertNil(plain.tftp?.records)
    }

    /// RFC 7440: an ACK inside the window makes the server send the blocks
    /// after it again; the record's hash is still the file's.
    func testCompletedTransferHasTheFileHashDespiteRetransmissions() throws {
        let file = tree.write("vmlinuz", patternBytes(1468 * 10 + 5))
        client.sendTFTP(rrq("vmlinuz", options: [TFTPOption("blksize", "1468"), TFTPOption("windowsize", "8")]), from: 2070, toPort: 69)
        let port = try XCTUnwrap(replies().first?.port)
        client.sendTFTP(ack(0), from: 2070, toPort: port)
        XCTAssertEqual(replies().count, 8)
        client.sendTFTP(ack(5), from: 2070, toPort: port)   // 6, 7, 8 lost: sent again with 9, 10, 11
        XCTAssertEqual(replies().count, 6)
        XCTAssertEqual(server.tftp?.records?.entries, [], "not complete before the last ACK")
        client.sendTFTP(ack(11), from: 2070, toPort: port)
        let r = try XCTUnwrap(server.tftp?.records?.entries.first)
        XCTAssertEqual(r.outcome, .completed(sha256: SHA256.hex(file)))
        XCTAssertEqual(r.size, file.count)
        XCTAssertEqual(r.file, "vmlinuz")
        XCTAssertEqual(r.client, client.mac)
        XCTAssertEqual(r.clientIP, IPv4Address(10, 0, 2, 100))
        XCTAssertEqual(r.server, serverIP)
    }

    func testMissingFileIsRecordedWithItsError() {
        client.sendTFTP(rrq("pxelinux.cfg/01-52-54-00-12-34-56"), from: 2070, toPort: 69)
        XCTAssertEqual(server.tftp?.records?.entries.map(\.outcome), [.serverError(code: 1, message: "file not found")])
        XCTAssertEqual(server.tftp?.records?.entries.first?.file, "pxelinux.cfg/01-52-54-00-12-34-56")
    }

    /// A tsize probe (RRQ, OACK, ERROR from the client) is counted, not listed.
    func testSizeProbeIsCountedNotListed() throws {
        tree.write("pxelinux.0", patternBytes(4000))
        client.sendTFTP(rrq("pxelinux.0", options: [TFTPOption("tsize", "0")]), from: 2070, toPort: 69)
        let port = try XCTUnwrap(replies().first?.port)
        client.sendTFTP(error(.optionNegotiation, "size only"), from: 2070, toPort: port)
        XCTAssertEqual(server.tftp?.records?.entries, [])
        XCTAssertEqual(server.tftp?.records?.probes, 1)
    }

    func testClientAbortAfterDataIsRecordedWithTheBytesAcknowledged() throws {
        tree.write("initrd.img", patternBytes(4000))
        client.sendTFTP(rrq("initrd.img"), from: 2070, toPort: 69)
        let port = try XCTUnwrap(replies().first?.port)
        client.sendTFTP(ack(1), from: 2070, toPort: port)
        client.sendTFTP(error(.notDefined, "transfer aborted\u{1B}"), from: 2070, toPort: port)
        let r = try XCTUnwrap(server.tftp?.records?.entries.first)
        XCTAssertEqual(r.outcome, .clientError(code: 0, message: "transfer aborted\\x1B"))
        XCTAssertEqual(r.size, 512)
    }
}
