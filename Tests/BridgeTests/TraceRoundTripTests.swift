import Bridge
import Foundation
import NICCore
import XCTest

final class TraceRoundTripTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = try ExternalTool.temporaryDirectory()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Microsecond pcap keeps timestamps to the microsecond.
    private func truncatedToMicroseconds(_ packets: [ReadPacket]) -> [ReadPacket] {
        packets.map { var p = $0; p.timestamp -= p.timestamp % 1_000; return p }
    }

    // pcap-savefile(5): magic 0xa1b2c3d4, microsecond timestamps, in the writer's byte order.
    func testPcapMicrosecondLittleEndianRoundTrip() throws {
        let packets = TraceFixtures.packets(count: 50)
        try TraceFixtures.writePcap(packets, to: dir + "/a.pcap", precision: .microsecond, byteOrder: .littleEndian)
        let r = try PcapReader(path: dir + "/a.pcap")
        XCTAssertEqual(r.byteOrder, .littleEndian)
        XCTAssertEqual(r.precision, .microsecond)
        XCTAssertEqual(r.linkType, 1)
        XCTAssertEqual(try TraceFixtures.readAll(r), truncatedToMicroseconds(packets))
    }

    // Magic 0xa1b23c4d: nanosecond timestamps; written big-endian the magic reads swapped.
    func testPcapNanosecondBigEndianRoundTrip() throws {
        let packets = TraceFixtures.packets(count: 50, seed: 2)
        try TraceFixtures.writePcap(packets, to: dir + "/b.pcap", precision: .nanosecond, byteOrder: .bigEndian)
        let r = try PcapReader(path: dir + "/b.pcap")
        XCTAssertEqual(r.byteOrder, .bigEndian)
        XCTAssertEqual(r.precision, .nanosecond)
        XCTAssertEqual(try TraceFixtures.readAll(r), packets)
    }

    // The snapshot length cuts what is stored; orig_len keeps the wire length.
    func testPcapSnapLengthCutsCapturedBytes() throws {
        let w = try PcapWriter(path: dir + "/s.pcap", snapLength: 64)
        try [UInt8](repeating: 0xAB, count: 200).withUnsafeBytes { try w.write($0, timestamp: 0) }
        try w.close()
        let p = try XCTUnwrap(try PcapReader(path: dir + "/s.pcap").next())
        XCTAssertEqual(p.bytes.count, 64)
        XCTAssertEqual(p.originalLength, 200)
    }

    // pcap-linktype(7): bit 26 of the link-type field says frames carry an
    // FCS, bits 28-31 its length in 16-bit words; the low 16 bits are the type.
    func testPcapLinkTypeFCSBitsAreDecoded() throws {
        let w = try PcapWriter(path: dir + "/fcs.pcap", linkType: 0x2400_0001)
        try w.close()
        let r = try PcapReader(path: dir + "/fcs.pcap")
        XCTAssertEqual(r.linkType, 1)
        XCTAssertEqual(r.fcsLength, 4)
    }

    // A packet for an interface the file never described is refused before anything is written.
    func testPcapNGWriterRefusesAnUndescribedInterface() throws {
        let w = try PcapNGWriter(path: dir + "/u.pcapng")
        XCTAssertThrowsError(try [UInt8](repeating: 0, count: 60).withUnsafeBytes { try w.write($0, interface: 1, timestamp: 0) })
        try w.close()
        XCTAssertEqual(try TraceFixtures.readAll(PcapNGReader(path: dir + "/u.pcapng")).count, 0)
    }

    // pcapng: several interfaces, ns resolution, direction in epb_flags bits 0-1.
    func testPcapNGRoundTripKeepsInterfacesAndDirections() throws {
        let packets = TraceFixtures.packets(count: 60, seed: 3, interfaces: 3, directions: true)
        try TraceFixtures.writePcapNG(packets, to: dir + "/c.pcapng", interfaces: 3)
        let r = try PcapNGReader(path: dir + "/c.pcapng")
        XCTAssertEqual(try TraceFixtures.readAll(r), packets)
        XCTAssertEqual(r.interfaces.map(\.name), ["nic0", "nic1", "nic2"])
        XCTAssertEqual(r.interfaces.map(\.timestampResolution), [9, 9, 9])
    }

    // A section's byte order comes from its byte-order magic 0x1A2B3C4D.
    func testPcapNGBigEndianSectionReads() throws {
        let packets = TraceFixtures.packets(count: 20, seed: 4, interfaces: 2, directions: true)
        try TraceFixtures.writePcapNG(packets, to: dir + "/d.pcapng", interfaces: 2, byteOrder: .bigEndian)
        let r = try PcapNGReader(path: dir + "/d.pcapng")
        XCTAssertEqual(try TraceFixtures.readAll(r), packets)
        XCTAssertEqual(r.byteOrder, .bigEndian)
    }

    // A file may hold several sections, each with its own order and interfaces.
    func testPcapNGConcatenatedSectionsReadInOrder() throws {
        let first = TraceFixtures.packets(count: 5, seed: 5, interfaces: 2)
        let second = TraceFixtures.packets(count: 5, seed: 6)
        try TraceFixtures.writePcapNG(first, to: dir + "/1.pcapng", interfaces: 2)
        try TraceFixtures.writePcapNG(second, to: dir + "/2.pcapng", byteOrder: .bigEndian)
        var joined = try Data(contentsOf: URL(fileURLWithPath: dir + "/1.pcapng"))
        joined += try Data(contentsOf: URL(fileURLWithPath: dir + "/2.pcapng"))
        try joined.write(to: URL(fileURLWithPath: dir + "/j.pcapng"))
        let r = try PcapNGReader(path: dir + "/j.pcapng")
        XCTAssertEqual(try TraceFixtures.readAll(r), first + second)
        XCTAssertEqual(r.sectionCount, 2)
        XCTAssertEqual(r.interfaces.count, 1)
    }

    // SPB: original length only; the captured length is implied by the block.
    func testPcapNGSimplePacketBlocks() throws {
        let w = try PcapNGWriter(path: dir + "/e.pcapng")
        let frames: [[UInt8]] = [Array(repeating: 1, count: 60), Array(repeating: 2, count: 61), Array(repeating: 3, count: 1514)]
        for f in frames { try f.withUnsafeBytes { try w.writeSimple($0) } }
        try w.close()
        let read = try TraceFixtures.readAll(PcapNGReader(path: dir + "/e.pcapng"))
        XCTAssertEqual(read.map(\.bytes), frames)
    }

    // if_tsresol: bit 7 clear means 10^-n units, set means 2^-n; if_tsoffset adds seconds.
    func testPcapNGTimestampResolutionsAndOffset() throws {
        var b = PcapNGBuilder()
        b.sectionHeader()
        b.interface(options: [(9, [6])])                         // microseconds
        b.interface(options: [(9, [0x80 | 10])])                 // 1/1024 s
        b.interface(options: [(9, [3]), (14, b.u64(100))])       // milliseconds, +100 s
        b.enhancedPacket(interface: 0, timestamp: 1_500_000, data: [1])
        b.enhancedPacket(interface: 1, timestamp: 3 * 1024 + 512, data: [2])
        b.enhancedPacket(interface: 2, timestamp: 2_250, data: [3])
        try b.write(to: dir + "/t.pcapng")
        let read = try TraceFixtures.readAll(PcapNGReader(path: dir + "/t.pcapng"))
        XCTAssertEqual(read.map(\.timestamp), [1_500_000_000, 3_500_000_000, 102_250_000_000])
    }

    // The obsolete Packet Block (type 2) still carries packets; pack_flags holds the direction.
    func testPcapNGObsoletePacketBlockReads() throws {
        var b = PcapNGBuilder()
        b.sectionHeader()
        b.interface(options: [])
        b.obsoletePacket(data: [9, 8, 7], flags: 2)
        try b.write(to: dir + "/p.pcapng")
        let p = try XCTUnwrap(try TraceFixtures.readAll(PcapNGReader(path: dir + "/p.pcapng")).first)
        XCTAssertEqual(p.bytes, [9, 8, 7])
        XCTAssertEqual(p.direction, .outbound)
    }

    // Name resolution, statistics and unknown blocks are stepped over.
    func testPcapNGSkipsBlocksItDoesNotUse() throws {
        var b = PcapNGBuilder()
        b.sectionHeader()
        b.interface(options: [])
        b.block(type: 4, body: [UInt8](repeating: 0, count: 8))       // NRB
        b.enhancedPacket(interface: 0, timestamp: 1, data: [1, 2])
        b.block(type: 5, body: [UInt8](repeating: 0, count: 12))      // ISB
        b.block(type: 0x4000_0BAD, body: [1, 2, 3, 4])                 // custom
        try b.write(to: dir + "/k.pcapng")
        XCTAssertEqual(try TraceFixtures.readAll(PcapNGReader(path: dir + "/k.pcapng")).map(\.bytes), [[1, 2]])
    }

    // openTraceFile picks the reader from the first four bytes.
    func testOpenTraceFileDetectsTheFormat() throws {
        let packets = TraceFixtures.packets(count: 3)
        try TraceFixtures.writePcapNG(packets, to: dir + "/x.pcapng")
        try TraceFixtures.writePcap(packets, to: dir + "/x.pcap", precision: .nanosecond)
        XCTAssertTrue(try openTraceFile(dir + "/x.pcapng") is PcapNGReader)
        XCTAssertTrue(try openTraceFile(dir + "/x.pcap") is PcapReader)
        XCTAssertEqual(try TraceFixtures.readAll(openTraceFile(dir + "/x.pcapng")), packets)
    }

    // Readers stream: a file far larger than the reader's buffer reads whole.
    func testReaderStreamsFilesLargerThanItsBuffer() throws {
        let w = try PcapNGWriter(path: dir + "/big.pcapng")
        let frame = [UInt8](repeating: 0x5A, count: 1514)
        for i in 0..<3000 { try frame.withUnsafeBytes { try w.write($0, timestamp: UInt64(i)) } }
        try w.close()
        let r = try PcapNGReader(path: dir + "/big.pcapng")
        var n = 0
        while let p = try r.next() {
            XCTAssertEqual(p.timestamp, UInt64(n))
            n += 1
        }
        XCTAssertEqual(n, 3000)
    }

    // Readers take a pipe as well as a file (reading with read(2), never seeking).
    func testReaderReadsFromAPipe() throws {
        let packets = TraceFixtures.packets(count: 200, seed: 21, directions: true)
        try TraceFixtures.writePcapNG(packets, to: dir + "/pipe.pcapng")
        let cat = try ExternalTool.start("cat", [dir + "/pipe.pcapng"])
        let fd = cat.stdout.fileHandleForReading.fileDescriptor
        XCTAssertEqual(try TraceFixtures.readAll(PcapNGReader(fileDescriptor: fd)), packets)
        cat.process.waitUntilExit()
    }

    // A switch capture: one interface per port, in and out per frame, virtual time stamps.
    func testSwitchCaptureRecordsInboundAndOutboundPerPort() throws {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock, seed: 1)
        let a = TestStation(1), b = TestStation(2)
        sw.connect(device: a.port)
        sw.connect(device: b.port)
        let capture = try SwitchCapture(path: dir + "/sw.pcapng", switch: sw)
        clock.advance(by: 5_000)
        a.send(to: b.mac, tag: 1)
        try capture.close()
        let r = try PcapNGReader(path: dir + "/sw.pcapng")
        let read = try TraceFixtures.readAll(r)
        XCTAssertEqual(read.map(\.interface), [0, 1])
        XCTAssertEqual(read.map(\.direction), [.inbound, .outbound])
        XCTAssertEqual(read.map(\.timestamp), [5_000, 5_000])
        XCTAssertEqual(read.first?.bytes, TestStation.frame(from: a.mac, to: b.mac, tag: 1))
        XCTAssertEqual(r.interfaces.map(\.name), ["port 0", "port 1"])
    }
}

/// Builds pcapng files block by block (little-endian) for tests that need
/// blocks our writer never makes, or broken ones.
struct PcapNGBuilder {
    var bytes: [UInt8] = []

    func u16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    func u32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
    func u64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
    func padded(_ b: [UInt8]) -> [UInt8] { b + [UInt8](repeating: 0, count: (4 - b.count % 4) % 4) }

    func options(_ list: [(UInt16, [UInt8])]) -> [UInt8] {
        guard !list.isEmpty else { return [] }
        return list.flatMap { u16($0.0) + u16(UInt16($0.1.count)) + padded($0.1) } + [0, 0, 0, 0]
    }

    mutating func block(type: UInt32, body: [UInt8], length: UInt32? = nil, trailer: UInt32? = nil) {
        let total = UInt32(12 + body.count)
        bytes += u32(type) + u32(length ?? total) + body + u32(trailer ?? length ?? total)
    }

    mutating func sectionHeader() {
        block(type: 0x0A0D_0D0A, body: u32(0x1A2B_3C4D) + u16(1) + u16(0) + u64(.max))
    }

    mutating func interface(options list: [(UInt16, [UInt8])], snapLength: UInt32 = 0) {
        block(type: 1, body: u16(1) + u16(0) + u32(snapLength) + options(list))
    }

    mutating func enhancedPacket(interface: UInt32, timestamp: UInt64, data: [UInt8], caplen: UInt32? = nil, options list: [(UInt16, [UInt8])] = []) {
        block(type: 6, body: u32(interface) + u32(UInt32(timestamp >> 32)) + u32(UInt32(truncatingIfNeeded: timestamp))
            + u32(caplen ?? UInt32(data.count)) + u32(UInt32(data.count)) + padded(data) + options(list))
    }

    mutating func obsoletePacket(data: [UInt8], flags: UInt32) {
        block(type: 2, body: u16(0) + u16(0) + u32(0) + u32(0) + u32(UInt32(data.count)) + u32(UInt32(data.count))
            + padded(data) + options([(2, u32(flags))]))
    }

    func write(to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}
