import NICCore
import UNDI
import Wire
import XCTest

@testable import PXE

/// The PXE client's DHCP against a scripted server: the PXE options, the
/// PXE back-off on the virtual clock, NAK, proxyDHCP and boot-server
/// discovery with option 43.
final class DHCPClientTests: XCTestCase {
    let uuid: [UInt8] = (0..<16).map { UInt8($0 * 17) }

    func testDiscoverCarriesThePXEClientOptions() throws {
        // PXE 2.1 / RFC 4578: 60 "PXEClient:Arch:00000:UNDI:002001", 93 arch 0,
        // 94 UNDI 2.1 (type 1), 97 type 0 + UUID, 57 max size 1260.
        let rig = PXETestRig(uuid: uuid)
        try rig.boot()
        let discover = try XCTUnwrap(rig.peer.dhcpFromClient.first)
        XCTAssertEqual(discover.messageType, .discover)
        XCTAssertEqual(discover.stringOption(.vendorClassIdentifier), "PXEClient:Arch:00000:UNDI:002001")
        XCTAssertEqual(discover.option(.clientArchitecture), [0, 0])
        XCTAssertEqual(discover.option(.clientNetworkInterface), [1, 2, 1])
        XCTAssertEqual(discover.option(.clientMachineIdentifier), [0] + uuid)
        XCTAssertEqual(discover.option(.maximumMessageSize), [0x04, 0xEC])
        XCTAssertTrue(discover.option(.parameterRequestList)?.contains(43) ?? false)
        XCTAssertTrue(discover.option(.parameterRequestList)?.contains(60) ?? false)
        XCTAssertEqual(discover.clientMAC, rig.nic.stationAddress)
    }

    func testWithoutAUUIDNoOption97IsSent() throws {
        let rig = PXETestRig()
        try rig.boot()
        XCTAssertNil(rig.peer.dhcpFromClient.first?.option(.clientMachineIdentifier))
    }

    func testRequestAsksForTheOfferedAddressFromTheOfferingServer() throws {
        let rig = PXETestRig()
        try rig.boot()
        let request = try XCTUnwrap(rig.peer.dhcpFromClient.first { $0.messageType == .request })
        XCTAssertEqual(request.addressOption(.requestedIPAddress), rig.peer.clientAddress)
        XCTAssertEqual(request.addressOption(.serverIdentifier), rig.peer.dhcpServer.ip)
        XCTAssertEqual(request.stringOption(.vendorClassIdentifier), "PXEClient:Arch:00000:UNDI:002001")
    }

    func testAckConfiguresAddressMaskRouterAndBootFile() throws {
        let rig = PXETestRig()
        let r = try rig.boot()
        XCTAssertEqual(r.address, IPv4Address(10, 0, 0, 100))
        XCTAssertEqual(rig.baseCode.ip.subnetMask, IPv4Address(255, 255, 255, 0))
        XCTAssertEqual(rig.baseCode.ip.router, IPv4Address(10, 0, 0, 254))
        XCTAssertEqual(r.bootFile, "pxelinux.0")
        XCTAssertEqual(r.tftpServer, rig.peer.dhcpServer.ip)
    }

    func testALostDiscoverIsSentAgainAfterFourSeconds() throws {
        // PXE 2.1: the first DHCPDISCOVER waits 4 s before the retry.
        let rig = PXETestRig()
        rig.peer.ignoreDiscovers = 1
        try rig.boot()
        let times = rig.peer.dhcpSendTimes
        XCTAssertEqual(rig.peer.dhcpFromClient.filter { $0.messageType == .discover }.count, 2)
        XCTAssertEqual(times[1] - times[0], 4 * VirtualClock.second)
    }

    func testSilentServerGivesDHCPTimeoutAfterTheFourStepBackOff() {
        // 4 + 8 + 16 + 32 s: discovers at 0, 4, 12 and 28 s, giving up at 60 s.
        let rig = PXETestRig()
        rig.peer.dhcpSilent = true
        XCTAssertThrowsError(try rig.boot()) { XCTAssertEqual($0 as? PXEStatus, .dhcpTimeout) }
        let start = rig.peer.dhcpSendTimes[0]
        XCTAssertEqual(rig.peer.dhcpSendTimes.map { ($0 - start) / VirtualClock.second }, [0, 4, 12, 28])
        XCTAssertEqual((rig.clock.now - start) / VirtualClock.second, 60)
    }

    func testSecondsFieldCountsVirtualTimeSinceTheFirstDiscover() throws {
        let rig = PXETestRig()
        rig.peer.ignoreDiscovers = 2
        try rig.boot()
        let discovers = rig.peer.dhcpFromClient.filter { $0.messageType == .discover }
        XCTAssertEqual(discovers.map(\.seconds), [0, 4, 12])
    }

    func testALostRequestIsSentAgain() throws {
        let rig = PXETestRig()
        rig.peer.ignoreRequests = 1
        try rig.boot()
        XCTAssertEqual(rig.peer.dhcpFromClient.filter { $0.messageType == .request }.count, 2)
    }

    func testNakStartsOverWithANewDiscover() throws {
        // RFC 2131 3.1: on DHCPNAK the client restarts configuration.
        let rig = PXETestRig()
        rig.peer.nakFirstRequest = true
        let r = try rig.boot()
        let types = rig.peer.dhcpFromClient.compactMap(\.messageType)
        XCTAssertEqual(types, [.discover, .request, .discover, .request])
        XCTAssertEqual(r.address, rig.peer.clientAddress)
        XCTAssertNotEqual(rig.peer.dhcpFromClient[0].transactionID, rig.peer.dhcpFromClient[2].transactionID)
    }

    func testProxyDHCPOfferSuppliesTheBootFileAndServer() throws {
        // A proxyDHCP offer: option 60 "PXEClient", yiaddr 0.
        let rig = PXETestRig()
        rig.peer.mode = .withProxy
        rig.peer.bootFile = "boot/pxelinux.0"
        let r = try rig.boot()
        XCTAssertNotNil(r.proxyOffer)
        XCTAssertEqual(r.address, rig.peer.clientAddress)
        XCTAssertEqual(r.bootFile, "boot/pxelinux.0")
        XCTAssertEqual(r.tftpServer, rig.peer.proxyServer.ip)
        XCTAssertEqual(r.bootReply.serverIP, rig.peer.proxyServer.ip)
    }

    func testOption43MenuLeadsToBootServerDiscoveryOnPort4011() throws {
        // Sub-options 6 (control), 8 (servers), 9 (menu), 10 (prompt); the
        // request carries 71 with the chosen type and layer 0.
        let rig = PXETestRig()
        rig.peer.mode = .withProxy
        var v = PXEVendorOptions()
        v.discoveryControl = 0x03
        v.bootServers = [.init(type: 0x8000, addresses: [rig.peer.proxyServer.ip])]
        v.bootMenu = [.init(type: 0x8000, description: "Linux install")]
        v.menuPrompt = .init(timeout: 5, prompt: "Press F8")
        rig.peer.vendorOptions = v
        rig.peer.bootServerFiles = [0x8000: "linux/pxelinux.0"]
        let r = try rig.boot()
        let request = try XCTUnwrap(rig.peer.discoveryRequests.first)
        XCTAssertEqual(request.to, rig.peer.proxyServer.ip)
        XCTAssertEqual(request.port, 4011)
        let sent = try PXEVendorOptions(decoding: try XCTUnwrap(request.message.option(.vendorSpecific)))
        XCTAssertEqual(sent.bootItem, .init(type: 0x8000, layer: 0))
        XCTAssertEqual(request.message.clientIP, rig.peer.clientAddress)
        XCTAssertEqual(r.bootItem?.type, 0x8000)
        XCTAssertEqual(r.bootFile, "linux/pxelinux.0")
    }

    func testDiscoveryWithoutAServerListGoesToTheProxyServer() throws {
        let rig = PXETestRig()
        rig.peer.mode = .withProxy
        var v = PXEVendorOptions()
        v.bootMenu = [.init(type: 0x0010, description: "Tools")]
        rig.peer.vendorOptions = v
        rig.peer.bootServerFiles = [0x0010: "tools.0"]
        let r = try rig.boot()
        XCTAssertEqual(rig.peer.discoveryRequests.first?.to, rig.peer.proxyServer.ip)
        XCTAssertEqual(rig.peer.discoveryRequests.first?.port, 4011)
        XCTAssertEqual(r.bootFile, "tools.0")
    }

    func testMenuSelectionPicksTheRequestedItem() throws {
        let rig = PXETestRig()
        rig.peer.mode = .withProxy
        var v = PXEVendorOptions()
        v.bootMenu = [.init(type: 0x0010, description: "Tools"), .init(type: 0x0020, description: "Installer")]
        rig.peer.vendorOptions = v
        rig.peer.bootServerFiles = [0x0010: "tools.0", 0x0020: "install.0"]
        rig.baseCode.dhcp.menuSelection = 0x0020
        XCTAssertEqual(try rig.boot().bootFile, "install.0")
    }

    func testDiscoveryControlBit3TakesTheBootFileWithoutDiscovery() throws {
        // PXE_DISCOVERY_CONTROL bit 3: use the boot file name as given.
        let rig = PXETestRig()
        var v = PXEVendorOptions()
        v.discoveryControl = 0x08
        v.bootMenu = [.init(type: 0x8000, description: "Linux")]
        rig.peer.vendorOptions = v
        let r = try rig.boot()
        XCTAssertTrue(rig.peer.discoveryRequests.isEmpty)
        XCTAssertEqual(r.bootFile, "pxelinux.0")
    }

    func testSilentBootServerGivesNoResponseAfterOneTwoThreeFourSeconds() {
        let rig = PXETestRig()
        rig.peer.mode = .withProxy
        var v = PXEVendorOptions()
        v.bootMenu = [.init(type: 0x8000, description: "Linux")]
        rig.peer.vendorOptions = v
        rig.peer.bootServerSilent = true
        XCTAssertThrowsError(try rig.boot()) { XCTAssertEqual($0 as? PXEStatus, .bootstrapNoResponse) }
        XCTAssertEqual(rig.peer.discoveryRequests.count, 4)
    }

    func testMenuChoiceOfLocalBootEndsTheNetworkBoot() {
        // Boot server type 0 is "local boot".
        let rig = PXETestRig()
        rig.peer.mode = .withProxy
        var v = PXEVendorOptions()
        v.bootMenu = [.init(type: 0, description: "Boot from disk")]
        rig.peer.vendorOptions = v
        XCTAssertThrowsError(try rig.boot()) { XCTAssertEqual($0 as? PXEStatus, .bootstrapPromptMenu) }
    }

    func testAnswerToAnotherTransactionIsIgnored() throws {
        let rig = PXETestRig()
        try rig.boot()
        let xid = rig.peer.dhcpFromClient[0].transactionID
        XCTAssertEqual(rig.peer.dhcpFromClient.filter { $0.messageType == .request }.first?.transactionID, xid)
    }

    func testVendorClassEncodesArchitectureAndUNDIVersion() {
        var id = PXEClientIdentity(architecture: 7)
        id.undiMajor = 3
        id.undiMinor = 10
        XCTAssertEqual(id.vendorClass, "PXEClient:Arch:00007:UNDI:003010")
    }

    func testPlainDHCPOfferWaitsForAProxyThenUsesItsOwnBootFile() throws {
        // An offer without PXE information: listen on for a proxyDHCP
        // (2 s here), then boot from what the DHCP server said.
        let rig = PXETestRig()
        rig.peer.mode = .plain
        let start = rig.clock.now
        let r = try rig.boot()
        XCTAssertNil(r.proxyOffer)
        XCTAssertEqual(r.bootFile, "pxelinux.0")
        XCTAssertGreaterThanOrEqual(rig.clock.now - start, 2 * VirtualClock.second)
        XCTAssertLessThan(rig.clock.now - start, 4 * VirtualClock.second)
    }

    func testPXEAwareOfferIsTakenWithoutWaiting() throws {
        let rig = PXETestRig()
        let start = rig.clock.now
        try rig.boot()
        XCTAssertLessThan(rig.clock.now - start, VirtualClock.second)
    }

    func testMenuPromptTimeoutRunsOutBeforeTheFirstItemIsDiscovered() throws {
        // Sub-option 10: prompt for 5 s; nobody presses a key.
        let rig = PXETestRig()
        rig.peer.mode = .withProxy
        var v = PXEVendorOptions()
        v.bootMenu = [.init(type: 0x8000, description: "Linux")]
        v.menuPrompt = .init(timeout: 5, prompt: "Press F8 for menu")
        rig.peer.vendorOptions = v
        rig.peer.bootServerFiles = [0x8000: "linux.0"]
        try rig.boot()
        let ackAt = try XCTUnwrap(rig.peer.dhcpSendTimes.last)
        let discoveryRequestTime = rig.clock.now
        XCTAssertGreaterThanOrEqual(discoveryRequestTime - ackAt, 5 * VirtualClock.second)
    }

    func testAChosenMenuItemSkipsThePrompt() throws {
        let rig = PXETestRig()
        rig.peer.mode = .withProxy
        var v = PXEVendorOptions()
        v.bootMenu = [.init(type: 0x8000, description: "Linux")]
        v.menuPrompt = .init(timeout: 5, prompt: "Press F8 for menu")
        rig.peer.vendorOptions = v
        rig.peer.bootServerFiles = [0x8000: "linux.0"]
        rig.baseCode.dhcp.menuSelection = 0x8000
        let start = rig.clock.now
        try rig.boot()
        XCTAssertLessThan(rig.clock.now - start, VirtualClock.second)
    }
}
