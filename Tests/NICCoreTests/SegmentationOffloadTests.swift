import NICCore
import XCTest

/// Cutting the TCP super-frames a Linux sender hands a segmentation-offload
/// device (up to 64 KiB, one header, partial checksum) into MTU-sized
/// segments, as the sending NIC would (RFC 793 sequence numbers; FIN and
/// PSH on the last segment only, CWR on the first only, RFC 3168 6.1.2).
final class SegmentationOffloadTests: XCTestCase {
    private static let mac: [UInt8] = [0x02, 0, 0, 0, 0, 1, 0x52, 0x54, 0, 0x12, 0x34, 0x56]

    private static func tcpHeader(sequence: UInt32, flags: UInt8) -> [UInt8] {
        [0x1F, 0x90, 0xC0, 0x01, UInt8(sequence >> 24), UInt8((sequence >> 16) & 0xFF), UInt8((sequence >> 8) & 0xFF), UInt8(sequence & 0xFF),
         0, 0, 0, 1, 0x80, flags, 0x01, 0x00, 0, 0, 0, 0,
         // Options (12 bytes): NOP, NOP, timestamps.
         1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]
    }

    private static func ipv4SuperFrame(payload: [UInt8], sequence: UInt32, flags: UInt8) -> [UInt8] {
        let tcp = tcpHeader(sequence: sequence, flags: flags) + payload
        let total = 20 + tcp.count
        let ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 10, 66, 0, 1, 10, 66, 0, 2]
        return mac + [0x08, 0x00] + ip + tcp
    }

    private static func ipv6SuperFrame(payload: [UInt8], sequence: UInt32, flags: UInt8) -> [UInt8] {
        let tcp = tcpHeader(sequence: sequence, flags: flags) + payload
        let ip: [UInt8] = [0x60, 0, 0, 0, UInt8(tcp.count >> 8), UInt8(tcp.count & 0xFF), 6, 64]
            + [0xFD, 0x66] + Array(repeating: 0, count: 13) + [1] + [0xFD, 0x66] + Array(repeating: 0, count: 13) + [2]
        return mac + [0x86, 0xDD] + ip + tcp
    }

    private func cut(_ frame: [UInt8], mtu: Int = 1500, scratch: Int = 2048) -> [[UInt8]]? {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: scratch, alignment: 16)
        defer { buffer.deallocate() }
        var segments: [[UInt8]] = []
        let n = frame.withUnsafeBytes { SegmentationOffload.segment($0, mtu: mtu, scratch: buffer) { segments.append(Array($0)) } }
        guard let n else { return nil }
        XCTAssertEqual(n, segments.count)
        return segments
    }

    private static func be16(_ f: [UInt8], _ at: Int) -> Int { Int(f[at]) << 8 | Int(f[at + 1]) }
    private static func be32(_ f: [UInt8], _ at: Int) -> UInt32 { UInt32(be16(f, at)) << 16 | UInt32(be16(f, at + 2)) }

    func testIPv4SuperFrameIsCutIntoValidSegments() throws {
        let payload = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let flags: UInt8 = 0x80 | 0x10 | 0x08 | 0x01  // CWR, ACK, PSH, FIN
        let segments = try XCTUnwrap(cut(Self.ipv4SuperFrame(payload: payload, sequence: 0xFFFF_F000, flags: flags)))
        // MSS 1500 - 20 - 32 = 1448: 10000 bytes is 6 full segments and 1 of 1312.
        XCTAssertEqual(segments.map { $0.count - 66 }, [1448, 1448, 1448, 1448, 1448, 1448, 1312])
        var data: [UInt8] = []
        for (i, s) in segments.enumerated() {
            XCTAssertLessThanOrEqual(Self.be16(s, 16), 1500)
            XCTAssertEqual(Self.be16(s, 16), s.count - 14)
            XCTAssertEqual(Self.be16(s, 18), 0x1234 + i, "IP identification")
            XCTAssertEqual(s[14..<34].withUnsafeBytes { InternetChecksum.compute($0) }, 0, "IPv4 header checksum")
            XCTAssertEqual(Self.be32(s, 38), 0xFFFF_F000 &+ UInt32(1448 * i), "sequence number wraps like TCP's")
            let f = s[47]
            XCTAssertEqual(f & 0x80 != 0, i == 0, "CWR only on the first")
            XCTAssertEqual(f & 0x09 != 0, i == segments.count - 1, "FIN and PSH only on the last")
            XCTAssertEqual(f & 0x10, 0x10)
            XCTAssertEqual(s.withUnsafeBytes { ChecksumOffload.transportChecksumIsValid($0) }, true)
            data += s[66...]
        }
        XCTAssertEqual(data, payload)
    }

    func testIPv6SuperFrameIsCutIntoValidSegments() throws {
        let payload = (0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let segments = try XCTUnwrap(cut(Self.ipv6SuperFrame(payload: payload, sequence: 1, flags: 0x18)))
        // MSS 1500 - 40 - 32 = 1428.
        XCTAssertEqual(segments.map { $0.count - 86 }, [1428, 1428, 1144])
        var data: [UInt8] = []
        for s in segments {
            XCTAssertEqual(Self.be16(s, 18), s.count - 54, "IPv6 payload length")
            XCTAssertEqual(s.withUnsafeBytes { ChecksumOffload.transportChecksumIsValid($0) }, true)
            data += s[86...]
        }
        XCTAssertEqual(data, payload)
    }

    func testFramesThatFitOrAreNotTCPAreNotCut() {
        XCTAssertNil(cut(Self.ipv4SuperFrame(payload: Array(repeating: 1, count: 1448), sequence: 0, flags: 0x10)), "fits the MTU")
        var udp = Self.ipv4SuperFrame(payload: Array(repeating: 1, count: 3000), sequence: 0, flags: 0x10)
        udp[23] = 17
        XCTAssertNil(cut(udp), "not TCP")
        XCTAssertNil(cut(Self.ipv4SuperFrame(payload: Array(repeating: 1, count: 3000), sequence: 0, flags: 0x10), scratch: 600),
                     "scratch too small for one segment")
        XCTAssertNil(cut(Self.ipv4SuperFrame(payload: Array(repeating: 1, count: 3000), sequence: 0, flags: 0x10), mtu: 40),
                     "no room for data in the MTU")
    }

    // Damaged headers never trap: every cut of a super-frame, and random bytes.
    func testTruncatedAndRandomFramesNeverTrap() {
        let frame = Self.ipv4SuperFrame(payload: Array(repeating: 9, count: 3000), sequence: 5, flags: 0x10)
        for n in stride(from: 0, to: frame.count, by: 7) { _ = cut(Array(frame.prefix(n))) }
        var rng = SeededRandom(seed: 42)
        for _ in 0..<5000 {
            var f = frame
            for _ in 0..<4 { f[Int(rng.next() % UInt64(80))] = UInt8(truncatingIfNeeded: rng.next()) }
            if let segments = cut(f) { XCTAssertFalse(segments.isEmpty) }
        }
    }
}
