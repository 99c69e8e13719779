import Bridge
import NICCore

/// How a simulated client joins the host's network: a host interface
/// through libpcap (`bridge`) or a TAP device (`tap`, optionally made a
/// port of the Linux bridge `attach`), and what the link does. The CLI's
/// `--bridge`, `--tap`, `--attach`, `--promiscuous` and
/// `--no-checksum-completion` fill one in.
public struct HostLinkOptions: Sendable {
    public var bridge: String?
    public var tap: String?
    public var attach: String?
    /// With `bridge`: promiscuous mode instead of the client's MAC joining the filter.
    public var promiscuous: Bool
    /// Finish the partial TCP/UDP checksums of the host's offloads (`ChecksumOffload`).
    public var completeChecksums: Bool

    public init(bridge: String? = nil, tap: String? = nil, attach: String? = nil,
                promiscuous: Bool = false, completeChecksums: Bool = true) {
        self.bridge = bridge
        self.tap = tap
        self.attach = attach
        self.promiscuous = promiscuous
        self.completeChecksums = completeChecksums
    }

    /// True when a host interface or TAP is asked for.
    public var isRequested: Bool { bridge != nil || tap != nil }

    /// How summaries name the link.
    public var name: String? {
        if let bridge { return "host interface \(bridge)" }
        if let tap { return attach.map { "TAP \(tap) in bridge \($0)" } ?? "TAP \(tap)" }
        return nil
    }

    /// Opens the link asked for onto `port` (which it becomes the
    /// transmitter of), or nil when none is. When `bridge` names an
    /// interface where a TAP would serve better, `advise` gets one line.
    public func open(port: FramePort, macAddress: MACAddress,
                     advise: (String) -> Void = { _ in }) throws(NICSimError) -> HostLink? {
        if let bridge {
            if let advice = InterfaceInfo.bridgeAdvice(for: bridge) { advise(advice) }
            do {
                return try LiveCapture(interface: bridge, macAddress: macAddress, port: port, promiscuous: promiscuous,
                                       completeChecksums: completeChecksums)
            } catch { throw NICSimError(error.description) }
        }
        if let tap {
            do {
                return try TapDevice(name: tap, port: port, attach: attach, completeChecksums: completeChecksums)
            } catch { throw NICSimError(error.description) }
        }
        return nil
    }
}

/// What a summary says of the host link: the interface, how its filter
/// admits the client, and the frames and completed checksums that crossed it.
public struct HostLinkReport: Encodable, Sendable {
    public var interface: String
    public var addressFilter: String
    public var framesIn: Int
    public var framesOut: Int
    public var checksumsCompleted: Int
    /// TCP super-frames from the host's segmentation offload, cut to the MTU.
    public var framesSegmented: Int
    public var injectErrors: Int
    public var droppedRingFull: Int
    public var droppedMalformed: Int

    public init(_ link: HostLink) {
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

    /// The summary line: "host: IFACE FILTER; N frames in, M out, K checksums completed".
    public var summary: String {
        var line = "host: \(interface) \(addressFilter); \(framesIn) frames in, \(framesOut) out, \(checksumsCompleted) checksums completed"
        if framesSegmented > 0 { line += ", \(framesSegmented) TCP super-frames segmented" }
        if injectErrors > 0 { line += ", \(injectErrors) send errors" }
        if droppedRingFull + droppedMalformed > 0 { line += ", \(droppedRingFull + droppedMalformed) dropped" }
        return line
    }
}
