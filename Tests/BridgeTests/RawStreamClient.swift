import NICCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain UNIX-socket client for feeding QEMUSocket exact bytes.
final class RawStreamClient {
    let fd: Int32

    init(unixPath: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in unixPath.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw ExternalTool.Failure(description: "connect \(unixPath): \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// A frame with QEMU's 4-byte big-endian length in front.
    static func framed(_ frame: [UInt8]) -> [UInt8] {
        let n = UInt32(frame.count)
        return [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)] + frame
    }

    /// Reads whatever arrives within `seconds` (until the peer closes).
    func receive(seconds: Double) -> (bytes: [UInt8], closed: Bool) {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 50) > 0 else { continue }
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return (out, true) }
            out += buf[0..<n]
        }
        return (out, false)
    }
}

/// Polls `sources` until `condition` holds or `seconds` of wall time pass.
func pollUntil(_ sources: [any AnyObject & PollSource], seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        for s in sources { _ = s.poll() }
        if condition() { return true }
        usleep(1_000)
    }
    return condition()
}

/// Anything with a non-blocking `poll()` (an EventSource).
protocol PollSource { func poll() -> Bool }
