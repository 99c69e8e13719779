import NICCore
import QTest

/// The qtest server fed command lines, on QEMU's `pc` board with every
/// model plugged in (NE2000 PCI, RTL8139, transitional and modern
/// virtio-net, an ISA NE2000) and 1 MiB of RAM. The input is a script as
/// `fixtures/qtest` holds them: command lines, `%send HEX` frames from the
/// wire and `%recv`; when it is not a valid script its lines go to the
/// server as they are. The `#! args:` line is read but not obeyed: the
/// board is always the same. Every command gets exactly one reply line
/// (after any IRQ lines), as QEMU's protocol promises.
enum QTestProtocolFuzz {
    static let arguments = [
        "-m", "1M",
        "-device", "ne2k_pci,addr=3", "-device", "rtl8139,addr=4",
        "-device", "virtio-net-pci,addr=5", "-device", "virtio-net-pci,addr=6,disable-legacy=on",
        "-device", "ne2k_isa",
    ]
    static let maxSteps = 512

    final class Wire: FrameTransmitter {
        var sent: [[UInt8]] = []
        func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
            if sent.count < 64 { sent.append(Array(frame)) }
        }
    }

    static func run(_ input: inout FuzzInput) {
        let text = String(decoding: input.rest(), as: UTF8.self)
        guard let options = try? QEMUOptions.parse(arguments), let machine = try? QTestMachine(options: options) else {
            preconditionFailure("the qtest board cannot be built")
        }
        var lines: [String] = []
        let server = QTestServer(board: machine.board) { lines.append($0) }
        let wire = Wire()
        for nic in machine.nics { nic.device.port.transmitter = wire }

        func command(_ line: String) {
            let before = lines.count
            server.handle(line: line)
            let replies = lines[before...].filter { !$0.hasPrefix("IRQ ") }
            precondition(replies.count == 1, "a command got \(replies.count) replies")
            if lines.count > 4096 { lines.removeAll(keepingCapacity: true) }
        }

        guard let script = try? QTestScript(text: text) else {
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(maxSteps) { command(String(line)) }
            return
        }
        _ = script.arguments
        for step in script.steps.prefix(maxSteps) {
            switch step.kind {
            case .command(let line):
                command(line)
            case .send(let frame):
                for nic in machine.nics { frame.withUnsafeBytes { _ = nic.device.port.offer($0) } }
                machine.board.runUntilIdle()
            case .receive:
                if !wire.sent.isEmpty { wire.sent.removeFirst() }
            }
        }
    }
}
