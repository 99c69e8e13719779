import Bridge
import Wire

/// Feeds a `TFTPTransferLog` every frame crossing one switch port in both
/// directions: for a card's port, what the card sent (inbound) and what was
/// delivered to it after the port's faults (outbound), so the log sees what
/// the client saw. Frames then go on to the tap it was put in front of (the
/// pcapng capture), as `TransferProgress` chains.
public final class TransferLogTap: SwitchTap {
    public let log: TFTPTransferLog
    /// The switch port whose traffic is logged.
    public let port: Int
    public var next: SwitchTap?

    /// Logs port `port` of `network` into `log`, ahead of whatever tap it had.
    public static func attach(_ log: TFTPTransferLog, port: Int, of network: VirtualSwitch) {
        let tap = TransferLogTap(log: log, port: port)
        tap.next = network.tap
        network.tap = tap
    }

    public init(log: TFTPTransferLog, port: Int) {
        self.log = log
        self.port = port
    }

    public func switchPort(_ index: Int, saw frame: UnsafeRawBufferPointer, direction: TraceDirection, at time: UInt64) {
        if index == port { log.observe(frame) }
        next?.switchPort(index, saw: frame, direction: direction, at: time)
    }

    public func switchPort(_ index: Int, droppedBadFCS frame: UnsafeRawBufferPointer, at time: UInt64) {
        next?.switchPort(index, droppedBadFCS: frame, at: time)
    }
}
