import ArgumentParser
import Board
import BootServer
import Bridge
import Glibc
import NICCore
import NICSim
import Wire

/// `nicsim serve`: the BootServer alone, for real clients on a host
/// interface or QEMU guests on a stream socket. Logs each lease and
/// transfer; runs until interrupted.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the embedded PXE boot server (DHCP, proxyDHCP, TFTP, IPv6 router advertisements).",
        discussion: """
            QEMU guests join with: qemu-system-x86_64 -netdev stream,id=n0,server=off,addr.type=unix,addr.path=PATH \
            -device rtl8139,netdev=n0 -boot n
            """
    )

    @Option(help: "Directory served read-only over TFTP (not used with --dhcp-only, which serves no TFTP).")
    var dir: String?

    @OptionGroup(title: "Host network (one of these or --qemu-socket)")
    var host: HostNetworkOptions

    @Option(name: .customLong("qemu-socket"), help: "Listen on this UNIX socket with QEMU's stream framing.")
    var qemuSocket: String?

    @Flag(help: "proxyDHCP: answer beside an existing DHCP server with boot data only (ports 67 and 4011).")
    var proxy = false

    @Option(help: "Address pool A-B, e.g. 10.0.2.100-10.0.2.199.")
    var range: String = "10.0.2.100-10.0.2.199"

    @Option(name: .customLong("server-ip"), help: "The server's own address (default: .2 in the pool's /24).")
    var serverIP: String?

    @Option(help: "Subnet mask sent in option 1.")
    var netmask: String = "255.255.255.0"

    @Option(help: "Router sent in option 3.")
    var router: String?

    @Option(name: .customLong("server-mac"), help: "The server's MAC address.")
    var serverMAC: String = "02:6e:69:63:73:01"

    @Option(name: .customLong("boot-file"), help: "Boot file for BIOS clients.")
    var bootFile: String = "pxelinux.0"

    @Option(name: .customLong("efi-boot-file"), help: "Boot file for EFI clients (option 93).")
    var efiBootFile: String?

    @Option(name: .customLong("ipxe-boot-file"), help: "Boot file for clients already running iPXE (option 175 / user class iPXE).")
    var ipxeBootFile: String?

    @Flag(name: .customLong("any-client"), help: "Answer clients that don't send option 60 \"PXEClient\".")
    var anyClient = false

    @Flag(name: .customLong("dhcp-only"), help: "Plain DHCP: addresses only, no boot information and no TFTP (to run beside a proxyDHCP).")
    var dhcpOnly = false

    @Flag(name: .customLong("no-router-advertisements"),
          help: "Don't answer IPv6 Router Solicitations (by default an empty Router Advertisement ends a client's router discovery).")
    var noRouterAdvertisements = false

    func validate() throws {
        if proxy && dhcpOnly { throw ValidationError("--proxy and --dhcp-only exclude each other") }
        if dir == nil && !dhcpOnly { throw ValidationError("give --dir DIR, the directory served over TFTP (or --dhcp-only to serve none)") }
        guard host.isRequested != (qemuSocket != nil) else {
            throw ValidationError("give one of --bridge IFACE, --tap NAME or --qemu-socket PATH")
        }
        _ = try parsedPool()
    }

    func parsedPool() throws -> ClosedRange<IPv4Address> {
        let parts = range.split(separator: "-")
        guard parts.count == 2, let a = IPv4Address(String(parts[0])), let b = IPv4Address(String(parts[1])), a <= b else {
            throw ValidationError("--range must be A-B with A <= B, e.g. 10.0.2.100-10.0.2.199")
        }
        return a...b
    }

    func makeConfiguration() throws -> BootServerConfiguration {
        let pool = try parsedPool()
        guard let mac = MACAddress(serverMAC) else { throw ValidationError("--server-mac must look like 02:00:00:00:00:01") }
        guard let mask = IPv4Address(netmask) else { throw ValidationError("--netmask must be dotted-quad") }
        let ip: IPv4Address
        if let serverIP {
            guard let parsed = IPv4Address(serverIP) else { throw ValidationError("--server-ip must be dotted-quad") }
            ip = parsed
        } else {
            ip = IPv4Address(rawValue: pool.lowerBound.rawValue & 0xFFFF_FF00 | 2)
        }
        // A plain DHCP server hands out no boot file, so it serves no TFTP:
        // it would otherwise read --dir as root for anyone on the link.
        var c = BootServerConfiguration(mac: mac, ip: ip, subnetMask: mask, pool: pool, tftpRoot: dhcpOnly ? nil : dir)
        if let router {
            guard let r = IPv4Address(router) else { throw ValidationError("--router must be dotted-quad") }
            c.router = r
        }
        c.proxyDHCP = proxy
        c.pxeClientsOnly = !anyClient && !dhcpOnly
        c.bootService = !dhcpOnly
        c.biosBootFile = bootFile
        c.efiBootFile = efiBootFile
        c.ipxeBootFile = ipxeBootFile
        c.routerAdvertisements = !noRouterAdvertisements
        return c
    }

    func run() throws {
        let configuration = try makeConfiguration()
        let clock = VirtualClock()
        let server: BootServer
        do { server = try BootServer(configuration: configuration, clock: clock) } catch {
            throw CLIError(description: "\(error.description); give an existing directory with --dir")
        }
        server.onEvent = { emit($0.description) }
        // What each client fetched, for the stop summary.
        server.tftp?.records = TFTPTransferRecords()
        StopSignal.install()

        // The backend is the transmitter of the server's port and offers it
        // what arrives; the loop polls it and keeps the clock on real time.
        var sources: [EventSource] = []
        var hostLink: HostLink?
        let mode = configuration.proxyDHCP ? "proxyDHCP" : (configuration.bootService ? "DHCP" : "plain DHCP")
        let tftp = server.tftp.map { "TFTP root \($0.root.path)" } ?? "no TFTP"
        if dhcpOnly, dir != nil { emit("serve: --dhcp-only serves no TFTP; --dir is not used") }
        if let qemuSocket {
            let socket: QEMUSocket
            do { socket = try QEMUSocket(.listen(.unix(path: qemuSocket)), port: server.port) } catch {
                throw CLIError(description: "can't listen on \(qemuSocket): \(error)")
            }
            socket.log = { emit("qemu: \($0)") }
            sources.append(socket)
            emit("serve: \(mode) \(configuration.ip) on \(qemuSocket), \(tftp)")
        } else if let link = try host.open(port: server.port, macAddress: configuration.mac) {
            hostLink = link
            sources.append(link)
            emit("serve: \(mode) \(configuration.ip) on \(host.name ?? link.interface) (\(link.addressFilter)), \(tftp)")
        }
        try host.dropPrivileges()

        let wall = MonotonicClock()
        while StopSignal.raised == 0 {
            clock.advance(to: wall.elapsed)
            var worked = false
            for source in sources where source.poll() { worked = true }
            // Idle: wait a millisecond of real time rather than spin.
            if !worked { usleep(1000) }
        }
        let t = server.tftp?.counters ?? TFTPServer.Counters()
        emit("serve: stopped; \(server.counters.dhcpReplies) DHCP replies, \(t.completed) transfers completed, \(t.failed) failed, "
              + "\(t.bytesSent) bytes sent, \(t.retransmissions) retransmissions, "
              + "\(server.counters.routerAdvertisements) router advertisements")
        if let hostLink { emit("serve: \(HostLinkReport(hostLink).summary)") }
        for line in Self.fetchedSummary(server.tftp?.records ?? TFTPTransferRecords()) { emit(line) }
        _ = sources
    }

    /// The stop summary's files part: per client MAC, in the order clients
    /// first asked, each file it fetched whole (size and SHA-256) and each
    /// transfer that failed, as `boot` prints them.
    static func fetchedSummary(_ records: TFTPTransferRecords) -> [String] {
        var clients: [MACAddress] = []
        var byClient: [MACAddress: [TFTPTransferRecord]] = [:]
        for r in records.entries {
            if byClient[r.client] == nil { clients.append(r.client) }
            byClient[r.client, default: []].append(r)
        }
        var lines: [String] = []
        for mac in clients {
            let entries = byClient[mac] ?? []
            let (files, failed) = TransferReport.split(entries)
            lines.append("serve: \(mac) (\(entries.last?.clientIP.description ?? "?")) fetched \(files.count) files, \(failed.count) failed")
            lines += TransferReport.lines(files: files, failed: failed, notListed: nil).map { "  " + $0 }
        }
        if records.overflow > 0 { lines.append("serve: \(records.overflow) more transfers not listed") }
        return lines
    }
}
