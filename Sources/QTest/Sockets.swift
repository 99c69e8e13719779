#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over the BSD socket calls the qtest channel and the
/// stream netdev need. Each throws one line a user can act on.
enum Sockets {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private static func unixAddress(_ path: String) throws(Failure) -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else { throw Failure(description: "socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            for (i, b) in bytes.enumerated() { p[i] = b }
        }
        return addr
    }

    /// `socket(2)` + `connect(2)` to a UNIX stream socket at `path`.
    static func connectUnix(_ path: String) throws(Failure) -> Int32 {
        var addr = try unixAddress(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard r == 0 else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "cannot connect to \(path): \(e)")
        }
        return fd
    }

    /// `socket(2)` + `bind(2)` + `listen(2)` on a UNIX stream socket at `path`
    /// (an old socket file there is replaced).
    static func listenUnix(_ path: String) throws(Failure) -> Int32 {
        var addr = try unixAddress(path)
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard r == 0, listen(fd, 1) == 0 else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "cannot listen on \(path): \(e)")
        }
        return fd
    }

    /// An IPv4 stream socket connected to, or listening on, `host:port`.
    static func inet(host: String, port: UInt16, listening: Bool) throws(Failure) -> Int32 {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        let name = host == "localhost" || host.isEmpty ? "127.0.0.1" : host
        guard inet_pton(AF_INET, name, &addr.sin_addr) == 1 else {
            throw Failure(description: "'\(host)' is not an IPv4 address")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                listening ? bind(fd, p, socklen_t(MemoryLayout<sockaddr_in>.size)) : connect(fd, p, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard r == 0, !listening || listen(fd, 1) == 0 else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "cannot \(listening ? "listen on" : "connect to") \(host):\(port): \(e)")
        }
        return fd
    }

    /// `getsockopt(SO_TYPE)`: SOCK_STREAM or SOCK_DGRAM, nil when `fd` is not an open socket.
    static func socketType(_ fd: Int32) -> Int32? {
        var type: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 ? type : nil
    }
}

/// O_NONBLOCK on `fd`, so reads in the event loop never wait.
func setNonBlocking(_ fd: Int32) {
    let flags = fcntl(fd, F_GETFL)
    if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
}
