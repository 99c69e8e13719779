import Foundation
import XCTest

/// `nicsim replay` against captures: one nicsim recorded of an embedded
/// boot, and a burst far larger than any receive ring.
final class ReplayTests: XCTestCase {
    struct ReplayJSON: Decodable {
        var frames: Int
        var delivered: Int
        var filtered: Int
        var transmitted: Int
        var lost: Int
    }

    private func temporary(_ suffix: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-replay-\(UUID().uuidString)\(suffix)").path
    }

    private func tsharkCount(_ file: String, _ filter: String) throws -> Int {
        try HostTools.require("/usr/bin/tshark", package: "tshark")
        let r = try HostTools.run("/usr/bin/tshark", ["-r", file, "-Y", filter, "-T", "fields", "-e", "frame.number"])
        XCTAssertEqual(r.status, 0, r.output)
        return r.output.split(separator: "\n").filter { Int($0) != nil }.count
    }

    func testReplayOfARecordedBootDeliversExactlyTheFramesForTheMACOrBroadcast() throws {
        let capture = temporary(".pcapng")
        defer { try? FileManager.default.removeItem(atPath: capture) }
        let boot = try NicsimProcess.run(["boot", "--nbp", "builtin", "--dir", HostTools.fixtures.path, "--capture", capture, "--json"], timeout: 120)
        XCTAssertEqual(boot.status, 0, boot.stderr)
        let mac = "52:54:00:12:34:56"
        let expected = try tsharkCount(capture, "eth.dst == \(mac) || eth.dst == ff:ff:ff:ff:ff:ff")
        let total = try tsharkCount(capture, "frame")
        XCTAssertGreaterThan(expected, 300)
        for model in ["rtl8139", "ne2000", "virtio-net"] {
            let out = temporary(".pcapng")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let run = try NicsimProcess.run(["replay", "--model", model, "--trace", capture, "--mac", mac, "--out", out, "--json"], timeout: 120)
            XCTAssertEqual(run.status, 0, run.stderr)
            let r = try JSONDecoder().decode(ReplayJSON.self, from: Data(run.stdout.utf8))
            XCTAssertEqual(r.frames, total, model)
            XCTAssertEqual(r.delivered, expected, model)
            XCTAssertEqual(r.filtered, total - expected, model)
            XCTAssertEqual(r.lost, 0, model)
            // --out holds what the driver received, frame for frame.
            XCTAssertEqual(try tsharkCount(out, "frame"), r.delivered + r.transmitted, model)
        }
    }

    func testAnotherMACReceivesOnlyTheBroadcasts() throws {
        let capture = temporary(".pcapng")
        defer { try? FileManager.default.removeItem(atPath: capture) }
        XCTAssertEqual(try NicsimProcess.run(["boot", "--nbp", "builtin", "--dir", HostTools.fixtures.path, "--capture", capture, "--json"], timeout: 120).status, 0)
        let broadcasts = try tsharkCount(capture, "eth.dst == ff:ff:ff:ff:ff:ff")
        let run = try NicsimProcess.run(["replay", "--model", "rtl8139", "--trace", capture, "--mac", "02:00:00:00:00:99", "--json"], timeout: 120)
        let r = try JSONDecoder().decode(ReplayJSON.self, from: Data(run.stdout.utf8))
        XCTAssertEqual(r.delivered, broadcasts)
    }

    func testBurstLargerThanTheRingLosesNothing() throws {
        // 3000 back-to-back broadcast frames of 1514 bytes in a classic pcap:
        // far more than any model's receive ring holds, so replay must wait.
        let path = temporary(".pcap")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var file = Data()
        func le32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { file.append(contentsOf: $0) } }
        func le16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { file.append(contentsOf: $0) } }
        le32(0xA1B2_C3D4); le16(2); le16(4); le32(0); le32(0); le32(65535); le32(1)
        for i in 0..<3000 {
            var frame = [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 1514)
            for j in 0..<6 { frame[j] = 0xFF }
            frame[6] = 0x02; frame[12] = 0x88; frame[13] = 0xB5
            le32(UInt32(i / 1000)); le32(UInt32(i % 1000)); le32(1514); le32(1514)
            file.append(contentsOf: frame)
        }
        try file.write(to: URL(fileURLWithPath: path))
        for model in ["rtl8139", "ne2000", "virtio-net"] {
            let run = try NicsimProcess.run(["replay", "--model", model, "--trace", path, "--json"], timeout: 120)
            XCTAssertEqual(run.status, 0, run.stderr)
            let r = try JSONDecoder().decode(ReplayJSON.self, from: Data(run.stdout.utf8))
            XCTAssertEqual(r.frames, 3000, model)
            XCTAssertEqual(r.delivered, 3000, model)
            XCTAssertEqual(r.lost, 0, model)
        }
    }

    func testUnreadableTraceIsOneLineError() throws {
        let run = try NicsimProcess.run(["replay", "--model", "rtl8139", "--trace", "/nonexistent/x.pcap"])
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
    }
}
