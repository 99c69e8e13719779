import NICCore
import XCTest

/// Finishing the partial checksums a Linux sender leaves for its NIC
/// (CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum, RFC 768
/// and RFC 793 pseudo headers, RFC 8200 8.1 for IPv6).
final class ChecksumOffloadTests: XCTestCase {
    // MARK: Frames

    private static let src: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
    private static let dst: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01]

    private static func sum(_ bytes: [UInt8]) -> UInt32 {
        var s: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            s += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { s += UInt32(bytes[i]) << 8 }
        return s
    }

    private static func fold(_ s: UInt32) -> UInt16 {
        var s = s
        while s >> 16 != 0 { s = (s & 0xFFFF) + (s >> 16) }
        return UInt16(s)
    }

    /// An IPv4 frame with a UDP (17) or TCP (6) segment whose checksum field
    /// is left as `field` decides: "full" (correct), "partial" (the
    /// pseudo-header sum, as Linux leaves it), or a fixed value.
    private enum Field { case full, partial, value(UInt16) }

    private static func ipv4(proto: UInt8, payload: [UInt8], field: Field, vlan: Bool = false, fragment: Bool = false) -> [UInt8] {
        let srcIP: [UInt8] = [192, 168, 77, 1], dstIP: [UInt8] = [192, 168, 77, 111]
        var l4: [UInt8]
        let checksumAt: Int
        if proto == 17 {
            let length = 8 + payload.count
            l4 = [0, 69, 0x08, 0x00, UInt8(length >> 8), UInt8(length & 0xFF), 0, 0] + payload
            checksumAt = 6
        } else {
            l4 = [0x00, 0x50, 0x9C, 0x40, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xFF, 0xFF, 0, 0, 0, 0] + payload
            checksumAt = 16
        }
        let pseudo = sum(srcIP + dstIP) + UInt32(proto) + UInt32(l4.count)
        switch field {
        case .full:
            var c = ~fold(pseudo + sum(l4))
            if c == 0 && proto == 17 { c = 0xFFFF }
            l4[checksumAt] = UInt8(c >> 8); l4[checksumAt + 1] = UInt8(c & 0xFF)
        case .partial:
            let p = fold(pseudo)
            l4[checksumAt] = UInt8(p >> 8); l4[checksumAt + 1] = UInt8(p & 0xFF)
        case .value(let v):
            l4[checksumAt] = UInt8(v >> 8); l4[checksumAt + 1] = UInt8(v & 0xFF)
        }
        let total = 20 + l4.count
        var ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 1, fragment ? 0x20 : 0x40, 0, 64, proto, 0, 0] + srcIP + dstIP
        let hc = ~fold(sum(ip))
        ip[10] = UInt8(hc >> 8); ip[11] = UInt8(hc & 0xFF)
        let tag: [UInt8] = vlan ? [0x81, 0x00, 0x00, 0x05] : []
        return dst + src + tag + [0x08, 0x00] + ip + l4
    }

    private static func ipv6UDP(payload: [UInt8], partial: Bool) -> [UInt8] {
        let srcIP: [UInt8] = [0xFD, 0x77] + Array(repeating: 0, count: 13) + [1]
        let dstIP: [UInt8] = [0xFE, 0x80] + Array(repeating: 0, count: 13) + [0x42]
        let length = 8 + payload.count
        var l4: [UInt8] = [0x02, 0x23, 0x02, 0x22, UInt8(length >> 8), UInt8(length & 0xFF), 0, 0] + payload
        let pseudo = sum(srcIP + dstIP) + UInt32(length) + 17
        let value = partial ? fold(pseudo) : ~fold(pseudo + sum(l4))
        l4[6] = UInt8(value >> 8); l4[7] = UInt8(value & 0xFF)
        let ip: [UInt8] = [0x60, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xFF), 17, 64] + srcIP + dstIP
        return dst + src + [0x86, 0xDD] + ip + l4
    }

    private func completed(_ frame: [UInt8]) -> (done: Bool, frame: [UInt8]) {
        var f = frame
        let done = f.withUnsafeMutableBytes { ChecksumOffload.completePartial($0) }
        return (done, f)
    }

    private func isValid(_ frame: [UInt8]) -> Bool? {
        frame.withUnsafeBytes { ChecksumOffload.transportChecksumIsValid($0) }
    }

    // MARK: Partial checksums are finished

    // A DHCP offer as dnsmasq's stack hands it to a veth: only the pseudo-header sum.
    func testPartialUDPOverIPv4IsCompletedToTheSenderNICsValue() {
        let payload = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let partial = Self.ipv4(proto: 17, payload: payload, field: .partial)
        XCTAssertEqual(isValid(partial), false)
        let r = completed(partial)
        XCTAssertTrue(r.done)
        XCTAssertEqual(r.frame, Self.ipv4(proto: 17, payload: payload, field: .full))
        XCTAssertEqual(isValid(r.frame), true)
    }

    func testPartialTCPOverIPv4IsCompleted() {
        let payload = Array("GET /boot.ipxe HTTP/1.1\r\n\r\n".utf8)
        let r = completed(Self.ipv4(proto: 6, payload: payload, field: .partial))
        XCTAssertTrue(r.done)
        XCTAssertEqual(r.frame, Self.ipv4(proto: 6, payload: payload, field: .full))
    }

    func testPartialUDPOverIPv6IsCompleted() {
        let payload = Array(repeating: UInt8(0xA5), count: 77)
        let r = completed(Self.ipv6UDP(payload: payload, partial: true))
        XCTAssertTrue(r.done)
        XCTAssertEqual(r.frame, Self.ipv6UDP(payload: payload, partial: false))
    }

    func testPartialChecksumBehindAVLANTagIsCompleted() {
        let payload = Array(repeating: UInt8(1), count: 20)
        let r = completed(Self.ipv4(proto: 17, payload: payload, field: .partial, vlan: true))
        XCTAssertTrue(r.done)
        XCTAssertEqual(r.frame, Self.ipv4(proto: 17, payload: payload, field: .full, vlan: true))
    }

    // MARK: Everything else is left as it came

    func testCompleteChecksumIsLeftAlone() {
        let frame = Self.ipv4(proto: 17, payload: [1, 2, 3], field: .full)
        let r = completed(frame)
        XCTAssertFalse(r.done)
        XCTAssertEqual(r.frame, frame)
    }

    // A checksum damaged on the wire is not the pseudo-header sum: it stays
    // wrong, so the guest's stack drops the frame as it should.
    func testWrongChecksumOnTheWireStaysWrong() {
        let good = Self.ipv4(proto: 17, payload: Array("damaged".utf8), field: .full)
        let bad = Self.ipv4(proto: 17, payload: Array("damaged".utf8), field: .value(UInt16(good[40]) << 8 | UInt16(good[41]) ^ 0x0101))
        let r = completed(bad)
        XCTAssertFalse(r.done)
        XCTAssertEqual(r.frame, bad)
        XCTAssertEqual(isValid(r.frame), false)
    }

    // UDP over IPv4 may carry no checksum at all (RFC 768): zero stays zero.
    func testUDPWithoutChecksumIsLeftAlone() {
        let frame = Self.ipv4(proto: 17, payload: [9, 9], field: .value(0))
        let r = completed(frame)
        XCTAssertFalse(r.done)
        XCTAssertEqual(r.frame, frame)
        XCTAssertEqual(isValid(frame), true)
    }

    // A fragment's checksum covers the whole datagram, not the piece here.
    func testFragmentsAreLeftAlone() {
        let frame = Self.ipv4(proto: 17, payload: [1, 2, 3, 4], field: .partial, fragment: true)
        XCTAssertFalse(completed(frame).done)
    }

    func testNonIPFramesAndTruncatedHeadersAreLeftAlone() {
        let arp = Self.dst + Self.src + [0x08, 0x06] + Array(repeating: 0, count: 28)
        XCTAssertFalse(completed(arp).done)
        let full = Self.ipv4(proto: 17, payload: [1, 2, 3, 4], field: .partial)
        // Every cut of a partial frame: the IP length no longer fits, so nothing is touched.
        for cut in 0..<full.count {
            let r = completed(Array(full.prefix(cut)))
            XCTAssertFalse(r.done, "cut at \(cut)")
            XCTAssertEqual(r.frame, Array(full.prefix(cut)))
        }
    }

    // Random bytes never trap and never grow or shrink the frame.
    func testRandomFramesNeverTrap() {
        var rng = SeededRandom(seed: 0x5EED)
        for _ in 0..<20_000 {
            let n = Int(rng.next() % 120)
            var f = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if n > 14, rng.next() % 2 == 0 { f[12] = 0x08; f[13] = 0x00 }
            if n > 23, rng.next() % 2 == 0 { f[14] = 0x45; f[23] = rng.next() % 2 == 0 ? 17 : 6 }
            let r = completed(f)
            XCTAssertEqual(r.frame.count, f.count)
        }
    }

    // MARK: The virtio-net form

    // VIRTIO_NET_HDR_F_NEEDS_CSUM: sum from csum_start, stored at csum_start + csum_offset.
    func testNeedsChecksumFormMatchesTheSendersValue() {
        let payload = Array("tftp data".utf8)
        var f = Self.ipv4(proto: 17, payload: payload, field: .partial)
        let ok = f.withUnsafeMutableBytes { ChecksumOffload.complete($0, start: 34, offset: 6) }
        XCTAssertTrue(ok)
        XCTAssertEqual(f, Self.ipv4(proto: 17, payload: payload, field: .full))
    }

    func testNeedsChecksumOffsetsOutsideTheFrameAreRefused() {
        let original = Self.ipv4(proto: 17, payload: [1], field: .partial)
        for (start, offset) in [(original.count, 0), (original.count - 1, 0), (34, original.count), (-1, 6), (34, -2), (Int.max, 6), (34, Int.max)] {
            var f = original
            let ok = f.withUnsafeMutableBytes { ChecksumOffload.complete($0, start: start, offset: offset) }
            XCTAssertFalse(ok, "start \(start) offset \(offset)")
            XCTAssertEqual(f, original)
        }
    }
}
