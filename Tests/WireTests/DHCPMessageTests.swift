import NICCore
import XCTest
@testable import Wire

final class DHCPMessageTests: XCTestCase {
    private func discover() -> DHCPMessage {
        var m = DHCPMessage(operation: .request, transactionID: 0xDEAD_BEEF, clientMAC: clientMAC)
        m.flags = 0x8000
        m.options = [
            DHCPOption(.messageType, [DHCPMessageType.discover.rawValue]),
            DHCPOption(.vendorClassIdentifier, string: "PXEClient:Arch:00000:UNDI:002001"),
            DHCPOption(.clientArchitecture, [0, 0]),
            DHCPOption(.clientNetworkInterface, [1, 2, 1]),
            DHCPOption(.clientMachineIdentifier, [0] + [UInt8](repeating: 0xAB, count: 16)),
        ]
        return m
    }

    func testEncodedLayoutFollowsRFC2131() {
        let e = discover().encoded()
        XCTAssertEqual(e[0], 1)                        // op BOOTREQUEST
        XCTAssertEqual(Array(e[1...2]), [1, 6])        // htype Ethernet, hlen 6
        XCTAssertEqual(Array(e[4..<8]), [0xDE, 0xAD, 0xBE, 0xEF])
        XCTAssertEqual(Array(e[10..<12]), [0x80, 0])   // broadcast flag
        XCTAssertEqual(Array(e[28..<34]), clientMAC.bytes)
        XCTAssertEqual(Array(e[236..<240]), [99, 130, 83, 99])
        XCTAssertEqual(Array(e[240..<243]), [53, 1, 1])
        XCTAssertGreaterThanOrEqual(e.count, 300)       // BOOTP minimum
    }

    func testRoundTripKeepsOptionOrder() throws {
        let m = discover()
        let parsed = try withBytes(m.encoded()) { try DHCPMessage(parsing: $0) }
        XCTAssertEqual(parsed.options.map(\.code), m.options.map(\.code))
        XCTAssertEqual(parsed.messageType, .discover)
        XCTAssertTrue(parsed.isPXEClient)
        XCTAssertEqual(parsed.clientArchitecture, 0)
        XCTAssertEqual(parsed.clientMAC, clientMAC)
        XCTAssertEqual(parsed.transactionID, 0xDEAD_BEEF)
    }

    func testSplitOptionsAreConcatenated() throws {
        // RFC 3396: several instances of one option form one value, in order.
        var m = discover()
        m.options.append(DHCPOption(.userClass, Array("iP".utf8)))
        m.options.append(DHCPOption(.userClass, Array("XE".utf8)))
        let parsed = try withBytes(m.encoded()) { try DHCPMessage(parsing: $0) }
        XCTAssertEqual(parsed.stringOption(.userClass), "iPXE")
    }

    func testLongOptionIsSplitOnEncode() throws {
        var m = discover()
        m.options = [DHCPOption(.vendorSpecific, [UInt8](repeating: 7, count: 300))]
        let e = m.encoded()
        XCTAssertEqual(Array(e[240..<242]), [43, 255])
        XCTAssertEqual(Array(e[497..<499]), [43, 45])
        XCTAssertEqual(try withBytes(e) { try DHCPMessage(parsing: $0) }.option(.vendorSpecific)?.count, 300)
    }

    func testOptionRunningPastEndIsTruncated() {
        var e = Array(discover().encoded()[0..<240])
        e += [60, 20, 0x50, 0x58]
        XCTAssertThrowsError(try withBytes(e) { try DHCPMessage(parsing: $0) }) { XCTAssertEqual($0 as? WireError, .truncated) }
    }

    func testOverloadOptionDoesNotReadSnameOrFileAsOptions() throws {
        // Option 52 value 3 says file and sname hold options; nicsim keeps them as plain fields.
        var m = discover()
        m.bootFile = [53, 1, 5, 255] + [UInt8](repeating: 0, count: 124)
        m.options.append(DHCPOption(.overload, [3]))
        let parsed = try withBytes(m.encoded()) { try DHCPMessage(parsing: $0) }
        XCTAssertEqual(parsed.messageType, .discover)
        XCTAssertEqual(parsed.option(.overload), [3])
        XCTAssertEqual(Array(parsed.bootFile.prefix(4)), [53, 1, 5, 255])
    }

    func testMessageWithoutCookieIsPlainBOOTP() throws {
        let e = Array(discover().encoded()[0..<236]) + [1, 2, 3, 4]
        let parsed = try withBytes(e) { try DHCPMessage(parsing: $0) }
        XCTAssertFalse(parsed.hasMagicCookie)
        XCTAssertNil(parsed.messageType)
    }

    func testShortMessageIsTruncated() {
        XCTAssertThrowsError(try withBytes([UInt8](repeating: 1, count: 235)) { try DHCPMessage(parsing: $0) }) {
            XCTAssertEqual($0 as? WireError, .truncated)
        }
    }

    func testUserClassReadsRFC3004AndBareForms() throws {
        var m = discover()
        m.options = [DHCPOption(.userClass, [4] + Array("iPXE".utf8) + [3] + Array("lab".utf8))]
        XCTAssertEqual(m.userClasses, ["iPXE", "lab"])
        m.options = [DHCPOption(.userClass, Array("iPXE".utf8))]
        XCTAssertEqual(m.userClasses, ["iPXE"])
    }

    func testSetOptionReplacesAllInstances() {
        var m = discover()
        m.options.append(DHCPOption(.messageType, [3]))
        m.setOption(DHCPOption(.messageType, [DHCPMessageType.request.rawValue]))
        XCTAssertEqual(m.options.filter { $0.code == .messageType }.count, 1)
        XCTAssertEqual(m.messageType, .request)
        XCTAssertEqual(m.options.first?.code, .messageType)
    }

    func testBootFileFieldIsNulTerminatedText() {
        var m = discover()
        m.setBootFile("pxelinux.0")
        XCTAssertEqual(m.bootFile.count, 128)
        XCTAssertEqual(m.bootFileName, "pxelinux.0")
    }
}

final class PXEVendorOptionsTests: XCTestCase {
    func testEncodesSubOptionsWithEndTag() {
        // PXE 2.1 table 2-1: tag 6 length 1, value 8 = boot from `file` directly.
        var o = PXEVendorOptions()
        o.discoveryControl = 8
        XCTAssertEqual(o.encoded(), [6, 1, 8, 255])
    }

    func testRoundTripsEveryKnownSubOption() throws {
        var o = PXEVendorOptions()
        o.discoveryControl = 7
        o.bootServers = [.init(type: 0x8000, addresses: [IPv4Address(10, 0, 0, 1), IPv4Address(10, 0, 0, 2)])]
        o.bootMenu = [.init(type: 0x8000, description: "nicsim")]
        o.menuPrompt = .init(timeout: 0, prompt: "Press F8")
        o.bootItem = .init(type: 0x8000, layer: 0)
        let e = o.encoded()
        // Boot servers: type 0x8000, count 2, two addresses = 11 bytes.
        XCTAssertEqual(Array(e[3..<7]), [8, 11, 0x80, 0x00])
        XCTAssertEqual(try PXEVendorOptions(decoding: e), o)
    }

    func testBootServerCountBeyondLengthIsMalformed() {
        XCTAssertThrowsError(try PXEVendorOptions(decoding: [8, 3, 0x80, 0, 5, 255])) { XCTAssertEqual($0 as? WireError, .malformed) }
    }

    func testUnknownSubOptionsAreKept() throws {
        let o = try PXEVendorOptions(decoding: [1, 4, 224, 1, 1, 1, 255])
        XCTAssertEqual(o.other, [DHCPOption(DHCPOptionCode(1), [224, 1, 1, 1])])
    }
}
