#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a QEMU socket netdev listens or connects.
public enum SocketEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// A UNIX stream socket at `path` (QEMU: `addr.type=unix,addr.path=...`).
    case unix(path: String)
    /// A TCP socket (QEMU: `addr.type=inet,addr.host=...,addr.port=...`, or
    /// `-netdev socket,listen=|connect=host:port`).
    case tcp(host: String, port: UInt16)

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): "tcp:\(host):\(port)"
        }
    }

    /// Parses `unix:/path`, `tcp:host:port` or `host:port`.
    public init?(_ text: String) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return nil }
            self = .unix(path: path)
            return
        }
        let rest = text.hasPrefix("tcp:") ? String(text.dropFirst(4)) : text
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]) else { return nil }
        var host = String(rest[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self = .tcp(host: host.isEmpty ? "0.0.0.0" : host, port: port)
    }
}

/// A socket address ready for bind/connect, resolved from an endpoint.
struct ResolvedAddress {
    var storage = sockaddr_storage()
    var length: socklen_t = 0
    var family: Int32 = 0

    init(_ endpoint: SocketEndpoint, forListening: Bool) throws(QEMUSocketError) {
        switch endpoint {
        case .unix(let path):
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            let capacity = MemoryLayout.size(ofValue: addr.sun_path)
            guard bytes.count < capacity else {
                throw .badAddress("UNIX socket path \(path) is longer than \(capacity - 1) bytes: use a shorter path")
            }
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
            }
            withUnsafeMutableBytes(of: &storage) { dst in
                withUnsafeBytes(of: addr) { src in dst.copyMemory(from: src) }
            }
            length = socklen_t(MemoryLayout<sockaddr_un>.size)
            family = AF_UNIX
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_flags = forListening ? AI_PASSIVE : 0
            var result: UnsafeMutablePointer<addrinfo>?
            let rc = getaddrinfo(host, String(port), &hints, &result)
            guard rc == 0, let first = result else {
                throw .badAddress("cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
            }
            defer { freeaddrinfo(result) }
            withUnsafeMutableBytes(of: &storage) { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
            }
            length = first.pointee.ai_addrlen
            family = first.pointee.ai_family
        }
    }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }
}
