#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import NICCore

/// Counters of a link to the host's network (a libpcap capture or a TAP
/// device).
public struct HostLinkCounters: Sendable, Equatable {
    /// Frames received from the host and handed to the port.
    public var framesIn = 0
    public var bytesIn = 0
    /// Frames sent to the host.
    public var framesOut = 0
    /// Frames the host refused (too big for the interface, interface gone).
    public var injectErrors = 0
    /// Frames lost because the Board's loop fell behind the capture thread.
    public var droppedRingFull = 0
    /// Arriving frames whose partial TCP/UDP checksum was finished
    /// (`ChecksumOffload`): what the sending NIC would have done.
    public var checksumsCompleted = 0
    /// Arriving TCP super-frames (the sender's segmentation offload) cut
    /// into wire-sized segments (`SegmentationOffload`).
    public var framesSegmented = 0
    /// Arriving frames refused as malformed (a TAP frame with a bad
    /// virtio-net header, or larger than the link's buffer).
    public var droppedMalformed = 0
    public init() {}
}

/// How a host interface's own address filter lets the guest's frames in.
public enum HostAddressFilter: Sendable, Equatable, CustomStringConvertible {
    /// The guest's MAC is an entry in the interface's unicast address list.
    case unicast(MACAddress)
    /// The interface is in promiscuous mode (asked for by the user or the guest).
    case promiscuous
    /// The interface hands every frame to packet sockets (veth, tap): no
    /// entry is needed.
    case passesEverything(driver: String)

    public var description: String {
        switch self {
        case .unicast(let mac): "not promiscuous, \(mac) in its unicast filter"
        case .promiscuous: "promiscuous"
        case .passesEverything(let driver): "not promiscuous (\(driver.isEmpty ? "virtual" : driver) device passes every frame)"
        }
    }
}

/// A backend that joins a NIC's port to the host's network: a libpcap
/// capture on an interface (`LiveCapture`) or a TAP device (`TapDevice`).
/// The Board's loop polls it; it follows the guest's station address and
/// promiscuous mode.
public protocol HostLink: FrameTransmitter, EventSource {
    /// The host interface's name.
    var interface: String { get }
    var counters: HostLinkCounters { get }
    /// Why the link stopped (the interface went down or away), once it has.
    var failure: String? { get }
    /// How the interface's address filter admits the guest's frames.
    var addressFilter: HostAddressFilter { get }
    /// Follows the guest: its station address and promiscuous request.
    func update(macAddress: MACAddress, promiscuous: Bool)
}

/// Facts about host interfaces, read through the kernel's interfaces
/// (ioctl, sysfs, procfs) in the calling thread's network namespace.
public enum InterfaceInfo {
    /// The interface's driver name (ETHTOOL_GDRVINFO: "veth", "tun",
    /// "bridge", "e1000e"), or nil when it can't be read.
    public static func driver(of name: String) -> String? {
        let sock = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard sock >= 0 else { return nil }
        defer { close(sock) }
        var buffer = [CChar](repeating: 0, count: 32)
        guard nicsim_if_driver_name(sock, name, &buffer) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The interface's MTU (SIOCGIFMTU), or nil when it can't be read.
    public static func mtu(of name: String) -> Int? {
        let sock = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard sock >= 0 else { return nil }
        defer { close(sock) }
        let mtu = nicsim_if_mtu(sock, name)
        return mtu > 0 ? Int(mtu) : nil
    }

    /// Devices that hand every frame on their wire to packet sockets,
    /// whatever its destination: a veth end receives whatever its peer
    /// sends, a tap whatever its reader writes. Neither has a unicast
    /// filter (IFF_UNICAST_FLT), so an address entry would only make the
    /// kernel turn promiscuous mode on.
    public static func passesEveryFrame(driver: String) -> Bool {
        driver == "veth" || driver == "tun"
    }

    /// True when `name` is a Linux bridge (its driver is "bridge"; asked
    /// through a socket, so the answer is the calling thread's namespace's,
    /// which sysfs is not).
    public static func isBridge(_ name: String) -> Bool {
        driver(of: name) == "bridge"
    }

    /// The IPv4 addresses assigned to `name` (getifaddrs).
    public static func ipv4Addresses(of name: String) -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var found: [String] = []
        var entry = list
        while let e = entry {
            defer { entry = e.pointee.ifa_next }
            guard let addr = e.pointee.ifa_addr, addr.pointee.sa_family == sa_family_t(AF_INET),
                  String(cString: e.pointee.ifa_name) == name else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                var a = sin.pointee.sin_addr
                _ = inet_ntop(AF_INET, &a, &text, socklen_t(text.count))
            }
            found.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return found
    }

    /// True when a process on this host (in this network namespace) has a
    /// UDP socket bound to one of `ports` (from /proc/net/udp): a DHCP or
    /// TFTP server running here.
    public static func hasLocalUDPListener(ports: Set<UInt16>) -> Bool {
        guard let f = fopen("/proc/net/udp", "r") else { return false }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), f) != nil {
            // "  sl  local_address rem_address ...": local is HEXIP:HEXPORT.
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 2, let colon = fields[1].lastIndex(of: ":"),
                  let port = UInt16(fields[1][fields[1].index(after: colon)...], radix: 16) else { continue }
            if ports.contains(port) { return true }
        }
        return false
    }

    /// One line for a user who bridged to `name` where the server they
    /// want may be on this very host, which a capture can't reach; nil
    /// when nothing suggests it.
    public static func bridgeAdvice(for name: String) -> String? {
        let tapHint = "use --tap NAME --attach BRIDGE to plug the client into a Linux bridge"
        if isBridge(name) {
            return "\(name) is a Linux bridge: a capture on it sees only what the bridge hands this host, and frames "
                + "this host sends itself (a DHCP/TFTP server here) never arrive; \(tapHint)"
        }
        if !ipv4Addresses(of: name).isEmpty, hasLocalUDPListener(ports: [67, 69]) {
            return "a DHCP or TFTP server runs on this host and \(name) has an address of its own: frames the host "
                + "sends itself never reach a capture on \(name), so a server here is invisible to --bridge; \(tapHint)"
        }
        return nil
    }
}

/// Keeps a host link's address filter on the card's: polled by the Board's
/// loop, it hands the link each new station address (a guest that writes
/// RTL8139 IDR, DP8390 PAR or sends virtio's CTRL_MAC_ADDR_SET) and each
/// change of the guest's promiscuous request. An all-zero or group address
/// (a driver half-way through programming the registers) is not followed.
public final class StationFollower: EventSource {
    private let card: StationFilterSource
    private let link: HostLink
    private var last: StationFilter?

    public init(card: StationFilterSource, link: HostLink) {
        self.card = card
        self.link = link
    }

    public func poll() -> Bool {
        var now = card.stationFilter
        if now.address.rawValue == 0 || now.address.isMulticast {
            guard let last else { return false }
            now.address = last.address
        }
        guard now != last else { return false }
        last = now
        link.update(macAddress: now.address, promiscuous: now.promiscuous)
        return false
    }
}
