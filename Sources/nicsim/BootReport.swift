import Foundation
import PXE
import NICCore
import Wire

/// A report the CLI prints as one JSON object, keys sorted.
protocol JSONReport: Encodable {}

extension JSONReport {
    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// What `nicsim boot` reports: the summary lines, or one JSON object.
struct BootReport: JSONReport {
    struct Lease: Encodable {
        var ip: String
        var server: String
        var bootfile: String
        var tftpServer: String
        var proxy: Bool
    }

    typealias File = TransferReport.File
    typealias Failure = TransferReport.Failure

    struct Frames: Encodable {
        var tx: Int
        var rx: Int
    }

    var model: String
    var device: String
    var mac: String
    var network: String
    var lease: Lease
    /// How the NBP ran: "exec" on the x86 machine, "builtin" as nicsim's pxelinux.
    var nbp: String
    /// Every file the client fetched whole over TFTP, in order.
    var files: [File]
    /// Every transfer that failed, in order, with its TFTP error.
    var failed: [Failure]
    /// Transfers not listed: size probes the client abandoned, and records
    /// beyond the log's capacity (omitted when none).
    var tftpProbes: Int?
    var transfersNotListed: Int?
    var frames: Frames
    var virtualSeconds: Double
    var wallSeconds: Double
    /// With exec: why the machine stopped, and everything the guest printed.
    var stop: String?
    var console: String?
    /// With --bridge or --tap: the host link's filter and counters.
    var host: HostLinkReport?

    /// The summary a terminal shows. The boot file and the file names are
    /// the server's, so they are escaped (`TerminalSafe`).
    func summary() -> [String] {
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
    init(_ dhcp: DHCPResult) {
        self.init(ip: dhcp.address.description, server: dhcp.serverIdentifier.description, bootfile: dhcp.bootFile,
                  tftpServer: dhcp.tftpServer.description, proxy: dhcp.proxyOffer != nil)
    }
}

/// The files part of a boot report, from the transfers the card made
/// (`TFTPTransferLog`): each completed file with its size, SHA-256 and
/// server, and each failed transfer with its TFTP error.
enum TransferReport {
    struct File: Encodable {
        /// The path as requested from the TFTP server (control characters escaped).
        var name: String
        var size: Int
        var sha256: String
        /// The TFTP server's address.
        var server: String
    }

    struct Failure: Encodable {
        var name: String
        var server: String
        /// Bytes received before it failed.
        var size: Int
        /// The TFTP error code (RFC 1350 section 5), when an ERROR ended it.
        var code: Int?
        /// Why, in one line: "TFTP error 1 (File not found)".
        var error: String
    }

    /// `log`'s records once the run is over: open transfers are closed first.
    static func finish(_ log: TFTPTransferLog) -> (files: [File], failed: [Failure], probes: Int?, notListed: Int?) {
        log.finish()
        let records = log.records
        let (files, failed) = split(records.entries)
        return (files, failed, records.probes > 0 ? records.probes : nil, records.overflow > 0 ? records.overflow : nil)
    }

    /// `entries` as completed files and failures, each in order.
    static func split(_ entries: [TFTPTransferRecord]) -> (files: [File], failed: [Failure]) {
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
    static func lines(files: [File], failed: [Failure], notListed: Int?) -> [String] {
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
