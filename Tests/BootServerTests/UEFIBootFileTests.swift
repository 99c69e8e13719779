import NICCore
import Wire
import XCTest
@testable import BootServer

/// Boot files by architecture (option 93) and UEFI HTTP Boot offers.
final class UEFIBootFileTests: XCTestCase {
    let client = UDPEndpoint(mac: MACAddress(0x52, 0x54, 0, 0x12, 0x34, 0x56), ip: .any, port: 68)
    var events: [BootServerEvent] = []

    private func responder(_ edit: (inout BootServerConfiguration) -> Void = { _ in }) -> DHCPResponder {
        var c = makeConfiguration(root: "/tmp")
        c.bootFilesByArchitecture = [11: "grubaa64.efi", 16: "snponly.efi", 19: "arm/ipxe.efi"]
        c.httpPort = 8080
        edit(&c)
        return DHCPResponder(configuration: c)
    }

    private func respond(_ r: inout DHCPResponder, _ m: DHCPMessage, port: UInt16 = 67) -> DHCPResponder.Reply? {
        r.respond(to: m, from: client, localPort: port, now: 0) { events.append($0) }
    }

    /// A discover as EDK2's HttpBootDxe sends it: option 60 "HTTPClient:Arch:xxxxx:UNDI:003016".
    private func httpDiscover(arch: UInt16, type: DHCPMessageType = .discover) -> DHCPMessage {
        var m = DHCPMessage(operation: .request, transactionID: 0x4242, clientMAC: client.mac)
        m.options = [
            DHCPOption(.messageType, [type.rawValue]),
            DHCPOption(.vendorClassIdentifier, string: "HTTPClient:Arch:000\(arch):UNDI:003016"),
            DHCPOption(.clientArchitecture, [UInt8(arch >> 8), UInt8(arch & 0xFF)]),
        ]
        return m
    }

    func testARM64UEFIGetsItsMappedFile() throws {
        var r = responder()
        XCTAssertEqual(try XCTUnwrap(respond(&r, pxeDiscover(arch: 11))).message.bootFileName, "grubaa64.efi")
    }

    func testUnmappedArchitecturesKeepTheBIOSAndEFIChoices() throws {
        var r = responder()
        XCTAssertEqual(try XCTUnwrap(respond(&r, pxeDiscover(arch: 7))).message.bootFileName, "efi/syslinux.efi")
        XCTAssertEqual(try XCTUnwrap(respond(&r, pxeDiscover(arch: 0))).message.bootFileName, "pxelinux.0")
    }

    func testMapOverridesBIOSToo() throws {
        var r = responder { $0.bootFilesByArchitecture[0] = "undionly.kpxe" }
        XCTAssertEqual(try XCTUnwrap(respond(&r, pxeDiscover(arch: 0))).message.bootFileName, "undionly.kpxe")
    }

    func testIPXEStillGetsItsScript() throws {
        var r = responder()
        var m = pxeDiscover(arch: 11)
        m.options.append(DHCPOption(.userClass, string: "iPXE"))
        XCTAssertEqual(try XCTUnwrap(respond(&r, m)).message.bootFileName, "boot.ipxe")
    }

    func testHTTPClientGetsAURLAndItsVendorClass() throws {
        // UEFI 2.x §24.7.2: option 60 "HTTPClient" and the URI in option 67.
        var r = responder()
        let m = try XCTUnwrap(respond(&r, httpDiscover(arch: 16))).message
        XCTAssertEqual(m.stringOption(.vendorClassIdentifier), "HTTPClient")
        XCTAssertEqual(m.stringOption(.bootfileName), "http://10.0.2.2:8080/snponly.efi")
        XCTAssertEqual(m.bootFileName, "http://10.0.2.2:8080/snponly.efi")
        XCTAssertNil(m.option(.vendorSpecific), "PXE options are for PXEClients")
        XCTAssertEqual(m.yourIP, IPv4Address(10, 0, 2, 100))
    }

    func testARM64HTTPClientAndURLEncoding() throws {
        var r = responder { $0.bootFilesByArchitecture[19] = "/arm/my boot.efi" }
        let m = try XCTUnwrap(respond(&r, httpDiscover(arch: 19))).message
        XCTAssertEqual(m.stringOption(.bootfileName), "http://10.0.2.2:8080/arm/my%20boot.efi")
    }

    func testConfiguredURLIsSentAsItIs() throws {
        var r = responder { $0.bootFilesByArchitecture[16] = "http://boot.example/x.efi" }
        XCTAssertEqual(try XCTUnwrap(respond(&r, httpDiscover(arch: 16))).message.stringOption(.bootfileName), "http://boot.example/x.efi")
    }

    func testPort80IsLeftOutOfTheURL() {
        XCTAssertEqual(DHCPResponder.url(host: serverIP, port: 80, path: "a/b.efi"), "http://10.0.2.2/a/b.efi")
    }

    func testHTTPClientWithoutHTTPServerIsIgnored() {
        var r = responder { $0.httpPort = nil }
        XCTAssertNil(respond(&r, httpDiscover(arch: 16)))
        XCTAssertEqual(events.last, .ignored(mac: client.mac, reason: "HTTPClient, but no HTTP server (--http-port)"))
    }

    func testProxyDHCPAnswersHTTPClients() throws {
        var r = responder { $0.proxyDHCP = true }
        let m = try XCTUnwrap(respond(&r, httpDiscover(arch: 16))).message
        XCTAssertEqual(m.yourIP, .any)
        XCTAssertEqual(m.stringOption(.vendorClassIdentifier), "HTTPClient")
        XCTAssertEqual(m.stringOption(.bootfileName), "http://10.0.2.2:8080/snponly.efi")
    }

    func testPort4011AnswersHTTPClientsTheSameWay() throws {
        var r = responder { $0.proxyDHCP = true }
        var request = httpDiscover(arch: 16, type: .request)
        request.clientIP = IPv4Address(10, 0, 2, 50)
        let reply = try XCTUnwrap(respond(&r, request, port: 4011))
        XCTAssertEqual(reply.message.messageType, .ack)
        XCTAssertEqual(reply.message.stringOption(.bootfileName), "http://10.0.2.2:8080/snponly.efi")
        XCTAssertEqual(reply.message.stringOption(.vendorClassIdentifier), "HTTPClient")
    }

    func testPXEClientOnPort4011GetsItsArchitecturesFile() throws {
        var r = responder { $0.proxyDHCP = true }
        var request = pxeDiscover(arch: 11, type: .request)
        request.clientIP = IPv4Address(10, 0, 2, 50)
        let reply = try XCTUnwrap(respond(&r, request, port: 4011))
        XCTAssertEqual(reply.message.stringOption(.bootfileName), "grubaa64.efi")
        XCTAssertEqual(reply.message.stringOption(.vendorClassIdentifier), "PXEClient")
    }
}

/// The request-head parser on its own.
final class HTTPRequestTests: XCTestCase {
    private func parse(_ text: String) throws(HTTPRequest.Refusal) -> HTTPRequest {
        let bytes = Array(text.utf8)
        var result: Result<HTTPRequest, HTTPRequest.Refusal> = .failure(.badRequest)
        bytes.withUnsafeBytes { b in result = Result { () throws(HTTPRequest.Refusal) in try HTTPRequest(parsing: b) } }
        return try result.get()
    }

    private func refusal(_ text: String) -> HTTPRequest.Refusal? {
        do { _ = try parse(text); return nil } catch { return error }
    }

    func testIPXEStyleRequest() throws {
        let r = try parse("GET /second.ipxe HTTP/1.1\r\nConnection: keep-alive\r\nUser-Agent: iPXE/1.0.0+\r\nHost: 10.0.2.2:8080\r\n\r\n")
        XCTAssertEqual(r.method, .get)
        XCTAssertEqual(r.path, "/second.ipxe")
        XCTAssertTrue(r.keepAlive)
        XCTAssertNil(r.range)
    }

    func testAbsoluteFormQueryAndPercentDecoding() throws {
        XCTAssertEqual(try parse("GET http://10.0.2.2:8080/a%20b/c.efi?x=1 HTTP/1.1\r\nHost: h\r\n\r\n").path, "/a b/c.efi")
    }

    func testHTTP10ClosesUnlessKeepAlive() throws {
        XCTAssertFalse(try parse("GET / HTTP/1.0\r\n\r\n").keepAlive)
        XCTAssertTrue(try parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive)
        XCTAssertFalse(try parse("HEAD / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keepAlive)
    }

    func testRanges() throws {
        XCTAssertEqual(try parse("GET / HTTP/1.1\r\nHost: h\r\nRange: bytes=5-9\r\n\r\n").range, .from(5, through: 9))
        XCTAssertEqual(try parse("GET / HTTP/1.1\r\nHost: h\r\nRange: bytes=5-\r\n\r\n").range, .from(5, through: nil))
        XCTAssertEqual(try parse("GET / HTTP/1.1\r\nHost: h\r\nRange: bytes=-3\r\n\r\n").range, .suffix(3))
        // Several ranges, other units, reversed or huge numbers: ignored (the whole file).
        XCTAssertNil(try parse("GET / HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1,5-6\r\n\r\n").range)
        XCTAssertNil(try parse("GET / HTTP/1.1\r\nHost: h\r\nRange: items=0-1\r\n\r\n").range)
        XCTAssertNil(try parse("GET / HTTP/1.1\r\nHost: h\r\nRange: bytes=9-5\r\n\r\n").range)
        XCTAssertNil(try parse("GET / HTTP/1.1\r\nHost: h\r\nRange: bytes=99999999999999999999999-\r\n\r\n").range)
        XCTAssertEqual(HTTPRequest.ByteRange.from(5, through: 100).resolved(size: 10), 5..<10)
        XCTAssertNil(HTTPRequest.ByteRange.from(10, through: nil).resolved(size: 10))
        XCTAssertEqual(HTTPRequest.ByteRange.suffix(100).resolved(size: 10), 0..<10)
        XCTAssertNil(HTTPRequest.ByteRange.suffix(0).resolved(size: 10))
    }

    func testRefusals() {
        XCTAssertEqual(refusal("PUT / HTTP/1.1\r\nHost: h\r\n\r\n"), .methodNotAllowed)
        XCTAssertEqual(refusal("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), .versionNotSupported)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\n\r\n"), .badRequest)
        XCTAssertEqual(refusal("GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n"), .badRequest)
        XCTAssertEqual(refusal("GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n"), .badRequest)
        XCTAssertEqual(refusal("GET noslash HTTP/1.1\r\nHost: h\r\n\r\n"), .badRequest)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), .badRequest)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n"), .badRequest)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n"), .bodyNotAccepted)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"), .bodyNotAccepted)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"), .badRequest)
    }

    func testHeadLength() {
        func length(_ s: String) -> Int? { Array(s.utf8).withUnsafeBytes { HTTPRequest.headLength(in: $0) } }
        XCTAssertEqual(length("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET"), 27)
        XCTAssertEqual(length("GET / HTTP/1.0\n\n"), 16)
        XCTAssertNil(length("GET / HTTP/1.1\r\nHost: h\r\n"))
    }
}
