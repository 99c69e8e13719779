import Bridge
import Foundation
import NICCore
import XCTest

/// Our files read by libpcap, tcpdump and tshark; their files read by us.
final class TraceCrossCheckTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = try ExternalTool.temporaryDirectory()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// What libpcap reports: no interface, no direction.
    private func asLibpcapSeesIt(_ packets: [ReadPacket]) -> [ReadPacket] {
        packets.map { var p = $0; p.interface = 0; p.direction = nil; return p }
    }

    /// tshark's view of a file: one line per frame.
    private func tsharkFields(_ path: String) throws -> [[String]] {
        let out = try ExternalTool.run("tshark", [
            "-n", "-r", path, "-o", "frame.generate_md5_hash:TRUE", "-T", "fields", "-E", "separator=|",
            "-e", "frame.len", "-e", "frame.cap_len", "-e", "frame.interface_id",
            "-e", "frame.packet_flags_direction", "-e", "frame.md5_hash", "-e", "frame.time_epoch",
        ]).out
        return out.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
    }

    private func epoch(_ ns: UInt64) -> String {
        "\(ns / 1_000_000_000)." + String(format: "%09llu", ns % 1_000_000_000)
    }

    // Files we write, read by libpcap: identical counts, bytes, lengths and timestamps.
    func testLibpcapReadsOurPcapNGIdentically() throws {
        let packets = TraceFixtures.packets(count: 80, seed: 11, interfaces: 2, directions: true)
        try TraceFixtures.writePcapNG(packets, to: dir + "/a.pcapng", interfaces: 2)
        XCTAssertEqual(try TraceFixtures.readAll(LibpcapFileReader(path: dir + "/a.pcapng")), asLibpcapSeesIt(packets))
    }

    func testLibpcapReadsOurPcapInBothOrdersAndPrecisions() throws {
        let packets = TraceFixtures.packets(count: 40, seed: 12)
        for (precision, order) in [(PcapTimestampPrecision.microsecond, ByteOrder.bigEndian), (.nanosecond, .littleEndian), (.nanosecond, .bigEndian)] {
            try TraceFixtures.writePcap(packets, to: dir + "/b.pcap", precision: precision, byteOrder: order)
            let ours = try TraceFixtures.readAll(PcapReader(path: dir + "/b.pcap"))
            XCTAssertEqual(try TraceFixtures.readAll(LibpcapFileReader(path: dir + "/b.pcap")), ours, "\(precision) \(order)")
        }
    }

    // tshark sees every frame of our pcapng with the same length, bytes (MD5),
    // interface, direction (epb_flags: 1 in, 2 out) and nanosecond timestamp.
    func testTsharkReadsOurPcapNGIdentically() throws {
        let packets = TraceFixtures.packets(count: 30, seed: 13, interfaces: 3, directions: true)
        try TraceFixtures.writePcapNG(packets, to: dir + "/c.pcapng", interfaces: 3)
        let rows = try tsharkFields(dir + "/c.pcapng")
        XCTAssertEqual(rows.count, packets.count)
        for (row, p) in zip(rows, packets) {
            XCTAssertEqual(row[0], "\(p.bytes.count)")
            XCTAssertEqual(row[1], "\(p.bytes.count)")
            XCTAssertEqual(row[2], "\(p.interface)")
            XCTAssertEqual(row[3], p.direction == .inbound ? "0x00000001" : p.direction == .outbound ? "0x00000002" : "")
            XCTAssertEqual(row[4], MD5.hex(p.bytes))
            XCTAssertEqual(row[5], epoch(p.timestamp))
        }
    }

    // Big-endian sections and classic pcap too.
    func testTsharkReadsOurBigEndianFilesIdentically() throws {
        let packets = TraceFixtures.packets(count: 20, seed: 14)
        try TraceFixtures.writePcapNG(packets, to: dir + "/d.pcapng", byteOrder: .bigEndian)
        try TraceFixtures.writePcap(packets, to: dir + "/d.pcap", precision: .nanosecond, byteOrder: .bigEndian)
        for name in ["d.pcapng", "d.pcap"] {
            let rows = try tsharkFields(dir + "/" + name)
            XCTAssertEqual(rows.map { $0[4] }, packets.map { MD5.hex($0.bytes) }, name)
            XCTAssertEqual(rows.map { $0[5] }, packets.map { epoch($0.timestamp) }, name)
        }
    }

    // tcpdump -r counts the same frames; its rewrite of our file reads back to the same packets.
    func testTcpdumpReadsOurPcapNGIdentically() throws {
        let packets = TraceFixtures.packets(count: 25, seed: 15, directions: true)
        try TraceFixtures.writePcapNG(packets, to: dir + "/e.pcapng")
        // -# numbers each packet's first line ("    1  00:00:00..."); unknown
        // payloads continue on tab-indented hex lines.
        let listing = try ExternalTool.run("tcpdump", ["-#", "-n", "-r", dir + "/e.pcapng"]).out
        let firstLines = listing.split(separator: "\n").filter { $0.first == " " && $0.contains(":") && !$0.hasPrefix("\t") }
        XCTAssertEqual(firstLines.count, packets.count)
        XCTAssertTrue(firstLines.last?.hasPrefix("   \(packets.count)  ") ?? false)
        try ExternalTool.run("tcpdump", ["-r", dir + "/e.pcapng", "--time-stamp-precision=nano", "-w", dir + "/e2.pcap"])
        XCTAssertEqual(try TraceFixtures.readAll(PcapReader(path: dir + "/e2.pcap")), asLibpcapSeesIt(packets))
    }

    /// Sends UDP datagrams to a closed port on the namespace's loopback with
    /// bash's /dev/udp (some draw an ICMP port unreachable, rate-limited by
    /// the kernel) until `capture` has its packets and exits.
    private func sendUDP(in ns: TestNamespace, until capture: ExternalTool.Running) throws {
        let deadline = Date().addingTimeInterval(20)
        var i = 0
        while capture.process.isRunning, Date() < deadline {
            try ns.exec("bash", "-c", "echo nicsim-\(i) > /dev/udp/127.0.0.1/9")
            i += 1
            usleep(50_000)
        }
    }

    // A live capture by dumpcap (pcapng with its own SHB/IDB options, and an
    // ISB at the end), in a namespace of ours, reads identically through our
    // reader, libpcap and tshark.
    func testDumpcapCaptureReadsIdentically() throws {
        let ns = try TestNamespace("dumpcap")
        defer { ns.remove() }
        let path = dir + "/dumpcap.pcapng"
        let capture = try ns.start(["dumpcap", "-i", "lo", "-c", "8", "-w", path])
        XCTAssertTrue(capture.waitForStderr(containing: "Capturing on"))
        try sendUDP(in: ns, until: capture)
        capture.finish()
        let ours = try TraceFixtures.readAll(PcapNGReader(path: path))
        XCTAssertEqual(ours.count, 8)
        XCTAssertEqual(asLibpcapSeesIt(ours), try TraceFixtures.readAll(LibpcapFileReader(path: path)))
        XCTAssertEqual(try tsharkFields(path).map { $0[4] }, ours.map { MD5.hex($0.bytes) })
        XCTAssertEqual(try tsharkFields(path).map { $0[5] }, ours.map { epoch($0.timestamp) })
    }

    // A live capture by tcpdump (classic pcap, microsecond and nanosecond) reads identically.
    func testTcpdumpCaptureReadsIdentically() throws {
        let ns = try TestNamespace("tcpdump")
        defer { ns.remove() }
        for precision in ["micro", "nano"] {
            let path = dir + "/tcpdump-\(precision).pcap"
            let capture = try ns.start(["tcpdump", "-i", "lo", "-c", "6", "-U", "--time-stamp-precision=\(precision)", "-w", path])
            XCTAssertTrue(capture.waitForStderr(containing: "listening on"))
            try sendUDP(in: ns, until: capture)
            capture.finish()
            let r = try PcapReader(path: path)
            XCTAssertEqual(r.precision, precision == "nano" ? .nanosecond : .microsecond)
            let ours = try TraceFixtures.readAll(r)
            XCTAssertEqual(ours.count, 6)
            XCTAssertEqual(ours, try TraceFixtures.readAll(LibpcapFileReader(path: path)))
        }
    }

    // A capture of a switch with corruption on: tshark sees exactly the
    // dropped frames flagged as CRC errors (epb_flags bit 24), outbound on
    // the faulty port, and every delivered frame without the flag.
    func testSwitchCaptureFlagsCorruptedFramesAsCRCErrors() throws {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock, seed: 8)
        let a = TestStation(1), b = TestStation(2)
        sw.connect(device: a.port)
        let pb = sw.connect(device: b.port, faults: FaultProfile(corruptionRate: 0.3))
        let capture = try SwitchCapture(path: dir + "/crc.pcapng", switch: sw)
        for i in 0..<50 { a.send(to: b.mac, tag: UInt16(i)) }
        try capture.close()
        let flagged = try ExternalTool.run("tshark", ["-n", "-r", dir + "/crc.pcapng", "-Y", "frame.packet_flags_crc_error == 1",
                                                       "-T", "fields", "-e", "frame.interface_id", "-e", "frame.packet_flags_direction"]).out
        let rows = flagged.split(separator: "\n")
        XCTAssertGreaterThan(pb.counters.fcsErrors, 5)
        XCTAssertEqual(rows.count, pb.counters.fcsErrors)
        XCTAssertTrue(rows.allSatisfy { $0 == "1\t0x00000002" }, rows.first.map(String.init) ?? "")
        let total = try ExternalTool.run("tshark", ["-n", "-r", dir + "/crc.pcapng"]).out.split(separator: "\n").count
        XCTAssertEqual(total, 50 + b.received.count + pb.counters.fcsErrors)
    }
}
