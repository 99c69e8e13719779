import Foundation
import PXE
import NICCore

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

    struct File: Encodable {
        /// The path as requested from the TFTP server.
        var name: String
        var size: Int
        var sha256: String
    }

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
    var files: [File]
    var frames: Frames
    var virtualSeconds: Double
    var wallSeconds: Double
    /// With exec: why the machine stopped, and everything the guest printed.
    var stop: String?
    var console: String?

    /// The summary a terminal shows. The boot file and the file names are
    /// the server's, so they are escaped (`TerminalSafe`).
    func summary() -> [String] {
        var lines = ["nicsim boot: \(device) (\(model)) \(mac) via \(network)"]
        lines.append("lease: \(lease.ip) from \(lease.server)\(lease.proxy ? " (boot data from proxyDHCP)" : ""), "
                     + "boot file \(TerminalSafe.escaping(lease.bootfile)) on \(lease.tftpServer)")
        lines.append("files:")
        let names = files.map { TerminalSafe.escaping($0.name) }
        let width = names.map(\.count).max() ?? 0
        for (f, name) in zip(files, names) {
            let pad = String(repeating: " ", count: max(0, width - name.count))
            let size = String(f.size)
            lines.append("  \(name)\(pad)  \(String(repeating: " ", count: max(0, 10 - size.count)))\(size) bytes  sha256 \(f.sha256)")
        }
        lines.append("frames: \(frames.tx) sent, \(frames.rx) received")
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
