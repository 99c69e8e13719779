import NICCore
@testable import QTest
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class DatagramNetdevTests: XCTestCase {
    /// On a datagram socket QEMU sends one frame per datagram, no prefix.
    func testOneFramePerDatagramBothWays() {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0, &fds), 0)
        defer { close(fds[1]) }
        let port = FramePort()
        let receiver = RecordingReceiver()
        port.receiver = receiver
        let netdev = DatagramNetdev(port: port, fd: fds[0])
        defer { netdev.close() }
        for frame: [UInt8] in [[1, 2, 3], [4, 5]] {
            _ = frame.withUnsafeBytes { send(fds[1], $0.baseAddress, $0.count, 0) }
        }
        XCTAssertTrue(netdev.poll())
        XCTAssertEqual(receiver.frames, [[1, 2, 3], [4, 5]])
        [UInt8](arrayLiteral: 7, 8, 9, 10).withUnsafeBytes { port.transmit($0) }
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = recv(fds[1], &buffer, buffer.count, 0)
        XCTAssertEqual(Array(buffer[0..<max(n, 0)]), [7, 8, 9, 10])
    }
}
