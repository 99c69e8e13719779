import NICCore
import XCTest
@testable import Wire

final class TFTPPacketTests: XCTestCase {
    func testReadRequestWithOptionsRoundTrips() throws {
        // RFC 1350 RRQ: opcode 1, filename NUL, mode NUL; RFC 2347 options follow as name NUL value NUL.
        let req = TFTPRequest(filename: "pxelinux.0", mode: "octet",
                              options: [TFTPOption("blksize", "1468"), TFTPOption("tsize", "0"), TFTPOption("windowsize", "16")])
        var out = [UInt8](repeating: 0, count: 512)
        let n = try out.withUnsafeMutableBytes { try TFTPPacket.writeRequest(.readRequest, req, to: $0) }
        XCTAssertEqual(Array(out[0..<13]), [0, 1] + Array("pxelinux.0".utf8) + [0])
        let parsed = try withBytes(Array(out[0..<n])) { try TFTPPacket(parsing: $0) }
        XCTAssertEqual(parsed, .readRequest(req))
        if case .readRequest(let r) = parsed { XCTAssertEqual(r.option("blksize"), "1468") }
    }

    func testModeIsCaseInsensitive() throws {
        let bytes: [UInt8] = [0, 1] + Array("f".utf8) + [0] + Array("OcTeT".utf8) + [0]
        guard case .readRequest(let r) = try withBytes(bytes, { try TFTPPacket(parsing: $0) }) else { return XCTFail() }
        XCTAssertEqual(r.mode, "octet")
    }

    func testMailModeIsRefused() {
        let bytes: [UInt8] = [0, 1] + Array("f".utf8) + [0] + Array("mail".utf8) + [0]
        XCTAssertThrowsError(try withBytes(bytes) { try TFTPPacket(parsing: $0) }) { XCTAssertEqual($0 as? WireError, .malformed) }
    }

    func testRequestWithoutTerminatingNulIsTruncated() {
        let bytes: [UInt8] = [0, 1] + Array("pxelinux.0".utf8)
        XCTAssertThrowsError(try withBytes(bytes) { try TFTPPacket(parsing: $0) }) { XCTAssertEqual($0 as? WireError, .truncated) }
    }

    func testDataPayloadIsAnOffsetRange() throws {
        let bytes: [UInt8] = [0, 3, 0x12, 0x34, 9, 8, 7]
        XCTAssertEqual(try withBytes(bytes) { try TFTPPacket(parsing: $0) }, .data(block: 0x1234, payload: 4..<7))
    }

    func testEmptyDataBlockEndsTransfer() throws {
        // RFC 1350: a DATA packet with fewer than blksize bytes (here 0) is the last.
        XCTAssertEqual(try withBytes([0, 3, 0, 2]) { try TFTPPacket(parsing: $0) }, .data(block: 2, payload: 4..<4))
    }

    func testAckAndErrorWriteAndParse() throws {
        var out = [UInt8](repeating: 0, count: 64)
        var n = try out.withUnsafeMutableBytes { try TFTPPacket.writeAcknowledgement(block: 65535, to: $0) }
        XCTAssertEqual(try withBytes(Array(out[0..<n])) { try TFTPPacket(parsing: $0) }, .acknowledgement(block: 65535))
        n = try out.withUnsafeMutableBytes { try TFTPPacket.writeError(.fileNotFound, message: "no", to: $0) }
        XCTAssertEqual(Array(out[0..<n]), [0, 5, 0, 1, 0x6E, 0x6F, 0])
        XCTAssertEqual(try withBytes(Array(out[0..<n])) { try TFTPPacket(parsing: $0) }, .error(code: 1, message: "no"))
    }

    func testOptionAcknowledgementRoundTrips() throws {
        var out = [UInt8](repeating: 0, count: 64)
        let opts = [TFTPOption("blksize", "1468"), TFTPOption("tsize", "1048576")]
        let n = try out.withUnsafeMutableBytes { try TFTPPacket.writeOptionAcknowledgement(opts, to: $0) }
        XCTAssertEqual(Array(out[0..<2]), [0, 6])
        XCTAssertEqual(try withBytes(Array(out[0..<n])) { try TFTPPacket(parsing: $0) }, .optionAcknowledgement(opts))
    }

    func testUnknownOpcodeIsMalformed() {
        XCTAssertThrowsError(try withBytes([0, 9, 0, 0]) { try TFTPPacket(parsing: $0) }) { XCTAssertEqual($0 as? WireError, .malformed) }
    }

    func testWriteIntoTooSmallBufferThrows() {
        var out = [UInt8](repeating: 0, count: 8)
        XCTAssertThrowsError(try out.withUnsafeMutableBytes {
            try TFTPPacket.writeRequest(.readRequest, TFTPRequest(filename: "a-long-name"), to: $0)
        }) { XCTAssertEqual($0 as? WireError, .noRoom) }
    }
}
