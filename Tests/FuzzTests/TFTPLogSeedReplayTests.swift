import NICCore
import Wire
import XCTest

@testable import NICSimFuzz

/// The tftp-log seeds reach what they are named after: the log records
/// the files whole (size and SHA-256), the error, the probe, the
/// retransmissions, the rollover and the kernel, so the fuzzer starts
/// from transfers the log actually follows.
final class TFTPLogSeedReplayTests: XCTestCase {
    private func replay(_ seed: [UInt8]) -> TFTPLogFuzz.Summary {
        seed.withUnsafeBytes { raw in
            var input = FuzzInput(raw)
            return TFTPLogFuzz.run(&input)
        }
    }

    private func digest(_ bytes: [UInt8]) -> String {
        var hash = SHA256()
        hash.update(bytes)
        return hash.finalize()
    }

    func testBootWithOptionsCompletesTheFile() {
        let run = replay(TFTPLogSeeds.bootWithOptions())
        XCTAssertEqual(run.records.entries.map(\.file), ["pxelinux.0"])
        XCTAssertEqual(run.records.entries.first?.size, 3000)
        XCTAssertEqual(run.records.entries.first?.sha256, digest(TFTPLogSeeds.file(3000, 7)))
        XCTAssertEqual(run.clientRetransmissions, 0)
    }

    func testTsizeProbeIsCountedAndTheFetchListed() {
        let run = replay(TFTPLogSeeds.probeThenFetch())
        XCTAssertEqual(run.records.probes, 1)
        XCTAssertEqual(run.records.entries.map(\.clientPort), [2071])
        XCTAssertEqual(run.records.entries.first?.sha256, digest(TFTPLogSeeds.file(1500, 3)))
    }

    func testMissingFileIsAServerErrorThenDefaultArrives() {
        let run = replay(TFTPLogSeeds.fileNotFound())
        XCTAssertEqual(run.records.entries.map(\.file), ["pxelinux.cfg/01-52-54-00-12-34-56", "pxelinux.cfg/default"])
        XCTAssertEqual(run.records.entries.first?.errorCode, 1)
        XCTAssertEqual(run.records.entries.last?.isCompleted, true)
    }

    /// RRQ again from a new port and ACK 1 twice: two retransmissions; the
    /// duplicate DATA 1 and the stray TID's block change nothing.
    func testRetransmissionsAreCountedAndDuplicatesIgnored() {
        let run = replay(TFTPLogSeeds.retransmissions())
        XCTAssertEqual(run.clientRetransmissions, 2)
        XCTAssertEqual(run.records.entries.map(\.file), ["boot.img", "second.img", "third.img"])
        XCTAssertEqual(run.records.entries.map(\.size), [1100, 512, 0])
        XCTAssertEqual(run.records.entries.first?.sha256, digest(TFTPLogSeeds.file(1100, 11)))
        XCTAssertEqual(run.records.entries.dropFirst().map(\.outcome), [.unfinished, .unfinished])
    }

    /// 65535 blocks of 8, then blocks 1, 2 and a 4-byte 3 after the rollover to 1.
    func testRolloverToOneCompletesTheFile() {
        let run = replay(TFTPLogSeeds.rollover())
        XCTAssertEqual(run.records.entries.count, 1)
        XCTAssertEqual(run.records.entries.first?.size, 65535 * 8 + 8 + 8 + 4)
        XCTAssertEqual(run.records.entries.first?.isCompleted, true)
    }

    /// "HdrS" split across blocks 1 and 2; the other station's request is filtered out.
    func testKernelAcrossBlocksIsMarked() {
        let run = replay(TFTPLogSeeds.linuxKernel())
        XCTAssertEqual(run.records.entries.count, 1)
        XCTAssertEqual(run.records.entries.first?.linuxKernel, true)
        XCTAssertEqual(run.records.entries.first?.size, 1200)
        XCTAssertEqual(run.records.entries.first?.client, TFTPLogFuzz.clientMACs[0])
    }
}
