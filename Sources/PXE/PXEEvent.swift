import NICCore
import Wire

/// Progress of a network boot, for a host that shows it (the CLI) or logs
/// it. Reported through `PXEBaseCode.onEvent`.
public enum PXEEvent: Sendable, Equatable {
    /// DHCPDISCOVER sent (attempt 1...4).
    case dhcpDiscover(attempt: Int)
    /// An offer came: an address from a DHCP server, or (address 0.0.0.0)
    /// PXE information from a proxyDHCP.
    case dhcpOffer(server: IPv4Address, address: IPv4Address, proxy: Bool)
    case dhcpRequest(address: IPv4Address, server: IPv4Address)
    case dhcpAck(address: IPv4Address)
    case dhcpNak(server: IPv4Address)
    /// Boot-server discovery request for the chosen menu type.
    case bootServerDiscovery(type: UInt16, server: IPv4Address)
    /// DHCP is done: the boot file and where to fetch it.
    case bootFile(name: String, server: IPv4Address)
    /// A TFTP transfer was accepted (size from tsize, if the server gave it).
    case tftpOpened(file: String, server: IPv4Address, size: UInt32?)
    /// The last block of a file arrived.
    case tftpCompleted(file: String, bytes: Int)
}
