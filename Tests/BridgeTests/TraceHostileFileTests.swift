import Bridge
import Foundation
import NICCore
import XCTest

/// Broken and hostile trace files: each gets a clear error naming the byte
/// offset, never a crash, never an allocation sized by the file.
final class TraceHostileFileTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = try ExternalTool.temporaryDirectory()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func file(_ bytes: [UInt8], _ name: String = "f") throws -> String {
        let path = dir + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Reads to the end and returns the error, failing if there is none.
    private func readError(_ open: () throws -> any TraceFileReader) -> TraceFileError? {
        do {
            let r = try open()
            var n = 0
            while try r.next() != nil { n += 1 }
            XCTFail("read \(n) packets without an error")
        } catch let e as TraceFileError {
            return e
        } catch {
            XCTFail("unexpected error type \(error)")
        }
        return nil
    }

    private var b: PcapNGBuilder { PcapNGBuilder() }

    private func pcapHeader(magic: UInt32 = 0xA1B2_C3D4, major: UInt16 = 2) -> [UInt8] {
        b.u32(magic) + b.u16(major) + b.u16(4) + b.u32(0) + b.u32(0) + b.u32(65535) + b.u32(1)
    }

    private func pcapRecord(caplen: UInt32, data: [UInt8]) -> [UInt8] {
        b.u32(1) + b.u32(2) + b.u32(caplen) + b.u32(caplen) + data
    }

    // MARK: pcap

    func testEmptyPcapFileIsTruncatedAtByteZero() throws {
        let path = try file([])
        let e = readError { try PcapReader(path: path) }
        XCTAssertEqual(e?.offset, 0)
        XCTAssertEqual(e.map { "\($0)" }, "byte 0: file ends inside the pcap file header")
    }

    func testWrongPcapMagicNamesByteZero() throws {
        let path = try file(pcapHeader(magic: 0xDEAD_BEEF))
        let e = readError { try PcapReader(path: path) }
        XCTAssertEqual(e, .malformed(offset: 0, reason: "not a pcap file: magic 0xefbeadde"))
    }

    func testPcapNGFileGivenToPcapReaderSaysSo() throws {
        var ng = PcapNGBuilder()
        ng.sectionHeader()
        let path = try file(ng.bytes)
        let e = readError { try PcapReader(path: path) }
        XCTAssertTrue(e.map { "\($0)".contains("this is a pcapng file") } ?? false)
    }

    func testUnsupportedPcapVersionNamesItsOffset() throws {
        let path = try file(pcapHeader(major: 3))
        XCTAssertEqual(readError { try PcapReader(path: path) }?.offset, 4)
    }

    func testTruncatedRecordHeaderNamesWhereItStarts() throws {
        let path = try file(pcapHeader() + pcapRecord(caplen: 4, data: [1, 2, 3, 4]) + [1, 2, 3])
        let e = readError { try PcapReader(path: path) }
        XCTAssertEqual(e, .truncated(offset: 44, reason: "a record header"))
    }

    func testTruncatedRecordDataNamesTheRecord() throws {
        let path = try file(pcapHeader() + pcapRecord(caplen: 100, data: [1, 2, 3]))
        let e = readError { try PcapReader(path: path) }
        XCTAssertEqual(e?.offset, 40)
    }

    // A caplen beyond libpcap's 262144-byte maximum is corrupt: refused before any read of that size.
    func testHugeCapturedLengthIsRefused() throws {
        let path = try file(pcapHeader() + pcapRecord(caplen: 0xFFFF_FFF0, data: []))
        let e = readError { try PcapReader(path: path) }
        XCTAssertEqual(e?.offset, 32)
        XCTAssertTrue(e.map { "\($0)".contains("4294967280") } ?? false)
    }

    // A zero-length record is legal (libpcap reads it): an empty packet, then the next.
    func testZeroLengthPcapRecordIsAnEmptyPacket() throws {
        let path = try file(pcapHeader() + pcapRecord(caplen: 0, data: []) + pcapRecord(caplen: 1, data: [7]))
        let r = try PcapReader(path: path)
        XCTAssertEqual(try r.next()?.bytes.count, 0)
        XCTAssertEqual(try r.next().map { Array($0.bytes) }, [7])
        XCTAssertNil(try r.next())
    }

    // MARK: pcapng

    func testWrongPcapNGMagicNamesByteZero() throws {
        let path = try file(pcapHeader())
        XCTAssertEqual(readError { try PcapNGReader(path: path) }?.offset, 0)
    }

    func testBadByteOrderMagicNamesItsOffset() throws {
        var ng = PcapNGBuilder()
        ng.block(type: 0x0A0D_0D0A, body: ng.u32(0x1234_5678) + ng.u16(1) + ng.u16(0) + ng.u64(.max))
        let path = try file(ng.bytes)
        XCTAssertEqual(readError { try PcapNGReader(path: path) }?.offset, 8)
    }

    func testZeroBlockTotalLengthIsRefused() throws {
        var ng = PcapNGBuilder()
        ng.sectionHeader()
        ng.bytes += ng.u32(6) + ng.u32(0) + [UInt8](repeating: 0, count: 8)
        let path = try file(ng.bytes)
        let e = readError { try PcapNGReader(path: path) }
        XCTAssertEqual(e, .malformed(offset: 32, reason: "block total length 0 is smaller than the 12-byte minimum"))
    }

    func testUnalignedBlockTotalLengthIsRefused() throws {
        var ng = PcapNGBuilder()
        ng.sectionHeader()
        ng.interface(options: [])
        ng.block(type: 6, body: [UInt8](repeating: 0, count: 24), length: 37)
        let path = try file(ng.bytes)
        XCTAssertEqual(readError { try PcapNGReader(path: path) }?.offset, 28 + 20 + 4)
    }

    func testTrailingLengthMismatchNamesTheTrailer() throws {
        var ng = PcapNGBuilder()
        ng.sectionHeader()
        ng.interface(options: [], snapLength: 0)
        ng.block(type: 6, body: [UInt8](repeating: 0, count: 24), trailer: 40)
        let path = try file(ng.bytes)
        let e = readError { try PcapNGReader(path: path) }
        XCTAssertEqual(e?.offset, 48 + 36 - 4)
        XCTAssertTrue(e.map { "\($0)".contains("trailing block total length 40") } ?? false)
    }

    // A packet block claiming gigabytes is refused from its header: nothing that size is read or allocated.
    func testHugePacketBlockLengthIsRefused() throws {
        var ng = PcapNGBuilder()
        ng.sectionHeader()
        ng.interface(options: [])
        ng.bytes += ng.u32(6) + ng.u32(0xFFFF_FFF0) + [UInt8](repeating: 0, count: 64)
        let path = try file(ng.bytes)
        let e = readError { try PcapNGReader(path: path) }
        XCTAssertEqual(e?.offset, 48 + 4)
    }

    // An over-large block we don't need is skipped without being held; if the file ends first, that is truncation.
    func testHugeUnknownBlockIsSkippedUntilTheFileEnds() throws {
        var ng = PcapNGBuilder()
        ng.sectionHeader()
        ng.bytes += ng.u32(0x0BAD) + ng.u32(0x7FFF_FFF0) + [UInt8](repeating: 0, count: 100)
        let path = try file(ng.bytes)
        XCTAssertEqual(readError { try PcapNGReader(path: path) }, .truncated(offset: 28, reason: "a block of 2147483632 bytes starting at byte 28"))
    }

    func testCapturedLengthPastItsBlockIsRefused() throws {
        var ng = PcapNGBuilder()
        ng.sectionHeader()
        ng.interface(options: [])
        ng.enhancedPacket(interface: 0, timestamp: 0, data: [1, 2, 3, 4], caplen: 5000)
        let path = try file(ng.bytes)
        let e = readError { try PcapNGReader(path: path) }
        XCTAssertEqual(e?.offset, 48 + 20)
    }

    func testPacketForUndescribedInterfaceIsRefused() throws {
        var ng = PcapNGBuilder()
        ng.sectionHeader()
        ng.interface(options: [])
        ng.enhancedPacket(interface: 3, timestamp: 0, data: [1])
        let path = try file(ng.bytes)
        let e = readError { try PcapNGReader(path: path) }
        XCTAssertEqual(e?.offset, 48 + 8)
    }

    func testBlockBeforeSectionHeaderIsRefused() throws {
        var ng = PcapNGBuilder()
        ng.sectionHeader()
        let shb = ng.bytes
        ng.bytes = []
        ng.interface(options: [])
        let path = try file(ng.bytes + shb)
        XCTAssertEqual(readError { try PcapNGReader(path: path) }?.offset, 0)
    }

    func testOptionRunningPastItsBlockIsRefused() throws {
        var ng = PcapNGBuilder()
        ng.sectionHeader()
        ng.block(type: 1, body: ng.u16(1) + ng.u16(0) + ng.u32(0) + ng.u16(2) + ng.u16(200) + [0x41, 0x42, 0x43, 0x44])
        let path = try file(ng.bytes)
        let e = readError { try PcapNGReader(path: path) }
        XCTAssertEqual(e?.offset, 28 + 16 + 2)
    }

    func testFileEndingInsideABlockIsTruncated() throws {
        var ng = PcapNGBuilder()
        ng.sectionHeader()
        ng.interface(options: [])
        ng.enhancedPacket(interface: 0, timestamp: 0, data: [UInt8](repeating: 1, count: 100))
        let path = try file(Array(ng.bytes.dropLast(10)))
        XCTAssertEqual(readError { try PcapNGReader(path: path) }, .truncated(offset: 48, reason: "a block of 132 bytes starting at byte 48"))
    }

    // Thousands of random corruptions of valid files: every read ends in
    // packets or a TraceFileError, never a trap or a hang.
    func testRandomlyCorruptedFilesNeverCrash() throws {
        let packets = TraceFixtures.packets(count: 12, seed: 9, interfaces: 2, directions: true)
        try TraceFixtures.writePcapNG(packets, to: dir + "/ok.pcapng", interfaces: 2)
        try TraceFixtures.writePcap(packets, to: dir + "/ok.pcap", precision: .nanosecond)
        var rng = SeededRandom(seed: 77)
        var errors = 0
        for name in ["ok.pcapng", "ok.pcap"] {
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)))
            for _ in 0..<400 {
                var bytes = original
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    let i = Int(rng.next() % UInt64(min(bytes.count, 200 + Int(rng.next() % UInt64(bytes.count)))))
                    bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                }
                if rng.next() % 4 == 0 { bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count)))) }
                let path = try file(bytes, "fuzz")
                do {
                    let r = try openTraceFile(path)
                    var n = 0
                    while n < 1000, try r.next() != nil { n += 1 }
                    XCTAssertLessThan(n, 1000)
                } catch {
                    errors += 1
                }
            }
        }
        XCTAssertGreaterThan(errors, 100)
    }
}
