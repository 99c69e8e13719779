import Board
import Machine
import NICCore
import RTL8139

/// The x86 machine: the input is real-mode code, far-called at 0000:7C00
/// on a 2 MiB PC with its BIOS (every INT service, the IVT and the BIOS
/// data area, which the code may read and overwrite), the 8259 pair, the
/// 8254, the system ports, and an RTL8139 for the PCI BIOS to find. The
/// first byte sets DL (the boot drive a BIOS hands over) and whether the
/// code starts with interrupts enabled. Free memory (conventional memory
/// around the code, and extended memory) is HLT instructions (0xF4), so
/// code that runs away stops instead of crawling through zeros. A run ends when the code returns,
/// halts, faults, spends its instruction budget or 100 ms of virtual time.
enum MachineFuzz {
    static let origin: UInt16 = 0x7C00
    static let instructionBudget: UInt64 = 100_000
    static let virtualTimeout = 100 * VirtualClock.millisecond

    static func run(_ input: inout FuzzInput) {
        let flags = input.u8()
        let code = Array(input.rest())
        let board = Board(memorySize: 2 << 20)
        let card = RTL8139(macAddress: MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56), memory: board.memory, clock: board.clock)
        board.attach(card, at: PCIAddress(device: 3))
        board.assignResources()
        board.add(port: card.port)
        guard let machine = try? Machine(board: board) else { preconditionFailure("the machine cannot be built") }
        machine.bios.consoleLimit = 64 << 10
        let conventional = UInt64(0x500)..<PCMemoryMap.ebda
        let extended = PCMemoryMap.extendedMemory..<board.memory.size
        for free in [conventional, extended] {
            try? machine.load([UInt8](repeating: 0xF4, count: Int(free.count)), at: free.lowerBound)
        }
        guard (try? machine.load(Array(code.prefix(Int(conventional.upperBound) - Int(origin))), at: UInt64(origin))) != nil else { return }
        let start = machine.instructionsExecuted
        _ = try? machine.call(segment: 0, offset: origin,
                              registers: [.edx: UInt32(flags & 0x7F) | 0x80, .eflags: flags & 0x80 != 0 ? 0x0202 : 0x0002],
                              until: { machine.instructionsExecuted &- start >= instructionBudget },
                              timeout: virtualTimeout)
    }
}
