import NICCore
import Wire
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import BootServer

struct TransferFailure: Error { var reason: String }

final class TFTPServerTests: XCTestCase {
    var tree: TemporaryTree!
    var clock: VirtualClock!
    var server: BootServer!
    var client: ScriptedClient!
    var events: [BootServerEvent] = []

    override func setUp() {
        tree = TemporaryTree()
        clock = VirtualClock()
        server = try? BootServer(configuration: makeConfiguration(root: tree.path), clock: clock)
        if let server {
            client = ScriptedClient(server: server, ip: IPv4Address(10, 0, 2, 100))
            server.onEvent = { [unowned self] in events.append($0) }
        }
    }

    /// The TFTP payloads the server sent since the last call, with the server port they came from.
    private func replies() -> [(port: UInt16, packet: TFTPPacket, bytes: [UInt8])] {
        ScriptedClient.datagrams(client.drain()).compactMap { d, payload in
            parseTFTP(payload).map { (d.udp.sourcePort, $0, payload) }
        }
    }

    /// Reads `name` the way a client does: RRQ, ACK 0 after an OACK, an ACK
    /// after each window or short block. Returns the bytes and the OACK.
    private func download(_ name: String, options: [TFTPOption] = [], window: Int = 1, from port: UInt16 = 2070,
                          mode: String = "octet") throws -> (data: [UInt8], oack: [TFTPOption]?) {
        client.sendTFTP(rrq(name, options: options, mode: mode), from: port, toPort: 69)
        var data: [UInt8] = []
        var oack: [TFTPOption]?
        var expected: UInt16 = 1
        var blockSize = 512
        for _ in 0..<200_000 {
            let batch = replies()
            guard !batch.isEmpty else { throw TransferFailure(reason: "server went quiet") }
            var done = false
            for (serverPort, packet, bytes) in batch {
                switch packet {
                case .optionAcknowledgement(let o):
                    oack = o
                    if let b = o.first(where: { $0.name == "blksize" }).flatMap({ Int($0.value) }) { blockSize = b }
                    client.sendTFTP(ack(0), from: port, toPort: serverPort)
                case .data(let block, let range):
                    guard block == expected else { continue }
                    data += bytes[range]
                    expected &+= 1
                    if range.count < blockSize { done = true }
                    if done || Int(block) % window == 0 { client.sendTFTP(ack(block), from: port, toPort: serverPort) }
                    if done { return (data, oack) }
                case .error(let code, let message):
                    throw TransferFailure(reason: "ERROR \(code): \(message)")
                default:
                    continue
                }
            }
        }
        throw TransferFailure(reason: "transfer did not end")
    }

    func testReadWithoutOptionsUses512ByteBlocks() throws {
        // RFC 1350: 512-byte blocks numbered from 1; a shorter block ends the transfer.
        let file = tree.write("pxelinux.0", patternBytes(1300))
        client.sendTFTP(rrq("pxelinux.0"), from: 2070, toPort: 69)
        let first = replies()
        XCTAssertEqual(first.count, 1)
        guard case .data(1, let range)? = first.first?.packet else { return XCTFail("expected DATA 1") }
        XCTAssertEqual(range.count, 512)
        XCTAssertTrue(TFTPServer.transferPorts.contains(first[0].port))
        XCTAssertEqual(try download("pxelinux.0", from: 2071).data, file)
    }

    func testFileOfWholeBlocksEndsWithEmptyBlock() throws {
        // RFC 1350: a file that is a multiple of the block size ends with a zero-length DATA.
        let file = tree.write("f", patternBytes(1024))
        client.sendTFTP(rrq("f"), from: 2070, toPort: 69)
        var port: UInt16 = 0
        var sizes: [Int] = []
        for block in UInt16(1)...3 {
            guard let r = replies().first, case .data(block, let range) = r.packet else { return XCTFail("expected DATA \(block)") }
            port = r.port
            sizes.append(range.count)
            client.sendTFTP(ack(block), from: 2070, toPort: port)
        }
        XCTAssertEqual(sizes, [512, 512, 0])
        XCTAssertEqual(server.tftp?.counters.completed, 1)
        XCTAssertEqual(file.count, 1024)
    }

    func testOptionsAreAcknowledgedWithTransferSize() throws {
        // RFC 2347/2348/2349/7440: the OACK repeats the accepted options; tsize carries the real size.
        tree.write("k", patternBytes(5000))
        client.sendTFTP(rrq("k", options: [TFTPOption("blksize", "1468"), TFTPOption("tsize", "0"), TFTPOption("windowsize", "16")]),
                        from: 2070, toPort: 69)
        guard case .optionAcknowledgement(let o)? = replies().first?.packet else { return XCTFail("expected OACK") }
        XCTAssertEqual(o, [TFTPOption("blksize", "1468"), TFTPOption("tsize", "5000"), TFTPOption("windowsize", "16")])
    }

    func testBlockSizeIsCappedToFitTheMTU() throws {
        // RFC 2348 lets the server answer a smaller blksize; 1468 fills a 1500-byte IP packet.
        tree.write("k", patternBytes(100))
        client.sendTFTP(rrq("k", options: [TFTPOption("blksize", "65464")]), from: 2070, toPort: 69)
        guard case .optionAcknowledgement(let o)? = replies().first?.packet else { return XCTFail("expected OACK") }
        XCTAssertEqual(o, [TFTPOption("blksize", "1468")])
    }

    func testUnknownOptionsAreLeftOutOfTheOACK() throws {
        let file = tree.write("k", patternBytes(700))
        client.sendTFTP(rrq("k", options: [TFTPOption("multicast", "")]), from: 2070, toPort: 69)
        // No option accepted: data starts at once (RFC 2347: no OACK when nothing is acknowledged).
        guard case .data(1, _)? = replies().first?.packet else { return XCTFail("expected DATA 1") }
        XCTAssertEqual(try download("k", from: 2071).data, file)
    }

    func testWindowSendsWindowSizeBlocksBeforeWaiting() throws {
        // RFC 7440: the sender sends windowsize blocks, then waits for an ACK of the last.
        tree.write("big", patternBytes(1468 * 40))
        client.sendTFTP(rrq("big", options: [TFTPOption("blksize", "1468"), TFTPOption("windowsize", "16")]), from: 2070, toPort: 69)
        let port = try XCTUnwrap(replies().first?.port)
        client.sendTFTP(ack(0), from: 2070, toPort: port)
        let window = replies()
        XCTAssertEqual(window.count, 16)
        XCTAssertEqual(window.last?.packet, .data(block: 16, payload: 4..<1472))
    }

    func testAckInsideWindowRestartsRightAfterIt() throws {
        // RFC 7440: the receiver acks the last block it got in order; the next window starts after it.
        tree.write("big", patternBytes(1468 * 40))
        client.sendTFTP(rrq("big", options: [TFTPOption("blksize", "1468"), TFTPOption("windowsize", "8")]), from: 2070, toPort: 69)
        let port = try XCTUnwrap(replies().first?.port)
        client.sendTFTP(ack(0), from: 2070, toPort: port)
        XCTAssertEqual(replies().count, 8)
        client.sendTFTP(ack(5), from: 2070, toPort: port)
        let again = replies()
        XCTAssertEqual(again.count, 8)
        guard case .data(6, _)? = again.first?.packet else { return XCTFail("expected DATA 6") }
        XCTAssertEqual(server.tftp?.counters.retransmissions, 3)
    }

    func testDuplicateAckIsNotAnswered() throws {
        // RFC 1123 4.2.3.1: answering duplicate ACKs doubles every packet (sorcerer's apprentice).
        tree.write("f", patternBytes(3000))
        client.sendTFTP(rrq("f"), from: 2070, toPort: 69)
        let port = try XCTUnwrap(replies().first?.port)
        client.sendTFTP(ack(1), from: 2070, toPort: port)
        XCTAssertEqual(replies().count, 1)
        client.sendTFTP(ack(1), from: 2070, toPort: port)
        XCTAssertEqual(replies().count, 0)
    }

    func testLostDataIsResentWhenTheTimeoutExpires() throws {
        // RFC 1350: the sender retransmits on timeout; here the virtual clock runs the timer.
        tree.write("f", patternBytes(3000))
        client.sendTFTP(rrq("f", options: [TFTPOption("timeout", "2")]), from: 2070, toPort: 69)
        let port = try XCTUnwrap(replies().first?.port)
        client.sendTFTP(ack(0), from: 2070, toPort: port)
        XCTAssertEqual(replies().count, 1)
        clock.advance(by: 1_900 * VirtualClock.millisecond)
        XCTAssertEqual(replies().count, 0)
        clock.advance(by: 200 * VirtualClock.millisecond)
        let resent = replies()
        XCTAssertEqual(resent.count, 1)
        guard case .data(1, _)? = resent.first?.packet else { return XCTFail("expected DATA 1 again") }
    }

    func testUnansweredTransferIsAbandonedAfterRetries() throws {
        tree.write("f", patternBytes(3000))
        client.sendTFTP(rrq("f"), from: 2070, toPort: 69)
        _ = replies()
        for _ in 0..<20 { clock.advance(by: VirtualClock.second) }
        let last = replies().last?.packet
        guard case .error(0, _)? = last else { return XCTFail("expected a final ERROR") }
        XCTAssertEqual(server.tftp?.activeTransfers, 0)
        XCTAssertEqual(server.tftp?.counters.failed, 1)
        XCTAssertNil(clock.nextDeadline)
    }

    func testRepeatedRequestResendsInsteadOfStartingAgain() throws {
        tree.write("f", patternBytes(3000))
        client.sendTFTP(rrq("f"), from: 2070, toPort: 69)
        let first = try XCTUnwrap(replies().first?.port)
        client.sendTFTP(rrq("f"), from: 2070, toPort: 69)
        XCTAssertEqual(replies().first?.port, first)
        XCTAssertEqual(server.tftp?.activeTransfers, 1)
    }

    func testMissingFileGetsFileNotFound() {
        client.sendTFTP(rrq("nope"), from: 2070, toPort: 69)
        guard case .error(1, _)? = replies().first?.packet else { return XCTFail("expected ERROR 1") }
    }

    func testParentTraversalIsRefused() {
        tree.write("f", [1])
        client.sendTFTP(rrq("sub/../../etc/passwd"), from: 2070, toPort: 69)
        guard case .error(2, _)? = replies().first?.packet else { return XCTFail("expected ERROR 2") }
    }

    /// GRUB asks for `/grub/grub.cfg`: the file under the root is served.
    func testLeadingSlashNamesAFileUnderTheRoot() throws {
        let file = tree.write("grub/grub.cfg", patternBytes(700))
        XCTAssertEqual(try download("/grub/grub.cfg", from: 2071).data, file)
    }

    /// A leading slash means the TFTP root (GRUB's `/grub/grub.cfg`), so
    /// `/etc/passwd` is the root's etc/passwd: not found, never the host's.
    func testAbsolutePathIsTakenFromTheRoot() {
        client.sendTFTP(rrq("/etc/passwd"), from: 2070, toPort: 69)
        guard case .error(1, _)? = replies().first?.packet else { return XCTFail("expected ERROR 1") }
    }

    func testSymlinkLeavingTheRootIsRefused() {
        tree.symlink("escape", to: "/etc/passwd")
        client.sendTFTP(rrq("escape"), from: 2070, toPort: 69)
        guard case .error(2, _)? = replies().first?.packet else { return XCTFail("expected ERROR 2") }
    }

    func testSymlinkInsideTheRootIsServed() throws {
        let file = tree.write("real", patternBytes(600))
        tree.symlink("alias", to: "real")
        XCTAssertEqual(try download("alias").data, file)
    }

    /// pxelinux trees link per-client names to a shared file one directory
    /// up; a relative target that stays inside the root is followed.
    func testRelativeSymlinkThroughParentInsideTheRootIsServed() throws {
        let file = tree.write("pxelinux.cfg/default", patternBytes(100))
        tree.write("menus/keep", [])
        tree.symlink("menus/main", to: "../pxelinux.cfg/default")
        XCTAssertEqual(try download("menus/main").data, file)
    }

    /// Names resolve beneath the root one component at a time, so an
    /// absolute symlink target is refused even when it names a file inside
    /// the root: it would be looked up from the host's /.
    func testAbsoluteSymlinkIsRefused() {
        tree.write("real", patternBytes(600))
        tree.symlink("alias", to: tree.path + "/real")
        client.sendTFTP(rrq("alias"), from: 2070, toPort: 69)
        guard case .error(2, _)? = replies().first?.packet else { return XCTFail("expected ERROR 2") }
    }

    /// A relative symlink whose ".." climbs above the root is refused.
    func testRelativeSymlinkClimbingOutOfTheRootIsRefused() {
        tree.write("sub/keep", [])
        tree.symlink("sub/up", to: "../../../../../../../../etc")
        client.sendTFTP(rrq("sub/up/passwd"), from: 2070, toPort: 69)
        guard case .error(2, _)? = replies().first?.packet else { return XCTFail("expected ERROR 2") }
    }

    /// A directory component that is a symlink out of the root is refused.
    func testSymlinkedDirectoryLeavingTheRootIsRefused() {
        tree.symlink("etc", to: "/etc")
        client.sendTFTP(rrq("etc/passwd"), from: 2070, toPort: 69)
        guard case .error(2, _)? = replies().first?.packet else { return XCTFail("expected ERROR 2") }
    }

    /// A symlink loop is a name that resolves to nothing: ERROR 1.
    func testSymlinkLoopIsNotFound() {
        tree.symlink("a", to: "b")
        tree.symlink("b", to: "a")
        client.sendTFTP(rrq("a"), from: 2070, toPort: 69)
        guard case .error(1, _)? = replies().first?.packet else { return XCTFail("expected ERROR 1") }
    }

    /// A FIFO in the root would block open(2) until a writer came, and with
    /// it the server's one thread (DHCP, ARP, every transfer). It is opened
    /// without blocking and refused as not a regular file; the server goes
    /// on answering.
    func testFIFOIsRefusedWithoutBlocking() throws {
        XCTAssertEqual(mkfifo(tree.path + "/fifo", 0o644), 0)
        let file = tree.write("f", patternBytes(10))
        client.sendTFTP(rrq("fifo"), from: 2070, toPort: 69)
        guard case .error(2, _)? = replies().first?.packet else { return XCTFail("expected ERROR 2") }
        XCTAssertEqual(try download("f", from: 2071).data, file)
    }

    func testDirectoryIsNotServed() {
        tree.write("pxelinux.cfg/default", [1])
        client.sendTFTP(rrq("pxelinux.cfg"), from: 2070, toPort: 69)
        guard case .error(1, _)? = replies().first?.packet else { return XCTFail("expected ERROR 1") }
    }

    func testWriteRequestIsRefused() {
        var out = [UInt8](repeating: 0, count: 64)
        let n = (try? out.withUnsafeMutableBytes { try TFTPPacket.writeRequest(.writeRequest, TFTPRequest(filename: "x"), to: $0) }) ?? 0
        client.sendTFTP(Array(out[0..<n]), from: 2070, toPort: 69)
        guard case .error(2, _)? = replies().first?.packet else { return XCTFail("expected ERROR 2") }
    }

    func testPacketFromAnotherPortGetsUnknownTransferID() throws {
        // RFC 1350 4: a packet from the wrong TID is answered with ERROR 5; the transfer continues.
        tree.write("f", patternBytes(3000))
        client.sendTFTP(rrq("f"), from: 2070, toPort: 69)
        let port = try XCTUnwrap(replies().first?.port)
        client.sendTFTP(ack(1), from: 3333, toPort: port)
        let r = replies()
        guard case .error(5, _)? = r.first?.packet else { return XCTFail("expected ERROR 5") }
        client.sendTFTP(ack(1), from: 2070, toPort: port)
        guard case .data(2, _)? = replies().first?.packet else { return XCTFail("expected DATA 2") }
    }

    func testConcurrentTransfersAreIndependent() throws {
        let a = tree.write("a", patternBytes(4000, seed: 1))
        let b = tree.write("b", patternBytes(9000, seed: 2))
        client.sendTFTP(rrq("a"), from: 3001, toPort: 69)
        client.sendTFTP(rrq("b"), from: 3002, toPort: 69)
        let first = replies()
        XCTAssertEqual(first.count, 2)
        XCTAssertNotEqual(first[0].port, first[1].port)
        XCTAssertEqual(server.tftp?.activeTransfers, 2)
        XCTAssertEqual(try download("b", from: 3003).data, b)
        XCTAssertEqual(try download("a", options: [TFTPOption("windowsize", "4")], window: 4, from: 3004).data, a)
    }

    func testWholeFileArrivesWithNegotiatedOptions() throws {
        let file = tree.write("vmlinuz", patternBytes(1468 * 100 + 17))
        let (data, oack) = try download("vmlinuz", options: [TFTPOption("blksize", "1468"), TFTPOption("tsize", "0"),
                                                              TFTPOption("windowsize", "16")], window: 16)
        XCTAssertEqual(data, file)
        XCTAssertEqual(oack?.first { $0.name == "tsize" }?.value, String(file.count))
        XCTAssertEqual(events.last, .transferCompleted(client: client.ip, file: "vmlinuz", size: file.count, retransmissions: 0))
    }

    func testBlockNumbersWrapPast65535() throws {
        // Block numbers are 16 bits; a file longer than 65535 blocks continues with 0, 1, ...
        let file = tree.write("long", patternBytes(8 * 65540 + 3))
        XCTAssertEqual(try download("long", options: [TFTPOption("blksize", "8")]).data, file)
    }

    func testNetasciiTurnsLineEndsIntoCRLF() throws {
        // RFC 1350 / RFC 764: netascii sends LF as CR LF and a bare CR as CR NUL.
        tree.write("cfg", Array("a\nb\rc".utf8))
        XCTAssertEqual(try download("cfg", mode: "netascii").data, [0x61, 0x0D, 0x0A, 0x62, 0x0D, 0x00, 0x63])
    }

    /// RFC 1350 netascii, the reference conversion: LF as CR LF, CR as CR NUL.
    private func netascii(_ bytes: [UInt8]) -> [UInt8] {
        bytes.flatMap { $0 == 0x0A ? [0x0D, 0x0A] : $0 == 0x0D ? [0x0D, 0x00] : [$0] }
    }

    /// A line end whose two netascii bytes fall on either side of a block
    /// boundary is carried into the next block, for LF and bare CR alike.
    func testNetasciiCarriesALineEndAcrossBlocks() throws {
        let text = Array("abcdefg\nhijklmn\rop\n\n\r\rqrstuvwxyz\n".utf8)
        tree.write("cfg", text)
        let (data, _) = try download("cfg", options: [TFTPOption("blksize", "8")], mode: "netascii")
        XCTAssertEqual(data, netascii(text))
    }

    /// netascii streams from the file: a transfer holds no copy of it, so
    /// 512 sessions of large files cost no more memory than octet ones.
    func testNetasciiHoldsNoCopyOfTheFile() throws {
        let text = (0..<(1 << 20)).map { UInt8($0 % 3 == 0 ? 0x0A : 0x61) }
        tree.write("big.txt", text)
        client.sendTFTP(rrq("big.txt", options: [TFTPOption("blksize", "1468"), TFTPOption("windowsize", "16")], mode: "netascii"),
                        from: 2070, toPort: 69)
        let port = try XCTUnwrap(replies().first?.port)
        client.sendTFTP(ack(0), from: 2070, toPort: port)
        XCTAssertEqual(replies().count, 16)
        XCTAssertLessThanOrEqual(try XCTUnwrap(server.tftp).heldBytes, 1024)
        XCTAssertEqual(try download("big.txt", options: [TFTPOption("blksize", "1468"), TFTPOption("windowsize", "16")],
                                    window: 16, from: 2071, mode: "netascii").data, netascii(text))
    }

    /// A window that goes unacknowledged is sent again byte for byte, line
    /// ends split across its blocks included (RFC 1350 retransmission).
    func testNetasciiRetransmissionRepeatsTheWindow() throws {
        tree.write("cfg", Array("abcdefg\nhijklmn\rop\nqrstuvwxyz0123456789".utf8))
        client.sendTFTP(rrq("cfg", options: [TFTPOption("blksize", "8"), TFTPOption("windowsize", "3")], mode: "netascii"),
                        from: 2070, toPort: 69)
        let port = try XCTUnwrap(replies().first?.port)
        client.sendTFTP(ack(0), from: 2070, toPort: port)
        let first = replies().map(\.bytes)
        XCTAssertEqual(first.count, 3)
        clock.advance(by: 1500 * VirtualClock.millisecond)  // one 1 s timeout
        XCTAssertEqual(replies().map(\.bytes), first)
    }

    /// tsize (RFC 2349) is the size of the transfer, which in netascii is
    /// known only by converting the whole file first; it is not granted.
    func testNetasciiDoesNotGrantTransferSize() throws {
        tree.write("cfg", Array("a\nb\n".utf8))
        let (data, oack) = try download("cfg", options: [TFTPOption("tsize", "0"), TFTPOption("blksize", "1024")], mode: "netascii")
        XCTAssertEqual(data, [0x61, 0x0D, 0x0A, 0x62, 0x0D, 0x0A])
        XCTAssertEqual(oack, [TFTPOption("blksize", "1024")])
    }

    func testBroadcastRequestIsNotServed() {
        tree.write("f", [1])
        client.send(rrq("f"), from: 2070, to: UDPEndpoint(mac: .broadcast, ip: .broadcast, port: 69))
        XCTAssertTrue(replies().isEmpty)
    }
}

final class TFTPServerLimitsTests: XCTestCase {
    func testBlockSizeNeverExceedsWhatAFrameCarries() throws {
        // Even when configured above the MTU, the granted blksize fits one 1514-byte frame.
        let tree = TemporaryTree()
        tree.write("k", patternBytes(5000))
        let server = try BootServer(configuration: makeConfiguration(root: tree.path), clock: VirtualClock())
        server.tftp?.maximumBlockSize = 9000
        let client = ScriptedClient(server: server, ip: IPv4Address(10, 0, 2, 100))
        client.sendTFTP(rrq("k", options: [TFTPOption("blksize", "8192")]), from: 2070, toPort: 69)
        let replies = ScriptedClient.datagrams(client.drain()).compactMap { parseTFTP($0.1) }
        XCTAssertEqual(replies.first, .optionAcknowledgement([TFTPOption("blksize", "1468")]))
    }
}
