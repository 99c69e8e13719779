#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Bridge
import NICCore
import NICSim

/// The options that put nicsim on the host's network, shared by `boot`,
/// `serve`, `replay` and `rom run`: a host interface through libpcap
/// (`--bridge`) or a TAP device (`--tap`, optionally in a Linux bridge),
/// and what the link does (promiscuity, checksum completion, the user to
/// run as once everything privileged is open).
struct HostNetworkOptions: ParsableArguments {
    @Option(help: "Join this host interface through libpcap (e.g. eth0, or a veth to a DHCP/TFTP server).")
    var bridge: String?

    @Option(help: "Join the host through this TAP device (created if missing, removed at exit if nicsim created it): reaches servers on this host.")
    var tap: String?

    @Option(help: "With --tap: make the TAP a port of this Linux bridge (e.g. virbr0, or one dnsmasq serves).")
    var attach: String?

    @Flag(help: "With --bridge: put the interface in promiscuous mode (by default only the client's MAC joins its address filter).")
    var promiscuous = false

    @Flag(name: .customLong("no-checksum-completion"),
          help: "Hand frames to the NIC as they arrive, without finishing the partial TCP/UDP checksums of the host's offloads.")
    var noChecksumCompletion = false

    @Option(help: "Drop root to this user once the interface, TAP and sockets are open (as tcpdump -Z does).")
    var user: String?

    func validate() throws {
        if bridge != nil && tap != nil { throw ValidationError("--bridge and --tap can't be used together") }
        if attach != nil && tap == nil { throw ValidationError("--attach needs --tap (it names the bridge the TAP joins)") }
        if promiscuous && bridge == nil { throw ValidationError("--promiscuous needs --bridge") }
        if let user, user.isEmpty { throw ValidationError("--user needs a user name") }
    }

    /// The library's description of the link asked for.
    var link: HostLinkOptions {
        HostLinkOptions(bridge: bridge, tap: tap, attach: attach, promiscuous: promiscuous,
                        completeChecksums: !noChecksumCompletion)
    }

    /// True when a host interface or TAP is asked for.
    var isRequested: Bool { link.isRequested }

    /// How summaries name the link.
    var name: String? { link.name }

    /// Opens the link asked for onto `port`, or nil when none is; advice
    /// about a TAP goes to stderr as a note.
    func open(port: FramePort, macAddress: MACAddress) throws(CLIError) -> HostLink? {
        try link.open(port: port, macAddress: macAddress, advise: warn)
    }

    /// With --user: gives up root (supplementary groups, group, user) once
    /// every privileged handle is open. The handles stay usable.
    func dropPrivileges() throws(CLIError) {
        guard let user else { return }
        try Privileges.drop(to: user)
    }
}

/// Giving up root after the privileged set-up, as tcpdump's -Z does.
enum Privileges {
    static func drop(to user: String) throws(CLIError) {
        guard let entry = getpwnam(user) else {
            throw CLIError(description: "--user \(user): no such user (see /etc/passwd)")
        }
        let uid = entry.pointee.pw_uid
        let gid = entry.pointee.pw_gid
        guard geteuid() == 0 || getuid() == uid else {
            throw CLIError(description: "--user \(user): only root can change user; run nicsim as root or leave out --user")
        }
        guard setgroups(0, nil) == 0 || geteuid() != 0 else {
            throw CLIError(description: "--user \(user): setgroups: \(String(cString: strerror(errno)))")
        }
        guard setgid(gid) == 0 else { throw CLIError(description: "--user \(user): setgid: \(String(cString: strerror(errno)))") }
        guard setuid(uid) == 0 else { throw CLIError(description: "--user \(user): setuid: \(String(cString: strerror(errno)))") }
        // Root must be gone for good: setuid(0) failing proves it.
        guard uid == 0 || setuid(0) != 0 else {
            throw CLIError(description: "--user \(user): root could be regained after dropping it; refusing to run")
        }
    }
}
