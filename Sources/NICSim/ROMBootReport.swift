import Foundation

/// What `nicsim boot --rom` reports: the summary lines after the live
/// console, or one JSON object that carries the console too.
public struct ROMBootReport: JSONReport {
    public typealias Frames = BootReport.Frames

    public var model: String
    public var device: String
    public var mac: String
    public var network: String
    /// The option ROM image file.
    public var rom: String
    /// Why the run ended: condition (the --until text showed), timeout,
    /// bootFailed (INT 18h), bootstrap (INT 19h), halted or returned.
    public var stop: String
    /// Everything the guest printed through the BIOS.
    public var console: String
    /// Every file the ROM and what it loaded fetched whole over TFTP, in
    /// order, and every transfer that failed (see `TransferReport`).
    public var files: [TransferReport.File]
    public var failed: [TransferReport.Failure]
    public var tftpProbes: Int?
    public var transfersNotListed: Int?
    public var frames: Frames
    public var instructions: UInt64
    public var virtualSeconds: Double
    public var wallSeconds: Double
    /// With --bridge or --tap: the host link's filter and counters.
    public var host: HostLinkReport?

    public init(model: String, device: String, mac: String, network: String, rom: String, stop: String, console: String, files: [TransferReport.File], failed: [TransferReport.Failure], tftpProbes: Int? = nil, transfersNotListed: Int? = nil, frames: Frames, instructions: UInt64, virtualSeconds: Double, wallSeconds: Double, host: HostLinkReport? = nil) {
        self.model = model
        self.device = device
        self.mac = mac
        self.network = network
        self.rom = rom
        self.stop = stop
        self.console = console
        self.files = files
        self.failed = failed
        self.tftpProbes = tftpProbes
        self.transfersNotListed = transfersNotListed
        self.frames = frames
        self.instructions = instructions
        self.virtualSeconds = virtualSeconds
        self.wallSeconds = wallSeconds
        self.host = host
    }


    public func summary() -> [String] {
        ["nicsim boot: \(device) (\(model)) \(mac) via \(network), option ROM \(rom)",
         "stop: \(stop) after \(instructions) instructions"]
            + TransferReport.lines(files: files, failed: failed, notListed: transfersNotListed)
            + ["frames: \(frames.tx) sent, \(frames.rx) received"]
            + (host.map { [$0.summary] } ?? [])
            + [String(format: "time: %.3f s virtual, %.3f s wall", virtualSeconds, wallSeconds)]
    }
}

/// What `nicsim rom run --json` reports: one option ROM run on the Machine
/// in a board with one card, with the network when it had one.
public struct ROMRunReport: JSONReport {
    public var model: String
    /// The option ROM image file.
    public var rom: String
    /// Why the run ended (see `ROMBootReport.stop`).
    public var stop: String
    public var virtualTimeNs: UInt64
    public var wallSeconds: Double
    public var instructions: UInt64
    public var framesTransmitted: Int
    public var framesReceived: Int
    /// Everything the guest printed through the BIOS.
    public var console: String
    /// With --serve: the embedded server's counters.
    public var dhcpReplies: Int?
    public var tftpTransfersCompleted: Int?
    /// With a network: its name and every file fetched or failed.
    public var network: String?
    public var files: [TransferReport.File]?
    public var failed: [TransferReport.Failure]?
    /// With --bridge or --tap: the host link's filter and counters.
    public var host: HostLinkReport?

    public init(model: String, rom: String, stop: String, virtualTimeNs: UInt64, wallSeconds: Double, instructions: UInt64,
                framesTransmitted: Int, framesReceived: Int, console: String) {
        self.model = model
        self.rom = rom
        self.stop = stop
        self.virtualTimeNs = virtualTimeNs
        self.wallSeconds = wallSeconds
        self.instructions = instructions
        self.framesTransmitted = framesTransmitted
        self.framesReceived = framesReceived
        self.console = console
    }
}
