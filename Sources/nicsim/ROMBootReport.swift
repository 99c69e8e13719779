import Foundation

/// What `nicsim boot --rom` reports: the summary lines after the live
/// console, or one JSON object that carries the console too.
struct ROMBootReport: JSONReport {
    typealias Frames = BootReport.Frames

    var model: String
    var device: String
    var mac: String
    var network: String
    /// The option ROM image file.
    var rom: String
    /// Why the run ended: condition (the --until text showed), timeout,
    /// bootFailed (INT 18h), bootstrap (INT 19h), halted or returned.
    var stop: String
    /// Everything the guest printed through the BIOS.
    var console: String
    /// Every file the ROM and what it loaded fetched whole over TFTP, in
    /// order, and every transfer that failed (see `TransferReport`).
    var files: [TransferReport.File]
    var failed: [TransferReport.Failure]
    var tftpProbes: Int?
    var transfersNotListed: Int?
    var frames: Frames
    var instructions: UInt64
    var virtualSeconds: Double
    var wallSeconds: Double
    /// With --bridge or --tap: the host link's filter and counters.
    var host: HostLinkReport?

    func summary() -> [String] {
        ["nicsim boot: \(device) (\(model)) \(mac) via \(network), option ROM \(rom)",
         "stop: \(stop) after \(instructions) instructions"]
            + TransferReport.lines(files: files, failed: failed, notListed: transfersNotListed)
            + ["frames: \(frames.tx) sent, \(frames.rx) received"]
            + (host.map { [$0.summary] } ?? [])
            + [String(format: "time: %.3f s virtual, %.3f s wall", virtualSeconds, wallSeconds)]
    }
}
