import Foundation
import PXE
import NICCore
import Wire

/// nicsim's one JSON encoding, for every report and record the CLI prints:
/// one line, keys sorted (so equal values print alike), slashes as they are.
public enum JSONLine {
    public static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A report the CLI prints as one JSON object (`JSONLine`).
public protocol JSONReport: Encodable {}

extension JSONReport {
    /// The report as one line of JSON, keys sorted.
    public func json() -> String { JSONLine.encode(self) }
}

/// What `nicsim boot` reports: the summary lines, or one JSON object.
public struct BootReport: JSONReport {
    public struct Lease: Encodable, Sendable {
        public var ip: String
        public var server: String
        public var bootfile: String
        public var tftpServer: String
        public var proxy: Bool

        public init(ip: String, server: String, bootfile: String, tftpServer: String, proxy: Bool) {
            self.ip = ip
            self.server = server
            self.bootfile = bootfile
            self.tftpServer = tftpServer
            self.proxy = proxy
        }

    }

    public typealias File = TransferReport.File
    public typealias Failure = TransferReport.Failure

    public struct Frames: Encodable, Sendable {
        public var tx: Int
        public var rx: Int

        public init(tx: Int, rx: Int) {
            self.tx = tx
            self.rx = rx
        }

    }

    public var model: String
    public var device: String
    public var mac: String
    public var network: String
    public var lease: Lease
    /// How the NBP ran: "exec" on the x86 machine, "builtin" as nicsim's pxelinux.
    public var nbp: String
    /// Every file the client fetched whole over TFTP, in order.
    public var files: [File]
    /// Every transfer that failed, in order, with its TFTP error.
    public var failed: [Failure]
    /// Transfers not listed: size probes the client abandoned, and records
    /// beyond the log's capacity (omitted when none).
    public var tftpProbes: Int?
    public var transfersNotListed: Int?
    public var frames: Frames
    public var virtualSeconds: Double
    public var wallSeconds: Double
    /// With exec: why the machine stopped, and everything the guest printed.
    public var stop: String?
    public var console: String?
    /// With --bridge or --tap: the host link's filter and counters.
    public var host: HostLinkReport?

    public init(model: String, device: String, mac: String, network: String, lease: Lease, nbp: String, files: [File], failed: [Failure], tftpProbes: Int? = nil, transfersNotListed: Int? = nil, frames: Frames, virtualSeconds: Double, wallSeconds: Double, stop: String? = nil, console: String? = nil, host: HostLinkReport? = nil) {
        self.model = model
        self.device = device
        self.mac = mac
        self.network = network
        self.lease = lease
        self.nbp = nbp
        self.files = files
        self.failed = failed
        self.tftpProbes = tftpProbes
        self.transfersNotListed = transfersNotListed
        self.frames = frames
        self.virtualSeconds = virtualSeconds
        self.wallSeconds = wallSeconds
        self.stop = stop
        self.console = console
        self.host = host
    }


    /// The summary a terminal shows. The boot file and the file names are
    /// the server's, so they are escaped (`TerminalSafe`).
    public func summary() -> [String] {
        var lines = ["nicsim boot: \(device) (\(model)) \(mac) via \(network)"]
        lines.append("lease: \(lease.ip) from \(lease.server)\(lease.proxy ? " (boot data from proxyDHCP)" : ""), "
                     + "boot file \(TerminalSafe.escaping(lease.bootfile)) on \(lease.tftpServer)")
        lines += TransferReport.lines(files: files, failed: failed, notListed: transfersNotListed)
        lines.append("frames: \(frames.tx) sent, \(frames.rx) received")
        if let host { lines.append(host.summary) }
        if let stop { lines.append("nbp: \(nbp), machine stopped: \(stop)") }
        lines.append(String(format: "time: %.3f s virtual, %.3f s wall", virtualSeconds, wallSeconds))
        return lines
    }
}

extension BootReport.Lease {
    /// The lease as the PXE base code reported it.
    public init(_ dhcp: DHCPResult) {
        self.init(ip: dhcp.address.description, server: dhcp.serverIdentifier.description, bootfile: dhcp.bootFile,
                  tftpServer: dhcp.tftpServer.description, proxy: dhcp.proxyOffer != nil)
    }
}

/// The files part of a boot report, from the transfers the card made
/// (`TFTPTransferLog`): each completed file with its size, SHA-256 and
/// server, and each failed transfer with its TFTP error.
public enum TransferReport {
    public struct File: Encodable, Sendable {
        /// The path as requested from the TFTP server (control characters escaped).
        public var name: String
        public var size: Int
        public var sha256: String
        /// The TFTP server's address.
        public var server: String

        public init(name: String, size: Int, sha256: String, server: String) {
            self.name = name
            self.size = size
            self.sha256 = sha256
            self.server = server
        }

    }

    public struct Failure: Encodable, Sendable {
        public var name: String
        public var server: String
        /// Bytes received before it failed.
        public var size: Int
        /// The TFTP error code (RFC 1350 section 5), when an ERROR ended it.
        public var code: Int?
        /// Why, in one line: "TFTP error 1 (File not found)".
        public var error: String

        public init(name: String, server: String, size: Int, code: Int? = nil, error: String) {
            self.name = name
            self.server = server
            self.size = size
            self.code = code
            self.error = error
        }

    }

    /// `log`'s records once the run is over: open transfers are closed first.
    public static func finish(_ log: TFTPTransferLog) -> (files: [File], failed: [Failure], probes: Int?, notListed: Int?) {
        log.finish()
        let records = log.records
        let (files, failed) = split(records.entries)
        return (files, failed, records.probes > 0 ? records.probes : nil, records.overflow > 0 ? records.overflow : nil)
    }

    /// `entries` as completed files and failures, each in order.
    public static func split(_ entries: [TFTPTransferRecord]) -> (files: [File], failed: [Failure]) {
        let files = entries.filter(\.isCompleted).map {
            File(name: $0.file, size: $0.size, sha256: $0.sha256 ?? "", server: $0.server.description)
        }
        let failed = entries.filter { !$0.isCompleted }.map {
            Failure(name: $0.file, server: $0.server.description, size: $0.size, code: $0.errorCode.map(Int.init), error: $0.failure ?? "")
        }
        return (files, failed)
    }

    /// The summary lines: "files:" with one line per file, then "failed:"
    /// with one per failure.
    public static func lines(files: [File], failed: [Failure], notListed: Int?) -> [String] {
        let width = (files.map(\.name.count) + failed.map(\.name.count)).max() ?? 0
        let pad = { (name: String) in name + String(repeating: " ", count: max(0, width - name.count)) }
        var lines = [files.isEmpty ? "files: none" : "files:"]
        for f in files {
            let size = String(f.size)
            lines.append("  \(pad(f.name))  \(String(repeating: " ", count: max(0, 10 - size.count)))\(size) bytes  sha256 \(f.sha256)")
        }
        if !failed.isEmpty {
            lines.append("failed:")
            for f in failed { lines.append("  \(pad(f.name))  \(f.error)") }
        }
        if let notListed { lines.append("  (\(notListed) more transfers not listed)") }
        return lines
    }
}
