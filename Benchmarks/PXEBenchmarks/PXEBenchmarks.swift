import Benchmark
import BenchmarkSupport
import NICSim

// Frames through the whole PXE stack on the RTL8139: model, driver, UNDI,
// PXE API over guest memory. One iteration is one frame (or one TFTP
// block): throughput is frames per second and the malloc count is mallocs
// per frame (the target is zero). A memcpy of the same bytes is the
// baseline in the same run.

private let clientMAC = MACAddress(0x52, 0x54, 0x00, 0x81, 0x39, 0x07)
private let serverMAC = MACAddress(0x02, 0x00, 0x00, 0x00, 0x00, 0x01)
private let clientIP = IPv4Address(10, 0, 0, 100)
private let serverIP = IPv4Address(10, 0, 0, 1)
private let block = RealModeAddress(segment: 0x2000, offset: 0)
private let buffer = RealModeAddress(segment: 0x3000, offset: 0)

/// A TFTP server that never ends a file: every ACK gets the next full
/// block, built in place in one reused buffer and handed in when the event
/// loop polls it (so nothing re-enters the card while it transmits).
private final class EndlessTFTPServer: FrameTransmitter, EventSource {
    let port: FramePort
    let blockSize: Int
    let frame = FrameBuffer(capacity: 2048)
    var pending = false
    var client = UDPEndpoint(mac: .zero, ip: .any, port: 0)
    var sent = 0

    init(port: FramePort, blockSize: Int) {
        self.port = port
        self.blockSize = blockSize
    }

    func transmit(frame bytes: UnsafeRawBufferPointer, from port: FramePort) {
        guard let d = try? UDPDatagram(parsing: bytes) else { return }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[d.payloadRange])
        guard let packet = try? TFTPPacket(parsing: payload) else { return }
        switch packet {
        case .readRequest:
            client = d.source
            send(1)
        case .acknowledgement(let n):
            send(n &+ 1)
        default:
            break
        }
    }

    private func send(_ n: UInt16) {
        let area = UDPFrame.payloadArea(of: frame)
        _ = try? TFTPPacket.writeDataHeader(block: n, to: area)
        _ = try? UDPFrame.finish(frame, from: UDPEndpoint(mac: serverMAC, ip: serverIP, port: 40000), to: client,
                                 payloadCount: 4 + blockSize, udpChecksum: true)
        pending = true
    }

    func poll() -> Bool {
        guard pending else { return false }
        pending = false
        sent += 1
        port.offer(frame.bytes)
        return true
    }
}

private final class NullWire: FrameTransmitter {
    var frames = 0
    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) { frames += 1 }
}

/// The RTL8139 on a board, the PXE stack opened on it.
private final class Rig {
    let board = Board(memorySize: 64 << 20)
    let card: RTL8139
    let undi: UNDI
    let baseCode: PXEBaseCode
    let api: PXEAPI
    /// Whatever else the benchmark keeps alive with the rig (a server).
    var keep: AnyObject?

    init() throws {
        card = RTL8139(macAddress: clientMAC, memory: board.memory, clock: board.clock, port: FramePort(policy: .hold(capacity: 64)))
        board.attach(card, at: PCIAddress(device: 3))
        board.assignResources()
        board.add(port: card.port)
        undi = UNDI(driver: RTL8139Driver(bus: DriverBus(board: board)), bus: DriverBus(board: board))
        guard undi.bringUp().isSuccess else { throw PXEStatus.undiCannotInitializeNIC }
        baseCode = PXEBaseCode(undi: undi)
        baseCode.ip.address = clientIP
        baseCode.ip.subnetMask = IPv4Address(255, 255, 255, 0)
        baseCode.ip.arpCache.update(serverIP, serverMAC)
        api = PXEAPI(baseCode: baseCode, memory: board.memory)
        try api.install()
    }

    func call(_ op: PXEOpcode) -> PXEExit {
        api.callPXENV(bx: op.rawValue, es: block.segment, di: block.offset)
    }
}

/// One rig per benchmark, kept across samples: the samples then measure the
/// frame path alone, not the board's construction.
nonisolated(unsafe) private var rigs: [String: Rig] = [:]

private func sharedRig(_ name: String, _ make: () throws -> Rig) rethrows -> Rig {
    if let r = rigs[name] { return r }
    let r = try make()
    rigs[name] = r
    return r
}

private func frameTo(_ mac: MACAddress, length: Int) -> [UInt8] {
    ethernetFrame(to: mac, length: length, etherType: 0x0800)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        warmupIterations: 1_000,
        maxDuration: .seconds(3),
        maxIterations: 1_000_000
    )

    for length in [64, 1514] {
        registerMemcpyBaseline("baseline memcpy \(length) bytes", length: length)

        Benchmark("PXE API UNDI_ISR receive \(length) bytes (RTL8139 model + driver + UNDI + API)") { benchmark in
            let rig = try sharedRig("isr\(length)") { try Rig() }
            let bytes = frameTo(clientMAC, length: length)
            try rig.board.memory.fill(at: block.linear, count: 16, with: 0)
            var received = 0
            bytes.withUnsafeBytes { p in
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    rig.card.port.offer(p)
                    try? rig.board.memory.writeU16(block.linear + 2, ISRFunction.process.rawValue)
                    _ = rig.call(.undiISR)
                    if (try? rig.board.memory.readU16(block.linear + 2)) == 3 { received += 1 }
                    try? rig.board.memory.writeU16(block.linear + 2, ISRFunction.getNext.rawValue)
                    _ = rig.call(.undiISR)
                }
                benchmark.stopMeasurement()
            }
            precondition(received == benchmark.scaledIterations.count, "frames went missing: \(received)")
        }

        Benchmark("PXE API UNDI_TRANSMIT \(length) bytes (API + UNDI + RTL8139 driver + model)") { benchmark in
            let rig = try sharedRig("tx\(length)") { try Rig() }
            let wire = NullWire()
            rig.card.port.transmitter = wire
            let payload = [UInt8](repeating: 0x45, count: length - 14)
            try rig.board.memory.write(at: buffer.linear, bytes: payload)
            // TBD at 2100:0000: the payload as the immediate buffer.
            let tbd = RealModeAddress(segment: 0x2100, offset: 0)
            try rig.board.memory.fill(at: tbd.linear, count: 72, with: 0)
            try rig.board.memory.writeU16(tbd.linear, UInt16(payload.count))
            try rig.board.memory.writeU32(tbd.linear + 2, buffer.packed)
            try rig.board.memory.write(at: 0x23000, bytes: MACAddress(0x02, 0, 0, 0, 0, 9).bytes)
            try rig.board.memory.fill(at: block.linear, count: 20, with: 0)
            try rig.board.memory.writeU8(block.linear + 2, UNDIProtocol.ip.rawValue)
            try rig.board.memory.writeU32(block.linear + 4, RealModeAddress(segment: 0x2300, offset: 0).packed)
            try rig.board.memory.writeU32(block.linear + 8, tbd.packed)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                _ = rig.call(.undiTransmit)
            }
            benchmark.stopMeasurement()
            precondition(wire.frames >= benchmark.scaledIterations.count, "frames went missing")
            // Report the completions the way an NBP would, outside the measurement.
            try rig.board.memory.writeU16(block.linear + 2, ISRFunction.process.rawValue)
            _ = rig.call(.undiISR)
        }
    }

    Benchmark("PXE API TFTP_READ 1432-byte blocks (server + model + driver + UNDI + base code + API)") { benchmark in
        // One endless transfer, opened on first use and read across samples.
        let rig = try sharedRig("tftp") {
            let rig = try Rig()
            let server = EndlessTFTPServer(port: rig.card.port, blockSize: 1432)
            rig.card.port.transmitter = server
            rig.board.add(source: server)
            rig.keep = server
            // TFTP_OPEN: server 2, file 10, port 138, PacketSize 140.
            try rig.board.memory.fill(at: block.linear, count: 160, with: 0)
            try rig.board.memory.writeU32(block.linear + 2, serverIP.rawValue.bigEndian)
            try rig.board.memory.write(at: block.linear + 10, bytes: Array("endless".utf8))
            try rig.board.memory.writeU16(block.linear + 138, UInt16(69).bigEndian)
            try rig.board.memory.writeU16(block.linear + 140, 1432)
            rig.baseCode.tftpOptions.requestTransferSize = false
            guard rig.call(.tftpOpen) == .success else { throw PXEStatus.tftpCannotOpenConnection }
            return rig
        }
        try rig.board.memory.fill(at: block.linear, count: 16, with: 0)
        try rig.board.memory.writeU32(block.linear + 6, buffer.packed)
        var blocks = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            if rig.call(.tftpRead) == .success { blocks += 1 }
        }
        benchmark.stopMeasurement()
        precondition(blocks == benchmark.scaledIterations.count, "blocks went missing: \(blocks)")
    }
}
