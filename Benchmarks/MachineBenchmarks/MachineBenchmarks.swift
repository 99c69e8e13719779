import Benchmark
import Foundation
import NICSim

// The x86 machine: raw guest instruction throughput on Unicorn with the
// machine's slice hook, the cost of one BIOS service round trip (INT n ->
// IVT -> trap -> Swift service -> IRET), and a whole real option ROM:
// Debian's iPXE rtl8139 ROM from power-on to its first DHCPDISCOVER on
// our RTL8139. Baseline in the same run: the same spin loop's iteration
// count done natively.

private func machine() throws -> Machine {
    try Machine(board: Board(memorySize: 16 << 20))
}

/// mov ecx, 500000; 1: dec ecx; jnz 1b; retf  (1,000,001 instructions)
private let spin: [UInt8] = [0x66, 0xB9, 0x20, 0xA1, 0x07, 0x00, 0x66, 0x49, 0x75, 0xFC, 0xCB]
/// jmp $ : the busiest guest there is, the figure's "plain code" case.
private let jumpToSelf: [UInt8] = [0xEB, 0xFE]
/// mov cx, 1000; 1: mov ah, 0; push cx; int 1Ah; pop cx; loop 1b; retf
private let biosCalls: [UInt8] = [0xB9, 0xE8, 0x03, 0xB4, 0x00, 0x51, 0xCD, 0x1A, 0x59, 0xE2, 0xF8, 0xCB]

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        warmupIterations: 2,
        maxDuration: .seconds(3),
        maxIterations: 200
    )

    Benchmark("Baseline native loop 500k iterations") { benchmark in
        var x: UInt32 = 500_000
        for _ in benchmark.scaledIterations {
            x = 500_000
            while x != 0 {
                x &-= 1
                blackHole(x)
            }
        }
        blackHole(x)
    }

    // One iteration: 1,000,001 guest instructions (500k loop iterations).
    Benchmark("Guest spin loop 1M instructions") { benchmark in
        let m = try machine()
        try m.load(spin, at: 0x7C00)
        for _ in benchmark.scaledIterations {
            let stop = try m.call(segment: 0, offset: 0x7C00, timeout: VirtualClock.second)
            precondition(stop == .returned)
        }
    }

    // One iteration: 1 s of virtual time of `jmp $` at the default 10 ns
    // per instruction, 10^8 instructions. Wall clock below 1 s is faster
    // than real time (docs/PERFORMANCE.md, figure 4).
    Benchmark("Guest jmp $ for 1 s of virtual time (10^8 instructions)", configuration: .init(maxIterations: 5)) { benchmark in
        let m = try machine()
        try m.load(jumpToSelf, at: 0x7C00)
        for _ in benchmark.scaledIterations {
            let stop = try m.call(segment: 0, offset: 0x7C00, timeout: VirtualClock.second)
            precondition(stop == .timeout)
        }
    }

    // One iteration: 1,000 BIOS calls (INT 1Ah AH=00h); wall clock / 1000
    // is the cost of one call, mallocs / 1000 the allocations per call.
    Benchmark("BIOS INT 1Ah x1000") { benchmark in
        let m = try machine()
        try m.load(biosCalls, at: 0x7C00)
        for _ in benchmark.scaledIterations {
            let stop = try m.call(segment: 0, offset: 0x7C00, timeout: VirtualClock.second)
            precondition(stop == .returned)
        }
    }

    // One iteration: POST (shadow, INIT) and BEV of the real iPXE ROM until
    // it has sent DHCPDISCOVER through our RTL8139.
    Benchmark("iPXE pxe-rtl8139.rom to DHCPDISCOVER", configuration: .init(maxIterations: 5)) { benchmark in
        guard let data = FileManager.default.contents(atPath: "/usr/lib/ipxe/qemu/pxe-rtl8139.rom") else {
            fatalError("/usr/lib/ipxe/qemu/pxe-rtl8139.rom missing: apt install ipxe-qemu")
        }
        let rom = try ExpansionROM(bytes: [UInt8](data))
        for _ in benchmark.scaledIterations {
            let board = Board(memorySize: 64 << 20)
            let nic = RTL8139(macAddress: MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56), memory: board.memory, clock: board.clock)
            board.attach(nic, at: PCIAddress(device: 3))
            board.add(port: nic.port)
            final class Tap: FrameTransmitter {
                var frames = 0
                func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) { frames += 1 }
            }
            let tap = Tap()
            nic.port.transmitter = tap
            board.assignResources()
            let m = try Machine(board: board)
            var shadowed = try m.shadow(rom, for: PCIAddress(device: 3))
            _ = try m.initialize(&shadowed)
            let stop = try m.bootstrap(shadowed, until: { tap.frames > 0 }, timeout: 20 * VirtualClock.second)
            precondition(stop == .condition)
        }
    }
}
