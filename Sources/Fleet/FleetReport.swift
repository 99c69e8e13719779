import Foundation

/// A file a client loaded, with the SHA-256 of the bytes in its memory.
public struct FleetFile: Codable, Equatable, Sendable {
    public var name: String
    public var size: Int
    public var sha256: String
}

/// What one client did: one JSON line of `nicsim fleet --json`. Times are
/// seconds of virtual time from the client's power-on.
public struct FleetClientRecord: Codable, Equatable, Sendable {
    public var index: Int
    public var mac: String
    public var uuid: String
    public var model: String
    /// Power-on, seconds after the fleet's start.
    public var start: Double
    /// "ok" or "failed".
    public var outcome: String
    /// Why it failed: "no offer", "NAK", "TFTP error", "timeout", "no configuration" or "other".
    public var failure: String?
    /// The failure as the client saw it.
    public var detail: String?
    public var ip: String?
    public var server: String?
    public var lease: Double?
    public var nbp: Double?
    public var kernel: Double?
    public var initrd: Double?
    public var dhcpRetransmissions: Int
    public var tftpRetransmissions: Int
    /// NBP, kernel and initrds, hashed from guest memory.
    public var files: [FleetFile]
    /// The client's guest RAM.
    public var ramBytes: Int

    public var succeeded: Bool { outcome == "ok" }
}

/// p50, p95 and p99 (nearest rank) of a set of seconds.
public struct FleetPercentiles: Codable, Equatable, Sendable {
    public var count: Int
    public var p50: Double?
    public var p95: Double?
    public var p99: Double?
    public var max: Double?

    /// Nearest-rank percentiles (the smallest value with at least p% of
    /// the values at or below it), so they are always values that occurred.
    public init(_ values: [Double]) {
        let v = values.sorted()
        count = v.count
        func rank(_ p: Int) -> Double? {
            guard !v.isEmpty else { return nil }
            let r = (p * v.count + 99) / 100
            return v[Swift.max(1, r) - 1]
        }
        p50 = rank(50)
        p95 = rank(95)
        p99 = rank(99)
        self.max = v.last
    }
}

/// The fleet's aggregate: the closing JSON object of `--json`, and what
/// `nicsim fleet merge` recomputes from the shards' client records.
public struct FleetSummary: Codable, Equatable, Sendable {
    public var summary = true
    public var clients: Int
    public var succeeded: Int
    public var failed: Int
    /// Failures by reason.
    public var failures: [String: Int]
    public var distinctAddresses: Int
    public var models: [String: Int]
    public var dhcpRetransmissions: Int
    public var tftpRetransmissions: Int
    public var lease: FleetPercentiles?
    public var nbp: FleetPercentiles?
    public var kernel: FleetPercentiles?
    public var initrd: FleetPercentiles?
    /// Virtual seconds from the first power-on to the last client's end.
    public var span: Double?
    /// Clients booted (kernel and initrds loaded) per virtual second over the span.
    public var throughput: Double?
    /// Bytes loaded by all clients (NBP, kernel, initrds).
    public var bytesLoaded: Int
    /// Guest RAM of one client (the largest, when they differ).
    public var ramBytesPerClient: Int
    /// Timings withheld: the run fell behind real time (see `lagSeconds`).
    public var timingsWithheld: Bool
    /// With a live network: how far virtual time ever fell behind the wall clock.
    public var lagSeconds: Double?

    /// The aggregate of `records`. `lagSeconds`: how far a live run fell
    /// behind real time; `withheld`: leave the timings out (it fell too far).
    public init(records: [FleetClientRecord], lagSeconds: Double? = nil, withheld: Bool = false) {
        clients = records.count
        succeeded = records.filter(\.succeeded).count
        failed = clients - succeeded
        var failures: [String: Int] = [:]
        var models: [String: Int] = [:]
        for r in records {
            if let f = r.failure { failures[f, default: 0] += 1 }
            models[r.model, default: 0] += 1
        }
        self.failures = failures
        self.models = models
        distinctAddresses = Set(records.compactMap(\.ip)).count
        dhcpRetransmissions = records.reduce(0) { $0 + $1.dhcpRetransmissions }
        tftpRetransmissions = records.reduce(0) { $0 + $1.tftpRetransmissions }
        bytesLoaded = records.reduce(0) { $0 + $1.files.reduce(0) { $0 + $1.size } }
        ramBytesPerClient = records.map(\.ramBytes).max() ?? 0
        self.lagSeconds = lagSeconds
        timingsWithheld = withheld
        guard !withheld else { return }
        lease = FleetPercentiles(records.compactMap(\.lease))
        nbp = FleetPercentiles(records.compactMap(\.nbp))
        kernel = FleetPercentiles(records.compactMap(\.kernel))
        initrd = FleetPercentiles(records.compactMap(\.initrd))
        let ends = records.map { r in r.start + ([r.initrd, r.kernel, r.nbp, r.lease].compactMap { $0 }.max() ?? 0) }
        if let first = records.map(\.start).min(), let last = ends.max() {
            let s = last - first
            span = s
            let booted = records.filter { $0.succeeded }.count
            throughput = s > 0 ? Double(booted) / s : nil
        }
    }

    /// Human lines for the terminal.
    public func lines(title: String) -> [String] {
        var out = ["\(title): \(clients) clients, \(succeeded) booted, \(failed) failed, \(distinctAddresses) distinct addresses"]
        if !failures.isEmpty {
            out.append("failures: " + failures.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        out.append("models: " + models.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        out.append("retransmissions: DHCP \(dhcpRetransmissions), TFTP \(tftpRetransmissions)")
        if let lagSeconds { out.append(String(format: "real time: at most %.3f s behind the wall clock", lagSeconds)) }
        if timingsWithheld {
            out.append("timings withheld: the simulation fell behind real time, so its timeouts were not the real ones")
            return out
        }
        func row(_ name: String, _ p: FleetPercentiles?) {
            guard let p, p.count > 0, let a = p.p50, let b = p.p95, let c = p.p99 else { return }
            out.append(String(format: "%@ p50 %.3f s  p95 %.3f s  p99 %.3f s  (%d clients)", name, a, b, c, p.count))
        }
        row("time to lease: ", lease)
        row("time to NBP:   ", nbp)
        row("time to kernel:", kernel)
        row("time to initrd:", initrd)
        if let span, let throughput {
            out.append(String(format: "span %.3f s virtual, %.1f clients booted per second, %d bytes loaded", span, throughput, bytesLoaded))
        }
        out.append("guest RAM per client: \(ramBytesPerClient) bytes")
        return out
    }
}

/// Reading and merging `--json` output.
public enum FleetReportFile {
    /// The client records of one `--json` output (summary lines skipped).
    public static func records(in text: String) throws(FleetError) -> [FleetClientRecord] {
        var out: [FleetClientRecord] = []
        let decoder = JSONDecoder()
        for (n, line) in text.split(separator: "\n").enumerated() where line.hasPrefix("{") {
            if line.contains("\"summary\":true") { continue }
            do {
                out.append(try decoder.decode(FleetClientRecord.self, from: Data(line.utf8)))
            } catch {
                throw .invalid("line \(n + 1) is not a fleet client record")
            }
        }
        return out
    }

    /// Every client once, in index order; the same index twice is an error
    /// (overlapping shards), as is a gap when `complete` is asked for.
    public static func merge(_ sets: [[FleetClientRecord]]) throws(FleetError) -> [FleetClientRecord] {
        var byIndex: [Int: FleetClientRecord] = [:]
        for set in sets {
            for r in set {
                guard byIndex[r.index] == nil else { throw .invalid("client \(r.index) appears in two inputs (overlapping shards?)") }
                byIndex[r.index] = r
            }
        }
        return byIndex.keys.sorted().map { byIndex[$0]! }
    }
}
