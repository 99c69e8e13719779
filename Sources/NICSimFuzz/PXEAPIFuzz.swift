import Board
import BootServer
import NICCore
import PXE
import UNDI
import Wire

/// The PXE API as an NBP calls it: parameter blocks in guest memory, an
/// opcode, and either entry point (PXENV+ with ES:DI, or !PXE with the
/// far pointer on the stack). The client's card is cabled to nicsim's boot
/// server serving `FuzzTFTPRoot`, so TFTP and UDP calls have a real peer.
///
/// The first byte picks the card (as `PXEClientFuzz` does), whether the
/// ROM's DHCP has run before the calls (bit 2: it has not), and what
/// opcode 0x0015 means (bit 3). The rest is an op-coded stream of calls,
/// memory writes (buffers and strings the blocks point at), frames from
/// the server's side and time.
enum PXEAPIFuzz {
    static let ramSize = 4 << 20
    /// The parameter block and the stack of !PXE calls.
    static let block = RealModeAddress(segment: 0x2000, offset: 0)
    static let stack = RealModeAddress(segment: 0x1000, offset: 0xFF00)
    static let maxOps = 512
    static let maxVirtualTime = 600 * VirtualClock.second

    enum Op: UInt8, CaseIterable {
        /// opcode u8 (an index into the known opcodes; 0xFF: a raw u16
        /// follows), flags u8 (bit 0: through !PXE), length u8, block bytes.
        case call
        /// address u32 (below 1 MiB), length u16 (at most 2 KiB), bytes.
        case memoryWrite
        /// port u16, length u16, payload: a UDP datagram from the server to
        /// the client's address.
        case udp
        /// milliseconds u16.
        case advance
    }

    static func run(_ input: inout FuzzInput) {
        let flags = input.u8()
        let board = Board(memorySize: ramSize)
        let (device, driver) = PXEClientFuzz.card(flags, on: board)
        var configuration = BootServerFuzz.configuration(0)
        configuration.pool = IPv4Address(10, 0, 2, 100)...IPv4Address(10, 0, 2, 110)
        guard let server = try? BootServer(configuration: configuration, clock: board.clock) else {
            preconditionFailure("the boot server cannot serve \(FuzzTFTPRoot.path)")
        }
        _ = FuzzCable(device.port, server.port, clock: board.clock)
        guard let client = try? PXEClient(board: board, driver: driver) else { return }
        let api = client.api
        api.opcode0015 = flags & 8 != 0 ? .getState : .stopUNDI
        if flags & 4 == 0 {
            _ = try? client.baseCode.boot()
            try? api.storeCachedPackets()
        }
        let opcodes = PXEOpcode.allCases.map(\.rawValue)
        var ops = 0
        while !input.isAtEnd, ops < maxOps {
            ops += 1
            guard let op = Op(rawValue: input.u8() % UInt8(Op.allCases.count)) else { continue }
            switch op {
            case .call:
                let index = input.u8()
                let opcode = index == 0xFF ? input.u16() : opcodes[Int(index) % opcodes.count]
                let callFlags = input.u8()
                let bytes = input.take(Int(input.u8()))
                try? board.memory.fill(at: block.linear, count: 256, with: 0)
                try? board.memory.write(at: block.linear, from: bytes)
                let exit: PXEExit
                if callFlags & 1 != 0 {
                    // SS:SP at the entry: far return address, opcode, then the block's offset and segment.
                    let words: [UInt16] = [0, 0, opcode, block.offset, block.segment]
                    for (i, w) in words.enumerated() { try? board.memory.writeU16(stack.linear + UInt64(2 * i), w) }
                    exit = api.callBangPXE(stack: stack)
                } else {
                    exit = api.callPXENV(bx: opcode, es: block.segment, di: block.offset)
                }
                let status = PXEStatus(rawValue: (try? board.memory.readU16(block.linear)) ?? 0)
                precondition(exit == PXEExit(status), "opcode 0x\(String(opcode, radix: 16)): exit \(exit) but status \(status)")
            case .memoryWrite:
                let address = UInt64(input.u32() % 0x10_0000)
                let bytes = input.take(Int(input.u16() % 2049))
                try? board.memory.write(at: address, from: bytes)
            case .udp:
                let port = input.u16()
                let payload = input.take(Int(input.u16() % 1473))
                let ip = client.baseCode.ip
                let frame = FuzzFrames.udp(from: UDPEndpoint(mac: BootServerFuzz.serverMAC, ip: BootServerFuzz.serverIP, port: 69),
                                           to: UDPEndpoint(mac: ip.mac, ip: ip.address, port: port), payload: payload)
                frame.withUnsafeBytes { _ = device.port.offer($0) }
            case .advance:
                guard board.clock.now < maxVirtualTime else { continue }
                board.advance(by: UInt64(input.u16()) * VirtualClock.millisecond)
            }
        }
    }
}
