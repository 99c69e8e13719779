import NICCore
import Wire

/// What the boot server did, for logs and summaries. Each lease and each
/// transfer produces events a user can follow.
public enum BootServerEvent: Sendable, Equatable {
    /// A DHCPOFFER (or proxyDHCP offer) went to `mac`.
    case offered(mac: MACAddress, ip: IPv4Address, bootFile: String)
    /// A DHCPACK bound `ip` to `mac` (ip is 0.0.0.0 for a proxyDHCP ACK).
    case acknowledged(mac: MACAddress, ip: IPv4Address, bootFile: String)
    case declined(mac: MACAddress, ip: IPv4Address)
    case released(mac: MACAddress, ip: IPv4Address)
    /// A DHCPNAK, with why.
    case refused(mac: MACAddress, reason: String)
    /// A DHCP message left unanswered, with why (not a PXEClient, another
    /// server chosen, pool exhausted ...).
    case ignored(mac: MACAddress, reason: String)
    case transferStarted(client: IPv4Address, file: String, size: Int, blockSize: Int, windowSize: Int)
    case transferCompleted(client: IPv4Address, file: String, size: Int, retransmissions: Int)
    case transferFailed(client: IPv4Address, file: String, reason: String)
    /// The HTTP server's response to `method path` was acknowledged
    /// whole by the client: `status`, and `size` body bytes.
    case httpServed(client: IPv4Address, method: String, path: String, status: Int, size: Int)
    /// An HTTP connection ended before its response was delivered.
    case httpFailed(client: IPv4Address, path: String, reason: String)
    /// A Router Advertisement answered `mac`'s Router Solicitation; sent
    /// to `to` (the solicitor, or all-nodes when it had no address).
    case routerAdvertised(mac: MACAddress, to: IPv6Address)
}

extension BootServerEvent: CustomStringConvertible {
    /// One log line. File names and reasons can carry a peer's text (the
    /// name in a read request, a client's ERROR message): they are escaped
    /// (`TerminalSafe`) so the line stays one line with no escape sequence.
    public var description: String {
        let safe: (String) -> String = TerminalSafe.escaping(_:)
        return switch self {
        case let .offered(mac, ip, file): "dhcp: offer \(ip) to \(mac) file \(file.isEmpty ? "-" : safe(file))"
        case let .acknowledged(mac, ip, file): "dhcp: ack \(ip) to \(mac) file \(file.isEmpty ? "-" : safe(file))"
        case let .declined(mac, ip): "dhcp: \(mac) declined \(ip)"
        case let .released(mac, ip): "dhcp: \(mac) released \(ip)"
        case let .refused(mac, reason): "dhcp: nak to \(mac): \(safe(reason))"
        case let .ignored(mac, reason): "dhcp: ignored \(mac): \(safe(reason))"
        case let .transferStarted(client, file, size, blksize, window):
            "tftp: \(client) reads \(safe(file)) (\(size) bytes, blksize \(blksize), windowsize \(window))"
        case let .transferCompleted(client, file, size, retransmissions):
            "tftp: sent \(safe(file)) to \(client) (\(size) bytes, \(retransmissions) retransmissions)"
        case let .transferFailed(client, file, reason): "tftp: \(client) \(safe(file)): \(safe(reason))"
        case let .httpServed(client, method, path, status, size):
            "http: \(client) \(safe(method)) \(safe(path)) \(status) (\(size) bytes)"
        case let .httpFailed(client, path, reason): "http: \(client) \(safe(path)): \(safe(reason))"
        case let .routerAdvertised(mac, to): "ndp: router advertisement to \(to) for \(mac) (no prefix, not a default router)"
        }
    }
}
