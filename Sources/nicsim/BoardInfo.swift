import ArgumentParser
import Board
import NICCore
import NICSim

/// `nicsim board`: builds the board, lets the firmware-like set-up program
/// it, and lists what a driver would find by configuration cycles.
struct BoardInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "board",
        abstract: "Show the simulated PC: PCI functions found through 0xCF8/0xCFC, their BARs and IRQs."
    )

    @Option(name: .long, help: "Guest RAM in MiB.")
    var memory: Int = 64

    func validate() throws {
        guard (1...4096).contains(memory) else { throw ValidationError("--memory must be 1 to 4096 MiB") }
    }

    func run() throws {
        let board = Board(memorySize: memory << 20)
        board.assignResources()
        print("RAM: \(memory) MiB; PIRQA-D -> IRQ \(board.pirq.routes.map(String.init).joined(separator: ", "))")
        for line in BoardInfo.describe(board) { print(line) }
    }

    /// One line per function, read the way a driver would read it.
    static func describe(_ board: Board) -> [String] {
        var lines: [String] = []
        for address in board.pci.addresses {
            let id = board.pci.configRead(address, offset: 0, width: .dword)
            let cls = board.pci.configRead(address, offset: 8, width: .dword) >> 8
            var line = "\(address) \(hex(UInt16(id & 0xFFFF))):\(hex(UInt16(id >> 16))) class \(hex(cls, digits: 6))"
            for i in 0..<6 {
                if let bar = board.decodedBAR(address, i) {
                    line += " BAR\(i)=\(bar.isIO ? "io" : "mem"):0x\(String(bar.base, radix: 16))+0x\(String(bar.size, radix: 16))"
                }
            }
            if let irq = board.irq(of: address) { line += " IRQ \(irq)" }
            lines.append(line)
        }
        return lines
    }
}

func hex<T: BinaryInteger>(_ v: T, digits: Int = 4) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, digits - s.count)) + s
}
