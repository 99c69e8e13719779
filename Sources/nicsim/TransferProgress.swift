import Bridge
import Foundation
import Glibc
import NICCore
import NICSim
import PXE

/// The TFTP progress bar on a terminal's standard error: file name, bar,
/// percentage and bytes, redrawn at most ten times a second of real time
/// while a transfer is open. It watches the switch: a frame crossing it
/// may redraw the bar, then goes on to the capture, if any.
final class TransferProgress: SwitchTap {
    private let client: PXEClient
    private let enabled: Bool
    private let wall = MonotonicClock()
    private var lastDraw: UInt64 = 0
    private var active = false
    /// Where the switch's frames go next (the pcapng capture).
    var next: SwitchTap?
    private var file = ""
    private var size: Int?

    /// Shows `client`'s transfers, watching the frames on `network` ahead
    /// of whatever tap it had.
    static func attach(to client: PXEClient, on network: VirtualSwitch, enabled: Bool) {
        let progress = TransferProgress(client: client, enabled: enabled)
        client.onEvent = { progress.handle($0) }
        progress.next = network.tap
        network.tap = progress
    }

    init(client: PXEClient, enabled: Bool) {
        self.client = client
        self.enabled = enabled && isatty(2) == 1
    }

    func handle(_ event: PXEEvent) {
        guard enabled else { return }
        switch event {
        case let .tftpOpened(name, _, size):
            file = TerminalSafe.escaping(name)  // the DHCP server's boot file name
            self.size = size.map(Int.init)
            lastDraw = 0
            active = true
            draw(force: true)
        case let .tftpCompleted(name, bytes):
            file = TerminalSafe.escaping(name)
            size = bytes
            render(bytes: bytes)
            write("\n")
            active = false
        default:
            break
        }
    }

    func switchPort(_ index: Int, saw frame: UnsafeRawBufferPointer, direction: TraceDirection, at time: UInt64) {
        next?.switchPort(index, saw: frame, direction: direction, at: time)
        if active { draw(force: false) }
    }

    func switchPort(_ index: Int, droppedBadFCS frame: UnsafeRawBufferPointer, at time: UInt64) {
        next?.switchPort(index, droppedBadFCS: frame, at: time)
    }

    private func draw(force: Bool) {
        let now = wall.elapsed
        guard force || now &- lastDraw >= 100 * VirtualClock.millisecond else { return }
        lastDraw = now
        let tftp = client.baseCode.tftp
        let bytes = tftp.blocksReceived * (tftp.transfer?.blockSize ?? 512)
        render(bytes: min(bytes, size ?? bytes))
    }

    private func render(bytes: Int) {
        let width = 30
        var line = "\r  " + file.prefix(28) + String(repeating: " ", count: max(0, 28 - file.count)) + " ["
        if let size, size > 0 {
            let filled = min(width, bytes * width / size)
            line += String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            line += "] \(min(100, bytes * 100 / size))%".padding(toLength: 6, withPad: " ", startingAt: 0)
        } else {
            line += String(repeating: "?", count: width) + "]     "
        }
        line += " \(bytes / 1024) KiB "
        write(line)
    }

    private func write(_ s: String) {
        var s = s
        s.withUTF8 { p in _ = Glibc.write(2, p.baseAddress, p.count) }
    }
}
