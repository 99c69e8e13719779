import NICCore
import Wire
import XCTest
@testable import BootServer

final class DHCPResponderTests: XCTestCase {
    let client = UDPEndpoint(mac: MACAddress(0x52, 0x54, 0, 0x12, 0x34, 0x56), ip: .any, port: 68)
    var events: [BootServerEvent] = []

    private func responder(_ edit: (inout BootServerConfiguration) -> Void = { _ in }) -> DHCPResponder {
        var c = makeConfiguration(root: "/tmp")
        edit(&c)
        return DHCPResponder(configuration: c)
    }

    private func respond(_ r: inout DHCPResponder, _ m: DHCPMessage, port: UInt16 = 67, now: UInt64 = 0) -> DHCPResponder.Reply? {
        r.respond(to: m, from: client, localPort: port, now: now) { events.append($0) }
    }

    func testOfferCarriesAddressServerAndBootOptions() throws {
        // RFC 2131 + RFC 2132: yiaddr from the pool, siaddr and file, options 1, 3, 51, 54, 66, 67.
        var r = responder()
        let reply = try XCTUnwrap(respond(&r, pxeDiscover()))
        let m = reply.message
        XCTAssertEqual(m.operation, .reply)
        XCTAssertEqual(m.messageType, .offer)
        XCTAssertEqual(m.transactionID, 0x1234_5678)
        XCTAssertEqual(m.yourIP, IPv4Address(10, 0, 2, 100))
        XCTAssertEqual(m.serverIP, serverIP)
        XCTAssertEqual(m.bootFileName, "pxelinux.0")
        XCTAssertEqual(m.addressOption(.subnetMask), IPv4Address(255, 255, 255, 0))
        XCTAssertEqual(m.addressOption(.router), IPv4Address(10, 0, 2, 1))
        XCTAssertEqual(m.uint32Option(.leaseTime), 3600)
        XCTAssertEqual(m.addressOption(.serverIdentifier), serverIP)
        XCTAssertEqual(m.stringOption(.tftpServerName), "10.0.2.2")
        XCTAssertEqual(m.stringOption(.bootfileName), "pxelinux.0")
        XCTAssertEqual(reply.sourcePort, 67)
        XCTAssertEqual(reply.destination.port, 68)
    }

    func testPXEClientGetsVendorClassAndDiscoveryControl() throws {
        // PXE 2.1 2.2.3: option 60 "PXEClient" plus option 43 with tag 6 bit 3 (boot file, no discovery).
        var r = responder()
        let m = try XCTUnwrap(respond(&r, pxeDiscover())).message
        XCTAssertEqual(m.stringOption(.vendorClassIdentifier), "PXEClient")
        let pxe = try PXEVendorOptions(decoding: XCTUnwrap(m.option(.vendorSpecific)))
        XCTAssertEqual(pxe.discoveryControl, 0x08)
    }

    func testClientUUIDIsEchoed() throws {
        var r = responder()
        let m = try XCTUnwrap(respond(&r, pxeDiscover())).message
        XCTAssertEqual(m.option(.clientMachineIdentifier), [0] + [UInt8](repeating: 0x5A, count: 16))
    }

    func testClientWithoutPXEClientVendorClassIsIgnoredByDefault() {
        var r = responder()
        var m = pxeDiscover()
        m.options.removeAll { $0.code == .vendorClassIdentifier }
        XCTAssertNil(respond(&r, m))
        XCTAssertEqual(events.last, .ignored(mac: client.mac, reason: "not a PXEClient (option 60)"))
    }

    func testAnyClientIsAnsweredWhenConfigured() throws {
        var r = responder { $0.pxeClientsOnly = false }
        var m = pxeDiscover()
        m.options.removeAll { $0.code == .vendorClassIdentifier }
        let reply = try XCTUnwrap(respond(&r, m)).message
        XCTAssertEqual(reply.messageType, .offer)
        // Only a PXEClient gets the PXE vendor class and option 43 back.
        XCTAssertNil(reply.option(.vendorSpecific))
        XCTAssertNil(reply.option(.vendorClassIdentifier))
    }

    func testRequestBindsTheOfferedAddress() throws {
        var r = responder()
        let offer = try XCTUnwrap(respond(&r, pxeDiscover())).message
        var req = pxeDiscover(type: .request)
        req.options.append(DHCPOption(.requestedIPAddress, address: offer.yourIP))
        req.options.append(DHCPOption(.serverIdentifier, address: serverIP))
        let ack = try XCTUnwrap(respond(&r, req)).message
        XCTAssertEqual(ack.messageType, .ack)
        XCTAssertEqual(ack.yourIP, offer.yourIP)
        XCTAssertEqual(r.pool.lease(for: client.mac)?.bound, true)
    }

    func testClientKeepsItsAddressOnNextDiscover() throws {
        var r = responder()
        let first = try XCTUnwrap(respond(&r, pxeDiscover())).message.yourIP
        _ = respond(&r, pxeDiscover(mac: MACAddress(0x52, 0x54, 0, 0, 0, 2)))
        XCTAssertEqual(try XCTUnwrap(respond(&r, pxeDiscover())).message.yourIP, first)
    }

    func testDifferentClientsGetDifferentAddresses() throws {
        var r = responder()
        let a = try XCTUnwrap(respond(&r, pxeDiscover(mac: MACAddress(2, 0, 0, 0, 0, 1)))).message.yourIP
        let b = try XCTUnwrap(respond(&r, pxeDiscover(mac: MACAddress(2, 0, 0, 0, 0, 2)))).message.yourIP
        XCTAssertNotEqual(a, b)
    }

    func testExhaustedPoolIsNotAnswered() {
        var r = responder()
        for i in 1...3 { XCTAssertNotNil(respond(&r, pxeDiscover(mac: MACAddress(2, 0, 0, 0, 0, UInt8(i))))) }
        XCTAssertNil(respond(&r, pxeDiscover(mac: MACAddress(2, 0, 0, 0, 0, 9))))
        XCTAssertEqual(events.last, .ignored(mac: MACAddress(2, 0, 0, 0, 0, 9), reason: "address pool exhausted"))
    }

    func testExpiredOfferFreesTheAddress() {
        // An offer is only a reservation; after it lapses the address goes to someone else.
        var r = responder()
        for i in 1...3 { _ = respond(&r, pxeDiscover(mac: MACAddress(2, 0, 0, 0, 0, UInt8(i)))) }
        XCTAssertNotNil(respond(&r, pxeDiscover(mac: MACAddress(2, 0, 0, 0, 0, 9)), now: 61 * VirtualClock.second))
    }

    func testRequestNamingAnotherServerIsIgnored() {
        // RFC 2131 4.3.2: in SELECTING, option 54 names the chosen server.
        var r = responder()
        _ = respond(&r, pxeDiscover())
        var req = pxeDiscover(type: .request)
        req.options.append(DHCPOption(.requestedIPAddress, address: IPv4Address(10, 0, 2, 100)))
        req.options.append(DHCPOption(.serverIdentifier, address: IPv4Address(10, 0, 2, 3)))
        XCTAssertNil(respond(&r, req))
        XCTAssertNil(r.pool.lease(for: client.mac))
    }

    func testRequestForAnAddressHeldByAnotherClientIsRefused() throws {
        var r = responder()
        let other = MACAddress(2, 0, 0, 0, 0, 7)
        let taken = try XCTUnwrap(respond(&r, pxeDiscover(mac: other))).message.yourIP
        var req = pxeDiscover(type: .request)
        req.options.append(DHCPOption(.requestedIPAddress, address: taken))
        let reply = try XCTUnwrap(respond(&r, req))
        XCTAssertEqual(reply.message.messageType, .nak)
        XCTAssertTrue(reply.destination.ip.isBroadcast)
    }

    func testDeclinedAddressIsNotOfferedAgain() throws {
        var r = responder()
        let ip = try XCTUnwrap(respond(&r, pxeDiscover())).message.yourIP
        var decline = pxeDiscover(type: .decline)
        decline.options.append(DHCPOption(.requestedIPAddress, address: ip))
        XCTAssertNil(respond(&r, decline))
        XCTAssertNotEqual(try XCTUnwrap(respond(&r, pxeDiscover())).message.yourIP, ip)
    }

    func testEFIArchitectureGetsEFIBootFile() throws {
        // RFC 4578 2.1: type 7 is EFI BC (x86-64 in practice), 0 is BIOS.
        var r = responder()
        XCTAssertEqual(try XCTUnwrap(respond(&r, pxeDiscover(arch: 7))).message.bootFileName, "efi/syslinux.efi")
        XCTAssertEqual(try XCTUnwrap(respond(&r, pxeDiscover(arch: 0))).message.bootFileName, "pxelinux.0")
    }

    func testIPXEClientByOption175GetsIPXEFile() throws {
        // iPXE sends option 175; giving it the chain-load file again would loop.
        var r = responder()
        var m = pxeDiscover()
        m.options.append(DHCPOption(.ipxeEncapsulated, [0xB1, 1, 1]))
        XCTAssertEqual(try XCTUnwrap(respond(&r, m)).message.bootFileName, "boot.ipxe")
    }

    func testIPXEClientByUserClassGetsIPXEFile() throws {
        var r = responder()
        var m = pxeDiscover()
        m.options.append(DHCPOption(.userClass, string: "iPXE"))
        XCTAssertEqual(try XCTUnwrap(respond(&r, m)).message.bootFileName, "boot.ipxe")
    }

    func testProxyOfferCarriesNoAddressNorLease() throws {
        // PXE 2.1 2.2.1: a proxyDHCP offer has yiaddr 0 and no lease, but option 60 and the boot file.
        var r = responder { $0.proxyDHCP = true }
        let reply = try XCTUnwrap(respond(&r, pxeDiscover()))
        XCTAssertEqual(reply.message.messageType, .offer)
        XCTAssertEqual(reply.message.yourIP, .any)
        XCTAssertNil(reply.message.option(.leaseTime))
        XCTAssertNil(reply.message.option(.subnetMask))
        XCTAssertEqual(reply.message.stringOption(.vendorClassIdentifier), "PXEClient")
        XCTAssertEqual(reply.message.bootFileName, "pxelinux.0")
        XCTAssertTrue(reply.destination.ip.isBroadcast)
    }

    func testProxyIgnoresAddressRequests() {
        var r = responder { $0.proxyDHCP = true }
        var req = pxeDiscover(type: .request)
        req.options.append(DHCPOption(.requestedIPAddress, address: IPv4Address(10, 0, 2, 50)))
        XCTAssertNil(respond(&r, req))
    }

    func testProxyIgnoresNonPXEClientsEvenWhenAllAreAnswered() {
        var r = responder { $0.proxyDHCP = true; $0.pxeClientsOnly = false }
        var m = pxeDiscover()
        m.options.removeAll { $0.code == .vendorClassIdentifier }
        XCTAssertNil(respond(&r, m))
    }

    func testRequestOnPort4011GetsAckWithBootFile() throws {
        // PXE 2.1 2.2.4: the client unicasts a DHCPREQUEST to 4011 and gets a DHCPACK from 4011.
        var r = responder { $0.proxyDHCP = true }
        var req = pxeDiscover(type: .request)
        req.clientIP = IPv4Address(10, 0, 2, 50)
        let reply = try XCTUnwrap(r.respond(to: req, from: UDPEndpoint(mac: client.mac, ip: req.clientIP, port: 4011),
                                            localPort: 4011, now: 0) { _ in })
        XCTAssertEqual(reply.message.messageType, .ack)
        XCTAssertEqual(reply.message.bootFileName, "pxelinux.0")
        XCTAssertEqual(reply.sourcePort, 4011)
        XCTAssertEqual(reply.destination.ip, req.clientIP)
        XCTAssertEqual(reply.destination.port, 4011)
    }

    func testReplyIsUnicastToYiaddrUnlessBroadcastRequested() throws {
        // RFC 2131 4.1: broadcast bit set -> 255.255.255.255; else unicast to yiaddr at chaddr.
        var r = responder()
        var m = pxeDiscover()
        let unicast = try XCTUnwrap(respond(&r, m))
        XCTAssertEqual(unicast.destination.ip, unicast.message.yourIP)
        XCTAssertEqual(unicast.destination.mac, client.mac)
        m.flags = 0x8000
        let broadcast = try XCTUnwrap(respond(&r, m))
        XCTAssertTrue(broadcast.destination.ip.isBroadcast)
        XCTAssertTrue(broadcast.destination.mac.isBroadcast)
    }

    func testReplyToAClientWithAnAddressGoesToCiaddr() throws {
        var r = responder()
        _ = respond(&r, pxeDiscover())
        var renew = pxeDiscover(type: .request)
        renew.clientIP = IPv4Address(10, 0, 2, 100)
        let reply = try XCTUnwrap(respond(&r, renew))
        XCTAssertEqual(reply.message.messageType, .ack)
        XCTAssertEqual(reply.destination.ip, renew.clientIP)
    }
}

final class PlainDHCPTests: XCTestCase {
    func testWithoutBootServiceTheOfferCarriesNoBootInformation() throws {
        // Beside a proxyDHCP, the address server must not look like a PXE boot server:
        // no siaddr, no file, no option 60 "PXEClient" or 43 (PXE 2.1 2.2.1).
        var c = makeConfiguration(root: "/tmp")
        c.bootService = false
        var r = DHCPResponder(configuration: c)
        let client = UDPEndpoint(mac: MACAddress(0x52, 0x54, 0, 0x12, 0x34, 0x56), ip: .any, port: 68)
        let m = try XCTUnwrap(r.respond(to: pxeDiscover(), from: client, localPort: 67, now: 0) { _ in }).message
        XCTAssertEqual(m.messageType, .offer)
        XCTAssertEqual(m.yourIP, IPv4Address(10, 0, 2, 100))
        XCTAssertEqual(m.serverIP, .any)
        XCTAssertEqual(m.bootFileName, "")
        XCTAssertNil(m.option(.vendorClassIdentifier))
        XCTAssertNil(m.option(.vendorSpecific))
        XCTAssertNil(m.option(.bootfileName))
        XCTAssertEqual(m.uint32Option(.leaseTime), 3600)
    }

    func testWithoutBootServicePort4011IsNotAnswered() {
        var c = makeConfiguration(root: "/tmp")
        c.bootService = false
        var r = DHCPResponder(configuration: c)
        var req = pxeDiscover(type: .request)
        req.clientIP = IPv4Address(10, 0, 2, 50)
        XCTAssertNil(r.respond(to: req, from: UDPEndpoint(mac: .broadcast, ip: req.clientIP, port: 4011), localPort: 4011, now: 0) { _ in })
    }
}
