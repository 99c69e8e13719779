import Board
import NICCore

/// Runs a `QTestScript` in process against nicsim's models and returns
/// its transcript: each step echoed as `> STEP`, followed by every line the
/// server wrote for it (`IRQ` lines, then the reply), and `FRAME HEX` or
/// `FRAME none` for `%recv`.
///
/// The netdev socket is replaced by an in-memory wire: `%send` offers the
/// frame to the NIC bound to the first netdev (or the first NIC) and
/// `%recv` takes the oldest frame it transmitted.
public final class QTestScriptRunner: FrameTransmitter {
    private var sent: [[UInt8]] = []
    private var lines: [String] = []

    public init() {}

    public func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        sent.append(Array(frame))
    }

    public func run(_ script: QTestScript) throws(QEMUOptionsError) -> [String] {
        let arguments = script.arguments.map { $0.replacingNetdevPlaceholder() }
        let options = try QEMUOptions.parse(arguments)
        let machine = try QTestMachine(options: options)
        let server = QTestServer(board: machine.board) { [unowned self] in self.lines.append($0) }
        let wired = options.netdevs.keys.sorted().first.flatMap { machine.nic(forNetdev: $0) } ?? machine.nics.first
        wired?.device.port.transmitter = self
        var transcript: [String] = []
        for step in script.steps {
            transcript.append("> " + step.text)
            lines = []
            switch step.kind {
            case .command(let line):
                server.handle(line: line)
            case .send(let frame):
                frame.withUnsafeBytes { _ = wired?.device.port.offer($0) }
                machine.board.runUntilIdle()
            case .receive:
                if sent.isEmpty {
                    lines.append("FRAME none")
                } else {
                    lines.append("FRAME " + sent.removeFirst().withUnsafeBytes { QTestScript.hexString($0) })
                }
            }
            transcript += lines
        }
        return transcript
    }
}

extension String {
    /// `fd=@NET` names the harness's socket; in process there is none, so
    /// any descriptor number will do (the session is never opened).
    func replacingNetdevPlaceholder(with fd: Int32 = 3) -> String {
        replacing("@NET", with: String(fd))
    }
}
