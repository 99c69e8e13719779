import NICCore
import XCTest
@testable import Wire

final class TCPHeaderTests: XCTestCase {
    let a = IPv4Address(10, 0, 2, 100), b = IPv4Address(10, 0, 2, 2)

    private func segment(_ header: TCPHeader, payload: [UInt8] = []) -> [UInt8] {
        let length = header.headerLength + payload.count
        var bytes = [UInt8](repeating: 0, count: length)
        for (i, p) in payload.enumerated() { bytes[header.headerLength + i] = p }
        bytes.withUnsafeMutableBytes { try? header.write(to: $0, source: a, destination: b) }
        return bytes
    }

    private func parse(_ bytes: [UInt8]) throws -> TCPHeader {
        try bytes.withUnsafeBytes { try TCPHeader(parsing: $0, source: a, destination: b) }
    }

    func testRoundTripWithMSS() throws {
        // RFC 9293 §3.1 and §3.2: data offset 6 with the 4-byte MSS option.
        let h = TCPHeader(sourcePort: 8080, destinationPort: 40000, sequenceNumber: 0xFFFF_FFFE, acknowledgmentNumber: 7,
                          flags: [.syn, .ack], window: 8192, maximumSegmentSize: 1460)
        let bytes = segment(h)
        XCTAssertEqual(bytes.count, 24)
        XCTAssertEqual(bytes[12], 0x60)
        XCTAssertEqual(try parse(bytes), h)
    }

    func testChecksumCoversThePseudoHeader() throws {
        let h = TCPHeader(sourcePort: 1, destinationPort: 2, sequenceNumber: 3, acknowledgmentNumber: 4, flags: .ack, window: 5)
        let bytes = segment(h, payload: Array("GET /".utf8))
        XCTAssertEqual(try parse(bytes).sequenceNumber, 3)
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try TCPHeader(parsing: $0, source: a, destination: IPv4Address(10, 0, 2, 3)) })
        var corrupt = bytes
        corrupt[21] ^= 1
        XCTAssertThrowsError(try parse(corrupt))
    }

    func testDataOffsetMustFit() {
        var bytes = segment(TCPHeader(sourcePort: 1, destinationPort: 2, sequenceNumber: 3, acknowledgmentNumber: 4, flags: .ack, window: 5))
        bytes[12] = 0x40  // 16 bytes: below the minimum
        XCTAssertThrowsError(try parse(bytes))
        bytes[12] = 0xF0  // 60 bytes: more than the segment
        XCTAssertThrowsError(try parse(bytes))
    }

    func testMalformedOptionsEndTheReadingQuietly() throws {
        // NOP, then a kind with length 0 (invalid): no MSS, no failure.
        let h = TCPHeader(sourcePort: 1, destinationPort: 2, sequenceNumber: 3, acknowledgmentNumber: 4, flags: .syn, window: 5,
                          maximumSegmentSize: 1000)
        var bytes = segment(h)
        bytes[20] = 1; bytes[21] = 8; bytes[22] = 0; bytes[23] = 0
        bytes[16] = 0; bytes[17] = 0
        let sum = bytes.withUnsafeBytes { TCPHeader.checksum($0, source: a, destination: b) }
        bytes[16] = UInt8(sum >> 8); bytes[17] = UInt8(sum & 0xFF)
        let parsed = try parse(bytes)
        XCTAssertNil(parsed.maximumSegmentSize)
        XCTAssertEqual(parsed.headerLength, 24)
    }

    func testResetAnsweringASegment() {
        // RFC 9293 §3.10.7.1.
        let withAck = TCPHeader(sourcePort: 5, destinationPort: 80, sequenceNumber: 10, acknowledgmentNumber: 99, flags: .ack, window: 1)
        XCTAssertEqual(withAck.reset(payloadCount: 3)?.sequenceNumber, 99)
        XCTAssertEqual(withAck.reset(payloadCount: 3)?.flags, .rst)
        let syn = TCPHeader(sourcePort: 5, destinationPort: 80, sequenceNumber: 0xFFFF_FFFF, acknowledgmentNumber: 0, flags: [.syn, .fin], window: 1)
        XCTAssertEqual(syn.reset(payloadCount: 2)?.acknowledgmentNumber, 3, "2 bytes + SYN + FIN, wrapping")
        XCTAssertEqual(syn.reset(payloadCount: 2)?.destinationPort, 5)
        XCTAssertNil(TCPHeader(sourcePort: 5, destinationPort: 80, sequenceNumber: 0, acknowledgmentNumber: 0, flags: .rst, window: 0)
            .reset(payloadCount: 0))
    }

    func testFrameRoundTrip() throws {
        let buffer = FrameBuffer(capacity: 1514)
        let area = TCPFrame.payloadArea(of: buffer)
        for i in 0..<100 { area[i] = UInt8(i) }
        let h = TCPHeader(sourcePort: 80, destinationPort: 4000, sequenceNumber: 1, acknowledgmentNumber: 2, flags: [.ack, .psh], window: 3)
        try TCPFrame.finish(buffer, sourceMAC: MACAddress(2, 0, 0, 0, 0, 1), destinationMAC: MACAddress(2, 0, 0, 0, 0, 2),
                            source: b, destination: a, header: h, payloadCount: 100)
        let s = try TCPSegment(parsing: buffer.bytes)
        XCTAssertEqual(s.tcp, h)
        XCTAssertEqual(s.payloadRange, 54..<154)
        XCTAssertTrue(s.ip.dontFragment)
        XCTAssertEqual(s.sequenceLength, 100)
        // A payload with the MSS option is refused (only SYNs carry it here).
        var syn = h
        syn.maximumSegmentSize = 1460
        XCTAssertThrowsError(try TCPFrame.finish(buffer, sourceMAC: .zero, destinationMAC: .zero, source: b, destination: a,
                                                 header: syn, payloadCount: 1))
    }
}
