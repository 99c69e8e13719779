import Board
import NICCore

/// Runs qtest commands against a `Board` and answers them the way QEMU's
/// qtest server does.
///
/// Every reply and every asynchronous `IRQ raise N` / `IRQ lower N` line
/// goes to `output`, one line at a time without its newline. An interrupt
/// that changes while a command runs is reported before that command's
/// reply, as QEMU reports it. A malformed command is answered `FAIL …` and
/// changes nothing.
public final class QTestServer {
    public let board: Board
    public let output: (String) -> Void
    /// Replies to `read`, `b64read`, `write`, `b64write` and `memset` are
    /// refused above this many bytes, so a script can't make the server
    /// allocate without bound.
    public static let maxTransfer: UInt64 = 64 << 20

    /// Whether `irq_intercept_in` has attached to the interrupt controller.
    public private(set) var interceptingIRQs = false
    private var injected: [Int: InterruptLine] = [:]

    public init(board: Board, output: @escaping (String) -> Void) {
        self.board = board
        self.output = output
    }

    /// Parses and runs one line, writing its reply (and any IRQ lines).
    public func handle(line: Substring) {
        let command: QTestCommand
        do {
            command = try QTestCommand.parse(line)
        } catch {
            output(error.reply)
            return
        }
        output(execute(command))
        board.runUntilIdle()
    }

    public func handle(line: String) { handle(line: line[...]) }

    /// Runs a parsed command; returns its reply line.
    public func execute(_ command: QTestCommand) -> String {
        switch command {
        case .portWrite(let width, let port, let value):
            board.io.write(UInt64(port), width: width, value: value & width.mask)
            return "OK"
        case .portRead(let width, let port):
            return "OK 0x" + Self.hex(board.io.read(UInt64(port), width: width), minDigits: 4)
        case .memoryWrite(let width, let address, let value):
            writeScalar(address, width, value & width.mask)
            return "OK"
        case .memoryRead(let width, let address):
            return "OK 0x" + Self.hex(readScalar(address, width), minDigits: 16)
        case .read(let address, let length):
            guard length <= Self.maxTransfer else { return tooLong("read") }
            let bytes = readBytes(address, Int(length))
            var text = "OK 0x"
            text.reserveCapacity(5 + bytes.count * 2)
            for b in bytes { text += Self.hex(UInt64(b), minDigits: 2) }
            return text
        case .base64Read(let address, let length):
            guard length <= Self.maxTransfer else { return tooLong("b64read") }
            let bytes = readBytes(address, Int(length))
            return "OK " + bytes.withUnsafeBytes { QTestBase64.encode($0) }
        case .write(let address, let length, let data), .base64Write(let address, let length, let data):
            guard length <= Self.maxTransfer else { return tooLong("write") }
            var bytes = data
            // QEMU writes exactly SIZE bytes: missing data is written as zero.
            if bytes.count > Int(length) { bytes.removeLast(bytes.count - Int(length)) }
            if bytes.count < Int(length) { bytes += [UInt8](repeating: 0, count: Int(length) - bytes.count) }
            writeBytes(address, bytes)
            return "OK"
        case .memset(let address, let length, let pattern):
            guard length <= Self.maxTransfer else { return tooLong("memset") }
            fill(address, Int(length), pattern)
            return "OK"
        case .clockStep(let ns):
            if let ns {
                if ns > 0 { board.advance(by: UInt64(ns)) }
            } else if let next = board.clock.nextDeadline, next > board.clock.now {
                board.advance(by: next - board.clock.now)
            } else if board.clock.nextDeadline != nil {
                board.advance(by: 0)
            }
            return "OK \(board.clock.now)"
        case .clockSet(let ns):
            if ns > 0, UInt64(ns) > board.clock.now { board.advance(by: UInt64(ns) - board.clock.now) }
            return "OK \(board.clock.now)"
        case .endianness:
            return "OK little"
        case .irqInterceptIn(let path):
            guard Self.isInterruptController(path) else { return "FAIL Unknown device" }
            if !interceptingIRQs {
                interceptingIRQs = true
                board.interrupts.onChange = { [unowned self] irq, level in
                    self.output("IRQ \(level ? "raise" : "lower") \(irq)")
                }
            }
            return "OK"
        case .irqInterceptOut(let path):
            guard Self.isInterruptController(path) else { return "FAIL Unknown device" }
            // The interrupt controller's outputs go to the CPU, which nicsim's
            // board does not have: there is nothing to intercept.
            return interceptingIRQs ? "FAIL IRQ intercept already enabled" : "FAIL no output GPIOs to intercept"
        case .setIRQIn(let path, let name, let line, let level):
            guard Self.isInterruptController(path) else { return "FAIL Unknown device" }
            guard name == "unnamed-gpio-in", (0..<Int64(InterruptController.lineCount)).contains(line) else {
                return "FAIL no such GPIO"
            }
            let irq = Int(line)
            let source = injected[irq] ?? board.interrupts.source(irq: irq)
            injected[irq] = source
            source.set(asserted: level != 0)
            return "OK"
        }
    }

    /// QEMU resolves partial object paths; nicsim's board has one interrupt
    /// controller, reachable as `ioapic` (or any path ending in it).
    static func isInterruptController(_ path: String) -> Bool {
        path == "ioapic" || path.hasSuffix("/ioapic")
    }

    private func tooLong(_ command: String) -> String {
        "FAIL \(command): length above \(Self.maxTransfer) bytes"
    }

    static func hex(_ value: UInt64, minDigits: Int) -> String {
        let s = String(value, radix: 16)
        return s.count >= minDigits ? s : String(repeating: "0", count: minDigits - s.count) + s
    }
}
