import Board
import Bridge
import NICCore
@testable import QTest
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A receiver that keeps what it is offered.
final class RecordingReceiver: FrameReceiver {
    var frames: [[UInt8]] = []
    var room = true
    func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
        guard room else { return .noRoom }
        frames.append(Array(frame))
        return .accepted
    }
    func linkStateDidChange(up: Bool) {}
}

/// qtest's `-netdev socket,fd=N` and `-netdev stream`: the Bridge's
/// `QEMUSocket` adopting the socket, with the NIC's link left alone.
final class StreamNetdevTests: XCTestCase {
    private var peer: Int32 = -1
    private var netdev: QEMUSocket!
    private let receiver = RecordingReceiver()
    private let port = FramePort()

    override func setUp() {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        peer = fds[1]
        port.receiver = receiver
        netdev = try? QEMUSocket(.adopt(fd: fds[0], listening: false), port: port, drivesLink: false)
        netdev?.log = { _ in }
    }

    override func tearDown() {
        netdev.close()
        close(peer)
    }

    private func send(_ bytes: [UInt8]) {
        XCTAssertEqual(bytes.withUnsafeBytes { write(peer, $0.baseAddress, $0.count) }, bytes.count)
    }

    /// QEMU's stream framing: a 4-byte big-endian length, then the frame.
    func testInboundFramesAreSplitOnTheirLengthPrefix() {
        send([0, 0, 0, 3, 0xAA, 0xBB, 0xCC, 0, 0, 0, 2, 0x11, 0x22])
        XCTAssertTrue(netdev.poll())
        XCTAssertEqual(receiver.frames, [[0xAA, 0xBB, 0xCC], [0x11, 0x22]])
    }

    /// A frame that arrives in pieces is delivered once it is whole.
    func testPartialFrameWaitsForTheRest() {
        send([0, 0, 0, 4, 1, 2])
        _ = netdev.poll()
        XCTAssertTrue(receiver.frames.isEmpty)
        send([3, 4])
        _ = netdev.poll()
        XCTAssertEqual(receiver.frames, [[1, 2, 3, 4]])
    }

    /// A length above QEMU's 69,632-byte buffer means the stream is out of
    /// step: the connection closes.
    func testOversizedLengthClosesTheConnection() {
        send([0, 2, 0, 0, 1, 2, 3])
        _ = netdev.poll()
        XCTAssertTrue(receiver.frames.isEmpty)
        XCTAssertEqual(netdev.pollDescriptor, -1)
        XCTAssertEqual(netdev.counters.protocolErrors, 1)
    }

    /// The NIC's link is the machine's business, not the socket's.
    func testTheLinkIsLeftAlone() {
        XCTAssertTrue(port.isLinkUp)
        close(peer)
        peer = -1
        _ = netdev.poll()
        XCTAssertTrue(port.isLinkUp)
    }

    /// The peer hanging up closes the netdev without a crash; later transmits are dropped.
    func testPeerHangupClosesAndDropsTransmits() {
        close(peer)
        peer = -1
        _ = netdev.poll()
        XCTAssertEqual(netdev.pollDescriptor, -1)
        [UInt8](repeating: 0, count: 60).withUnsafeBytes { port.transmit($0) }
        XCTAssertEqual(netdev.counters.droppedNoPeer, 1)
    }

    /// Outbound frames carry the same 4-byte big-endian length prefix.
    func testOutboundFramesAreLengthPrefixed() {
        [UInt8](arrayLiteral: 9, 8, 7).withUnsafeBytes { port.transmit($0) }
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = read(peer, &buffer, buffer.count)
        XCTAssertEqual(Array(buffer[0..<max(n, 0)]), [0, 0, 0, 3, 9, 8, 7])
        XCTAssertEqual(netdev.counters.framesOut, 1)
    }

    /// A frame the NIC can't take now is held by the port, not lost.
    func testFramesTheNICRefusesAreHeldByThePort() {
        receiver.room = false
        send([0, 0, 0, 1, 0x42])
        _ = netdev.poll()
        XCTAssertEqual(port.pendingFrames, 1)
        receiver.room = true
        port.pump()
        XCTAssertEqual(receiver.frames, [[0x42]])
    }
}
