#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Bridge
import NICCore

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

    /// True when a host interface or TAP is asked for.
    var isRequested: Bool { bridge != nil || tap != nil }

    /// How summaries name the link.
    var name: String? {
        if let bridge { return "host interface \(bridge)" }
        if let tap { return attach.map { "TAP \(tap) in bridge \($0)" } ?? "TAP \(tap)" }
        return nil
    }

    /// Opens the link asked for onto `port` (which it becomes the
    /// transmitter of), or nil when none is. A bridged interface where a
    /// TAP would serve better gets one line of advice on stderr.
    func open(port: FramePort, macAddress: MACAddress) throws(CLIError) -> HostLink? {
        if let bridge {
            if let advice = InterfaceInfo.bridgeAdvice(for: bridge) { warn(advice) }
            do {
                return try LiveCapture(interface: bridge, macAddress: macAddress, port: port, promiscuous: promiscuous,
                                       completeChecksums: !noChecksumCompletion)
            } catch { throw CLIError(description: error.description) }
        }
        if let tap {
            do {
                return try TapDevice(name: tap, port: port, attach: attach, completeChecksums: !noChecksumCompletion)
            } catch { throw CLIError(description: error.description) }
        }
        return nil
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

/// What a summary says of the host link: the interface, how its filter
/// admits the client, and the frames and completed checksums that crossed it.
struct HostLinkReport: Encodable {
    var interface: String
    var addressFilter: String
    var framesIn: Int
    var framesOut: Int
    var checksumsCompleted: Int
    /// TCP super-frames from the host's segmentation offload, cut to the MTU.
    var framesSegmented: Int
    var injectErrors: Int
    var droppedRingFull: Int
    var droppedMalformed: Int

    init(_ link: HostLink) {
        let c = link.counters
        interface = link.interface
        addressFilter = link.addressFilter.description
        framesIn = c.framesIn
        framesOut = c.framesOut
        checksumsCompleted = c.checksumsCompleted
        framesSegmented = c.framesSegmented
        injectErrors = c.injectErrors
        droppedRingFull = c.droppedRingFull
        droppedMalformed = c.droppedMalformed
    }

    var summary: String {
        var line = "host: \(interface) \(addressFilter); \(framesIn) frames in, \(framesOut) out, \(checksumsCompleted) checksums completed"
        if framesSegmented > 0 { line += ", \(framesSegmented) TCP super-frames segmented" }
        if injectErrors > 0 { line += ", \(injectErrors) send errors" }
        if droppedRingFull + droppedMalformed > 0 { line += ", \(droppedRingFull + droppedMalformed) dropped" }
        return line
    }
}
