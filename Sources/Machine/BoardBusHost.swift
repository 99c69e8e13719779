import Board
import NICCore

/// What every machine's CPU host shares: port and MMIO cycles go to the
/// Board's buses, each one counted and costing `nanosecondsPerIOCycle` of
/// virtual time (`elapse` moves the clock and whatever the machine keeps
/// in step with it). The BIOS `Machine` and the `UEFIMachine` both are one.
protocol BoardBusHost: X86Host {
    var board: Board { get }
    var portCycles: Int { get set }
    var mmioCycles: Int { get set }
    var nanosecondsPerIOCycle: UInt64 { get }
    func elapse(_ ns: UInt64)
}

extension BoardBusHost {
    func portRead(_ port: UInt16, width: Int) -> UInt32 {
        portCycles += 1
        elapse(nanosecondsPerIOCycle)
        return UInt32(truncatingIfNeeded: board.io.read(UInt64(port), width: AccessWidth(rawValue: width) ?? .byte))
    }

    func portWrite(_ port: UInt16, width: Int, value: UInt32) {
        portCycles += 1
        elapse(nanosecondsPerIOCycle)
        board.io.write(UInt64(port), width: AccessWidth(rawValue: width) ?? .byte, value: UInt64(value))
    }

    func mmioRead(_ address: UInt64, width: Int) -> UInt64 {
        mmioCycles += 1
        elapse(nanosecondsPerIOCycle)
        return board.mmio.read(address, width: AccessWidth(rawValue: width) ?? .byte)
    }

    func mmioWrite(_ address: UInt64, width: Int, value: UInt64) {
        mmioCycles += 1
        elapse(nanosecondsPerIOCycle)
        board.mmio.write(address, width: AccessWidth(rawValue: width) ?? .byte, value: value)
    }
}
