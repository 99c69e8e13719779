import NICCore
import Wire

/// How the embedded boot server answers: its own addresses, the pool it
/// leases from (or none, as a proxyDHCP), the boot files per client kind,
/// and the TFTP root.
public struct BootServerConfiguration: Sendable {
    /// The server's hardware address on its port.
    public var mac: MACAddress
    /// The server's address; also the TFTP server (siaddr, option 54, 66).
    public var ip: IPv4Address
    public var subnetMask: IPv4Address
    /// Option 3; nil sends none.
    public var router: IPv4Address?
    /// Addresses handed out, inclusive. Ignored in proxyDHCP mode.
    public var pool: ClosedRange<IPv4Address>
    /// Option 51, seconds.
    public var leaseTime: UInt32 = 3600
    /// Answer beside another DHCP server: no addresses, only boot
    /// information, on port 67 and 4011.
    public var proxyDHCP = false
    /// Send boot information (siaddr, file, options 66/67, PXE options 60
    /// and 43) and answer on 4011. False makes a plain DHCP server, to run
    /// beside a proxyDHCP that supplies the boot information.
    public var bootService = true
    /// Answer only clients whose option 60 starts with "PXEClient".
    public var pxeClientsOnly = true
    /// Boot file for BIOS clients (option 93 type 0, or absent).
    public var biosBootFile = "pxelinux.0"
    /// Boot file for EFI clients (option 93 types 6, 7, 9, 16); nil falls
    /// back to the BIOS file.
    public var efiBootFile: String?
    /// Boot file for a client already running iPXE (option 175 present or
    /// user class "iPXE"), so a chain-load doesn't loop; nil keeps the
    /// architecture's file.
    public var ipxeBootFile: String?
    /// Boot files by client architecture (option 93, RFC 4578 and the
    /// IANA "Processor Architecture Types" registry: 7 x64 UEFI, 11 ARM64
    /// UEFI, 16 x64 UEFI HTTP, 19 ARM64 UEFI HTTP ...). An entry wins over
    /// `efiBootFile`/`biosBootFile` for its architecture; iPXE clients
    /// still get `ipxeBootFile` when that is set. A file given as an
    /// `http://` URL is sent as it is; otherwise HTTP clients get it as a
    /// URL on this server's HTTP port.
    public var bootFilesByArchitecture: [UInt16: String] = [:]
    /// The TCP port of the built-in HTTP file server, which serves the
    /// TFTP root read-only under the same path rules; nil runs none, and
    /// then UEFI HTTP Boot clients (option 60 "HTTPClient") are not answered.
    public var httpPort: UInt16?
    /// The directory TFTP serves, read-only; nil runs no TFTP server at all
    /// (nothing on port 69 or the transfer ports is answered), as a plain
    /// DHCP server beside a proxyDHCP needs none.
    public var tftpRoot: String?
    /// Answer IPv6 Router Solicitations (RFC 4861 §6.2.6) with a Router
    /// Advertisement from the server's link-local address that offers
    /// nothing: no prefix, M and O clear (no DHCPv6), Router Lifetime 0
    /// (not a default router). A client that configures IPv6 beside IPv4,
    /// as iPXE does, then ends its router discovery at once instead of
    /// soliciting for about 16 seconds. The answer goes out immediately
    /// (one server on the link needs no random delay); answers to
    /// all-nodes are kept at least 3 s apart (MIN_DELAY_BETWEEN_RAS).
    public var routerAdvertisements = true

    public init(mac: MACAddress, ip: IPv4Address, subnetMask: IPv4Address = IPv4Address(255, 255, 255, 0),
                router: IPv4Address? = nil, pool: ClosedRange<IPv4Address>, tftpRoot: String?) {
        self.mac = mac
        self.ip = ip
        self.subnetMask = subnetMask
        self.router = router
        self.pool = pool
        self.tftpRoot = tftpRoot
    }
}
