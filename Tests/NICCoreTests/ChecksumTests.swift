import NICCore
import XCTest

final class ChecksumTests: XCTestCase {
    /// The CRC-32 check value from the catalogue of parametrised CRCs.
    func testCRC32CheckValue() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
    }

    /// An FCS appended least significant byte first validates; a flipped bit does not.
    func testEthernetFCSRoundTrip() {
        var frame = [UInt8](repeating: 0, count: 60)
        for i in frame.indices { frame[i] = UInt8(truncatingIfNeeded: i &* 7) }
        let fcs = frame.withUnsafeBytes { EthernetFCS.compute($0) }
        var wire = frame
        for i in 0..<4 { wire.append(UInt8(truncatingIfNeeded: fcs >> (8 * UInt32(i)))) }
        XCTAssertTrue(wire.withUnsafeBytes { EthernetFCS.isValid($0) })
        wire[10] ^= 0x04
        XCTAssertFalse(wire.withUnsafeBytes { EthernetFCS.isValid($0) })
    }

    /// The DP8390/RTL8139 hash: the 6 most significant bits of the CRC
    /// register after the destination address has been shifted in (LSB of
    /// each byte first, preset all-ones). Expected bins were computed from
    /// that definition with a bit-serial shift register; the broadcast
    /// address landing in bin 63 is the well-known case.
    func testMulticastHashOfKnownAddresses() {
        let cases: [(String, Int)] = [
            ("01:00:5e:00:00:01", 31),   // IPv4 all-hosts 224.0.0.1
            ("33:33:00:00:00:01", 62),   // IPv6 all-nodes ff02::1
            ("ff:ff:ff:ff:ff:ff", 63),
            ("01:00:5e:00:00:fb", 15),   // mDNS 224.0.0.251
            ("33:33:ff:00:00:01", 29),   // a solicited-node address
        ]
        for (text, bin) in cases {
            let mac = MACAddress(text)!
            XCTAssertEqual(MulticastHash.index(of: mac), bin, text)
            XCTAssertEqual(MulticastHash.index(of: mac), Self.bitSerialIndex(mac), text)
        }
        let (byte, mask) = MulticastHash.marPosition(of: MACAddress("01:00:5e:00:00:01")!)
        XCTAssertEqual(byte, 3)      // MAR3
        XCTAssertEqual(mask, 0x80)   // bit 7
        XCTAssertTrue(MulticastHash.matches(MACAddress("01:00:5e:00:00:01")!, mar: UInt64(0x80) << 24))
        XCTAssertFalse(MulticastHash.matches(MACAddress("01:00:5e:00:00:01")!, mar: UInt64(0x40) << 24))
    }

    /// The datasheet's shift register, one bit at a time, as an independent reference.
    static func bitSerialIndex(_ mac: MACAddress) -> Int {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in mac.bytes {
            for i in 0..<8 {
                let bit = UInt32(byte >> UInt8(i)) & 1
                let top = crc >> 31
                crc <<= 1
                if top ^ bit != 0 { crc ^= 0x04C1_1DB7 }
            }
        }
        return Int(crc >> 26)
    }

    /// RFC 1071's worked example: words 0001 f203 f4f5 f6f7 sum to ddf2, checksum 220d.
    func testInternetChecksumRFC1071Example() {
        let bytes: [UInt8] = [0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]
        var c = InternetChecksum()
        c.add(bytes: bytes)
        XCTAssertEqual(c.foldedSum, 0xDDF2)
        XCTAssertEqual(c.value, 0x220D)
    }

    /// An odd split across two calls gives the same sum as one call.
    func testInternetChecksumCarriesOddBytes() {
        let bytes: [UInt8] = [0x45, 0x00, 0x00, 0x54, 0x12, 0x34, 0x40, 0x00, 0x40]
        var whole = InternetChecksum()
        whole.add(bytes: bytes)
        var split = InternetChecksum()
        split.add(bytes: bytes[0..<3])
        split.add(bytes: bytes[3...])
        XCTAssertEqual(whole.value, split.value)
    }
}
