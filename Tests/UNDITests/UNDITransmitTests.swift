import Board
import NICCore
import XCTest

@testable import UNDI

/// PXENV_UNDI_TRANSMIT: with P_UNKNOWN the caller's buffer is the whole
/// frame; with P_IP, P_ARP and P_RARP the UNDI writes the 14-byte media
/// header (XMT_DESTADDR: DestAddr; XMT_BROADCAST: ff:ff:ff:ff:ff:ff).
/// Frames are padded to the 60-byte Ethernet minimum.
final class UNDITransmitTests: XCTestCase {
    let peer = MACAddress(0x02, 0x11, 0x22, 0x33, 0x44, 0x55)

    func testUnknownProtocolSendsTheCallersFrameUnchanged() {
        let (undi, driver) = makeUNDI()
        let frame = ethernetFrame(to: peer, type: 0x88B5, length: 80)
        let status = frame.withUnsafeBytes { undi.transmit(protocol: .unknown, fragments: [$0]) }
        XCTAssertEqual(status, .success)
        XCTAssertEqual(driver.transmitted, [frame])
    }

    func testIPProtocolBuildsTheHeaderToDestAddr() {
        let (undi, driver) = makeUNDI()
        let payload = [UInt8](repeating: 0x45, count: 100)
        let status = payload.withUnsafeBytes { undi.transmit(protocol: .ip, destination: peer, fragments: [$0]) }
        XCTAssertEqual(status, .success)
        let sent = driver.transmitted[0]
        XCTAssertEqual(Array(sent[0..<6]), peer.bytes)
        XCTAssertEqual(Array(sent[6..<12]), driver.stationAddress.bytes)
        XCTAssertEqual(Array(sent[12..<14]), [0x08, 0x00])
        XCTAssertEqual(Array(sent[14...]), payload)
    }

    func testARPProtocolWithBroadcastFlagGoesToAllOnes() {
        let (undi, driver) = makeUNDI()
        let payload = [UInt8](repeating: 1, count: 28)
        XCTAssertEqual(payload.withUnsafeBytes { undi.transmit(protocol: .arp, broadcast: true, destination: peer, fragments: [$0]) }, .success)
        let sent = driver.transmitted[0]
        XCTAssertEqual(Array(sent[0..<6]), MACAddress.broadcast.bytes)
        XCTAssertEqual(Array(sent[12..<14]), [0x08, 0x06])
    }

    func testRARPProtocolUsesEtherType8035() {
        let (undi, driver) = makeUNDI()
        let payload = [UInt8](repeating: 2, count: 28)
        XCTAssertEqual(payload.withUnsafeBytes { undi.transmit(protocol: .rarp, broadcast: true, fragments: [$0]) }, .success)
        XCTAssertEqual(Array(driver.transmitted[0][12..<14]), [0x80, 0x35])
    }

    func testShortFramesArePaddedWithZerosTo60Bytes() {
        let (undi, driver) = makeUNDI()
        let payload: [UInt8] = [0xAA, 0xBB]
        XCTAssertEqual(payload.withUnsafeBytes { undi.transmit(protocol: .ip, destination: peer, fragments: [$0]) }, .success)
        XCTAssertEqual(driver.transmitted[0].count, 60)
        XCTAssertEqual(Array(driver.transmitted[0][14..<16]), payload)
        XCTAssertTrue(driver.transmitted[0][16...].allSatisfy { $0 == 0 })
    }

    func testFragmentListIsGatheredInOrder() {
        // A TBD: the immediate buffer then up to MAX_DATA_BLKS data blocks.
        let (undi, driver) = makeUNDI()
        let a = [UInt8](repeating: 1, count: 20), b = [UInt8](repeating: 2, count: 30), c = [UInt8](repeating: 3, count: 40)
        let status = a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in c.withUnsafeBytes { pc in
            undi.transmit(protocol: .ip, destination: peer, fragments: [pa, pb, pc])
        } } }
        XCTAssertEqual(status, .success)
        XCTAssertEqual(Array(driver.transmitted[0][14...]), a + b + c)
    }

    func testOversizedFrameIsInvalidParameterAndNothingIsSent() {
        let (undi, driver) = makeUNDI()
        let payload = [UInt8](repeating: 0, count: 1501)
        XCTAssertEqual(payload.withUnsafeBytes { undi.transmit(protocol: .ip, destination: peer, fragments: [$0]) }, .undiInvalidParameter)
        XCTAssertTrue(driver.transmitted.isEmpty)
    }

    func testFullSizeIPPayloadOf1500BytesIsSent() {
        let (undi, driver) = makeUNDI()
        let payload = [UInt8](repeating: 7, count: 1500)
        XCTAssertEqual(payload.withUnsafeBytes { undi.transmit(protocol: .ip, destination: peer, fragments: [$0]) }, .success)
        XCTAssertEqual(driver.transmitted[0].count, 1514)
    }

    func testUnknownProtocolShorterThanAMediaHeaderIsInvalidParameter() {
        let (undi, driver) = makeUNDI()
        let frame = [UInt8](repeating: 0, count: 10)
        XCTAssertEqual(frame.withUnsafeBytes { undi.transmit(protocol: .unknown, fragments: [$0]) }, .undiInvalidParameter)
        XCTAssertTrue(driver.transmitted.isEmpty)
    }

    func testTransmitBeforeOpenIsInvalidState() {
        let (undi, _) = makeUNDI(upTo: .initialized)
        let payload = [UInt8](repeating: 0, count: 50)
        XCTAssertEqual(payload.withUnsafeBytes { undi.transmit(protocol: .ip, destination: peer, fragments: [$0]) }, .undiInvalidState)
    }

    func testTransmitCountsInStatistics() throws {
        let (undi, _) = makeUNDI()
        let payload = [UInt8](repeating: 0, count: 50)
        _ = payload.withUnsafeBytes { undi.transmit(protocol: .ip, destination: peer, fragments: [$0]) }
        XCTAssertEqual(try undi.statistics().transmitGoodFrames, 1)
    }
}
