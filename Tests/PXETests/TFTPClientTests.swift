import NICCore
import UNDI
import Wire
import XCTest

@testable import PXE

/// The TFTP client against a scripted server: option negotiation (RFC 2347,
/// 2348, 2349, 7440), loss, duplicates, reordering, errors and .zpxe.
final class TFTPClientTests: XCTestCase {
    private func bootedRig() throws -> PXETestRig {
        let rig = PXETestRig()
        try rig.boot()
        return rig
    }

    private func fetch(_ rig: PXETestRig, _ name: String, _ options: TFTPTransferOptions = TFTPTransferOptions()) throws -> [UInt8] {
        var out: [UInt8] = []
        try rig.baseCode.tftp.readFile(server: rig.peer.dhcpServer.ip, file: name, options: options) { (_, bytes) throws(PXEStatus) in
            out += bytes
        }
        return out
    }

    func testRequestCarriesBlksizeTsizeAndWindowsize() throws {
        let rig = try bootedRig()
        rig.peer.files["a"] = patternFile(100)
        _ = try fetch(rig, "a", TFTPTransferOptions(blockSize: 1024, windowSize: 4, timeoutSeconds: 3))
        let rrq = try XCTUnwrap(rig.peer.readRequests.first)
        XCTAssertEqual(rrq.mode, "octet")
        XCTAssertEqual(rrq.option("blksize"), "1024")
        XCTAssertEqual(rrq.option("tsize"), "0")
        XCTAssertEqual(rrq.option("timeout"), "3")
        XCTAssertEqual(rrq.option("windowsize"), "4")
    }

    func testFileArrivesWholeWithTheNegotiatedBlockSize() throws {
        let rig = try bootedRig()
        let file = patternFile(5000)
        rig.peer.files["kernel"] = file
        rig.peer.maxBlockSize = 1000
        XCTAssertEqual(try fetch(rig, "kernel"), file)
        // OACK acknowledged with ACK 0, then 1000-byte blocks: 5 full + 1 empty.
        XCTAssertEqual(rig.peer.acks, [0, 1, 2, 3, 4, 5, 6])
    }

    func testServerWithoutOptionsFallsBackTo512ByteBlocks() throws {
        let rig = try bootedRig()
        let file = patternFile(1300)
        rig.peer.files["f"] = file
        rig.peer.tftpSupportsOptions = false
        XCTAssertEqual(try fetch(rig, "f"), file)
        XCTAssertEqual(rig.peer.acks, [1, 2, 3])
    }

    /// RFC 2348: blocks are at most the negotiated blksize, the last one
    /// shorter. A DATA block larger than that is an illegal operation: the
    /// client answers ERROR 4, aborts, and hands none of it to the caller.
    func testDataBlockLargerThanBlksizeAbortsTheTransfer() throws {
        let rig = try bootedRig()
        rig.peer.files["k"] = patternFile(3000)
        rig.peer.maxBlockSize = 512
        rig.peer.oversizeDataBy = 100
        var delivered = 0
        XCTAssertThrowsError(try rig.baseCode.tftp.readFile(server: rig.peer.dhcpServer.ip, file: "k") { (_, bytes) throws(PXEStatus) in
            delivered += bytes.count
        }) { XCTAssertEqual($0 as? TFTPClientError, .oversizedBlock(size: 612, blockSize: 512)) }
        XCTAssertEqual(delivered, 0)
        XCTAssertEqual(rig.peer.errorsFromClient.first?.0, TFTPErrorCode.illegalOperation.rawValue)
        XCTAssertFalse(rig.baseCode.tftp.isOpen)
    }

    /// A server that takes no options sends 512-byte blocks (RFC 1350); a
    /// first DATA block above that is refused the same way.
    func testFirstBlockLargerThan512WithoutOptionsIsRefused() throws {
        let rig = try bootedRig()
        rig.peer.files["k"] = patternFile(3000)
        rig.peer.tftpSupportsOptions = false
        rig.peer.oversizeDataBy = 1
        XCTAssertThrowsError(try fetch(rig, "k")) { XCTAssertEqual(($0 as? TFTPClientError)?.status, .tftpCannotReadFromConnection) }
    }

    /// The server's ERROR text reaches logs and the console escaped.
    func testServerErrorTextIsEscapedInTheDescription() {
        let e = TFTPClientError.server(code: 1, message: "no\r\nPXE-E00: forged\u{1B}[31m")
        XCTAssertEqual(e.description, "TFTP error 1: no\\r\\nPXE-E00: forged\\x1B[31m")
    }

    func testWindowsizeAcksOncePerWindow() throws {
        // RFC 7440: the receiver ACKs the last block of each window.
        let rig = try bootedRig()
        let file = patternFile(512 * 10 + 7)
        rig.peer.files["w"] = file
        rig.peer.maxBlockSize = 512
        XCTAssertEqual(try fetch(rig, "w", TFTPTransferOptions(blockSize: 512, windowSize: 4)), file)
        XCTAssertEqual(rig.peer.acks, [0, 4, 8, 11])
    }

    func testALostBlockInAWindowIsRecoveredByAckingTheLastGoodOne() throws {
        // RFC 7440: on a gap the receiver ACKs the last in-order block and
        // the sender restarts the window after it.
        let rig = try bootedRig()
        let file = patternFile(512 * 8 + 1)
        rig.peer.files["w"] = file
        rig.peer.maxBlockSize = 512
        rig.peer.dropBlocksOnce = [3]
        XCTAssertEqual(try fetch(rig, "w", TFTPTransferOptions(blockSize: 512, windowSize: 4)), file)
        XCTAssertTrue(rig.peer.acks.contains(2))
    }

    func testOutOfOrderBlocksInAWindowAreRecovered() throws {
        let rig = try bootedRig()
        let file = patternFile(512 * 8 + 1)
        rig.peer.files["w"] = file
        rig.peer.maxBlockSize = 512
        rig.peer.delayBlocksInWindow = [2]
        XCTAssertEqual(try fetch(rig, "w", TFTPTransferOptions(blockSize: 512, windowSize: 4)), file)
        XCTAssertTrue(rig.peer.acks.contains(1))
    }

    func testDuplicateBlocksAreDeliveredOnce() throws {
        let rig = try bootedRig()
        let file = patternFile(2000)
        rig.peer.files["d"] = file
        rig.peer.maxBlockSize = 512
        rig.peer.duplicateBlocks = [1, 2, 3]
        XCTAssertEqual(try fetch(rig, "d", TFTPTransferOptions(blockSize: 512)), file)
        XCTAssertEqual(rig.baseCode.tftp.blocksReceived, 4)
    }

    func testALostBlockIsRecoveredByRetransmittingTheAck() throws {
        // Lock-step: silence means our ACK or its DATA was lost; ACK again.
        let rig = try bootedRig()
        let file = patternFile(2000)
        rig.peer.files["l"] = file
        rig.peer.maxBlockSize = 512
        rig.peer.dropBlocksOnce = [2]
        let start = rig.clock.now
        XCTAssertEqual(try fetch(rig, "l", TFTPTransferOptions(blockSize: 512)), file)
        XCTAssertEqual(rig.peer.acks.filter { $0 == 1 }.count, 2)
        XCTAssertEqual(rig.baseCode.tftp.retransmissions, 1)
        XCTAssertGreaterThanOrEqual(rig.clock.now - start, VirtualClock.second)
    }

    func testALostRequestIsSentAgain() throws {
        let rig = try bootedRig()
        rig.peer.files["r"] = patternFile(10)
        rig.peer.ignoreReadRequests = 1
        XCTAssertEqual(try fetch(rig, "r"), patternFile(10))
        XCTAssertEqual(rig.peer.readRequests.count, 2)
    }

    func testSilentServerGivesOpenTimeout() throws {
        let rig = try bootedRig()
        rig.peer.ignoreReadRequests = 100
        XCTAssertThrowsError(try fetch(rig, "x")) {
            XCTAssertEqual($0 as? TFTPClientError, .openTimeout)
            XCTAssertEqual(($0 as? TFTPClientError)?.status, .tftpOpenTimeout)
        }
        XCTAssertEqual(rig.peer.readRequests.count, 6)
    }

    func testServerDyingMidFileGivesReadTimeout() throws {
        let rig = try bootedRig()
        rig.peer.files["big"] = patternFile(512 * 10)
        rig.peer.maxBlockSize = 512
        rig.peer.stopAfterBlock = 3
        XCTAssertThrowsError(try fetch(rig, "big", TFTPTransferOptions(blockSize: 512))) {
            XCTAssertEqual(($0 as? TFTPClientError)?.status, .tftpReadTimeout)
        }
    }

    func testFileNotFoundErrorIsSurfacedWithCodeAndText() throws {
        let rig = try bootedRig()
        XCTAssertThrowsError(try fetch(rig, "missing")) {
            XCTAssertEqual($0 as? TFTPClientError, .server(code: 1, message: "File not found"))
            XCTAssertEqual(($0 as? TFTPClientError)?.status, .tftpFileNotFound)
        }
    }

    func testAccessViolationMapsToItsPXEStatus() throws {
        let rig = try bootedRig()
        rig.peer.tftpErrors["secret"] = (2, "Access violation")
        XCTAssertThrowsError(try fetch(rig, "secret")) {
            XCTAssertEqual($0 as? TFTPClientError, .server(code: 2, message: "Access violation"))
            XCTAssertEqual(($0 as? TFTPClientError)?.status, .tftpAccessViolation)
        }
    }

    func testOtherServerErrorsMapToErrorOpcode() throws {
        let rig = try bootedRig()
        rig.peer.tftpErrors["odd"] = (4, "Illegal operation")
        XCTAssertThrowsError(try fetch(rig, "odd")) { XCTAssertEqual(($0 as? TFTPClientError)?.status, .tftpErrorOpcode) }
    }

    func testOptionNegotiationRefusalRetriesWithoutOptions() throws {
        // RFC 2347: a server may answer a request with options by ERROR 8.
        let rig = try bootedRig()
        rig.peer.tftpErrors["opt"] = (8, "no options")
        rig.peer.files["opt"] = patternFile(10)
        XCTAssertThrowsError(try fetch(rig, "opt"))
        XCTAssertEqual(rig.peer.readRequests.count, 2)
        XCTAssertTrue(rig.peer.readRequests[1].options.isEmpty)
    }

    func testZPXESuffixIsStrippedWhenAsked() throws {
        // Etherboot's ZPXE_SUFFIX_STRIP.
        let rig = try bootedRig()
        rig.peer.files["undionly.kpxe"] = patternFile(10)
        var o = TFTPTransferOptions()
        o.stripZPXESuffix = true
        XCTAssertEqual(try fetch(rig, "undionly.kpxe.zpxe", o), patternFile(10))
        XCTAssertEqual(rig.peer.readRequests.first?.filename, "undionly.kpxe")
    }

    func testZPXESuffixIsKeptByDefault() throws {
        let rig = try bootedRig()
        XCTAssertThrowsError(try fetch(rig, "x.zpxe"))
        XCTAssertEqual(rig.peer.readRequests.first?.filename, "x.zpxe")
    }

    func testFileSizeComesFromTsizeAndTheTransferIsAborted() throws {
        let rig = try bootedRig()
        rig.peer.files["k"] = patternFile(123_456)
        XCTAssertEqual(try rig.baseCode.tftp.fileSize(server: rig.peer.dhcpServer.ip, file: "k"), 123_456)
        XCTAssertEqual(rig.peer.errorsFromClient.count, 1)
    }

    func testFileSizeFromAServerWithoutOptionsIsNoFileSize() throws {
        let rig = try bootedRig()
        rig.peer.files["k"] = patternFile(100)
        rig.peer.tftpSupportsOptions = false
        XCTAssertThrowsError(try rig.baseCode.tftp.fileSize(server: rig.peer.dhcpServer.ip, file: "k")) {
            XCTAssertEqual(($0 as? TFTPClientError)?.status, .tftpNoFileSize)
        }
    }

    func testPacketFromAnotherPortGetsUnknownTransferID() throws {
        // RFC 1350: a packet from a wrong TID is answered with ERROR 5 and
        // does not disturb the transfer.
        let rig = try bootedRig()
        rig.peer.files["t"] = patternFile(700)
        rig.peer.sendStrayFromWrongPort = true
        XCTAssertEqual(try fetch(rig, "t", TFTPTransferOptions(blockSize: 512)), patternFile(700))
        let errors = rig.peer.udpToOthers.compactMap { d, p -> UInt16? in
            guard case .error(let code, _)? = p.withUnsafeBytes({ try? TFTPPacket(parsing: $0) }) else { return nil }
            return code
        }
        XCTAssertEqual(errors, [5])
    }

    func testBlockCountOfAnExactMultipleEndsWithAnEmptyBlock() throws {
        let rig = try bootedRig()
        rig.peer.files["e"] = patternFile(1024)
        rig.peer.maxBlockSize = 512
        XCTAssertEqual(try fetch(rig, "e", TFTPTransferOptions(blockSize: 512)).count, 1024)
        XCTAssertEqual(rig.peer.acks, [0, 1, 2, 3])
    }

    func testOffLinkServerIsReachedThroughTheRouter() throws {
        let rig = try bootedRig()
        rig.peer.files["far"] = patternFile(10)
        var out: [UInt8] = []
        try rig.baseCode.tftp.readFile(server: IPv4Address(192, 168, 7, 7), file: "far") { (_, b) throws(PXEStatus) in out += b }
        XCTAssertEqual(out, patternFile(10))
        XCTAssertEqual(rig.baseCode.ip.arpCache.lookup(rig.peer.router.ip), rig.peer.router.mac)
    }

    func testOACKWithALargerBlockSizeThanAskedIsRefusedWithError8() throws {
        // RFC 2348: the server may only lower blksize; the client answers
        // anything else with ERROR 8 and gives up on the transfer.
        let rig = try bootedRig()
        rig.peer.files["f"] = patternFile(100)
        rig.peer.oackBlockSizeOverride = 4096
        XCTAssertThrowsError(try fetch(rig, "f", TFTPTransferOptions(blockSize: 1024))) {
            XCTAssertEqual(($0 as? TFTPClientError)?.status, .tftpCannotOpenConnection)
        }
        XCTAssertEqual(rig.peer.errorsFromClient.first?.0, 8)
    }

    func testBlockNumbersRollOverPast65535() throws {
        // RFC 1350 leaves wrap-around open; servers count 65535 -> 0 and so do we.
        let rig = try bootedRig()
        let file = patternFile(8 * 65_600 + 3)
        rig.peer.files["wrap"] = file
        rig.peer.maxBlockSize = 8
        let got = try fetch(rig, "wrap", TFTPTransferOptions(blockSize: 8, windowSize: 64))
        XCTAssertEqual(got.count, file.count)
        XCTAssertEqual(got, file)
    }
}
