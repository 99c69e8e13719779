import Benchmark
import BenchmarkSupport
import Foundation
import NICSim

// A 64 MiB TFTP read from the BootServer (blksize 1468, windowsize 16)
// by a minimal client that acknowledges each window, against copying the
// same 64 MiB. One iteration is one whole transfer: wall clock gives the
// ratio to memcpy, the malloc count divided by the DATA frames (45,716)
// gives mallocs per frame. The whole chain (model, UNDI, PXE, switch and
// BootServer) is timed the same way by `nicsim bench`.

let fileSize = 64 << 20
let blockSize = 1468
let windowSize = 16
let dataFrames = fileSize / blockSize + 1

/// The client end: keeps the server's frames just long enough to decide
/// on the next ACK, which the loop below sends after the server returns.
private final class WindowClient: FrameTransmitter {
    let server: BootServer
    let me = UDPEndpoint(mac: MACAddress(0x52, 0x54, 0, 0x12, 0x34, 0x56), ip: IPv4Address(10, 0, 2, 100), port: 2070)
    let out = FrameBuffer(capacity: 1600)
    var serverPort: UInt16 = 0
    var pendingAck: UInt16?
    var received = 0
    var expected: UInt16 = 1
    var done = false

    init(server: BootServer) {
        self.server = server
        server.port.transmitter = self
    }

    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        guard let d = try? UDPDatagram(parsing: frame),
              let packet = try? TFTPPacket(parsing: UnsafeRawBufferPointer(rebasing: frame[d.payloadRange])) else { return }
        serverPort = d.udp.sourcePort
        switch packet {
        case .optionAcknowledgement:
            pendingAck = 0
        case .data(let block, let payload):
            guard block == expected else { return }
            expected &+= 1
            received += payload.count
            if payload.count < blockSize { done = true; pendingAck = block } else if block % UInt16(windowSize) == 0 { pendingAck = block }
        default:
            done = true
        }
    }

    func send(_ bytes: UnsafeRawBufferPointer, to port: UInt16) {
        let area = UDPFrame.payloadArea(of: out)
        area.copyMemory(from: bytes)
        let dst = UDPEndpoint(mac: server.configuration.mac, ip: server.configuration.ip, port: port)
        try? UDPFrame.finish(out, from: me, to: dst, payloadCount: bytes.count)
        server.port.offer(out.bytes)
    }

    /// One whole transfer; returns the bytes received.
    func download(request: [UInt8]) -> Int {
        received = 0
        expected = 1
        done = false
        request.withUnsafeBytes { send($0, to: 69) }
        var ack: [UInt8] = [0, 4, 0, 0]
        while let block = pendingAck {
            pendingAck = nil
            ack[2] = UInt8(block >> 8)
            ack[3] = UInt8(block & 0xFF)
            ack.withUnsafeBytes { send($0, to: serverPort) }
            if done { break }
        }
        return received
    }
}

private func makeTree() -> String {
    let dir = NSTemporaryDirectory() + "nicsim-bench-tftp"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/big.img"
    if (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) != fileSize {
        var rng = SeededRandom(seed: 64)
        let bytes = (0..<fileSize / 8).map { _ in rng.next() }
        _ = bytes.withUnsafeBytes { FileManager.default.createFile(atPath: path, contents: Data($0)) }
    }
    return dir
}

private func rrq() -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 256)
    let request = TFTPRequest(filename: "big.img", options: [TFTPOption("blksize", "\(blockSize)"), TFTPOption("tsize", "0"),
                                                             TFTPOption("windowsize", "\(windowSize)")])
    let n = (try? out.withUnsafeMutableBytes { try TFTPPacket.writeRequest(.readRequest, request, to: $0) }) ?? 0
    return Array(out[0..<n])
}

/// Router Solicitations from a link-local host, answered with a Router
/// Advertisement each (RFC 4861 §6.2.6); counts the answers.
private final class SolicitingClient: FrameTransmitter {
    let server: BootServer
    let solicitation: [UInt8]
    var advertisements = 0

    init(server: BootServer) {
        self.server = server
        let mac = MACAddress(0x52, 0x54, 0, 0x12, 0x34, 0x56)
        let source = IPv6Address.linkLocal(modifiedEUI64: mac)
        let buffer = FrameBuffer(capacity: 128)
        let n = (try? RouterSolicitation(sourceLinkLayerAddress: mac)
            .write(to: ICMPv6Frame.messageArea(of: buffer), source: source, destination: .allRouters)) ?? 0
        try? ICMPv6Frame.finish(buffer, from: mac, source, to: IPv6Address.allRouters.multicastMAC, .allRouters,
                                hopLimit: 255, messageCount: n)
        solicitation = Array(buffer.bytes)
        server.port.transmitter = self
    }

    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        if frame.count > 54, frame[54] == ICMPv6Type.routerAdvertisement.rawValue { advertisements += 1 }
    }
}

let solicitations = 100_000

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 1,
        maxDuration: .seconds(10),
        maxIterations: 20
    )

    registerMemcpyBaseline("memcpy 64 MiB (baseline)", length: fileSize)

    Benchmark("BootServer Router Solicitation -> Advertisement (\(solicitations) frames)") { benchmark in
        let dir = NSTemporaryDirectory()
        let config = BootServerConfiguration(mac: MACAddress(2, 0x6E, 0x69, 0x63, 0x73, 1), ip: IPv4Address(10, 0, 2, 2),
                                             pool: IPv4Address(10, 0, 2, 100)...IPv4Address(10, 0, 2, 120), tftpRoot: dir)
        let server = try BootServer(configuration: config, clock: VirtualClock())
        let client = SolicitingClient(server: server)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            client.advertisements = 0
            client.solicitation.withUnsafeBytes { frame in
                for _ in 0..<solicitations { server.port.offer(frame) }
            }
            precondition(client.advertisements == solicitations, "answered \(client.advertisements)")
        }
        benchmark.stopMeasurement()
    }

    Benchmark("BootServer TFTP 64 MiB, blksize 1468, windowsize 16 (45716 DATA frames)") { benchmark in
        let dir = makeTree()
        let clock = VirtualClock()
        let config = BootServerConfiguration(mac: MACAddress(2, 0x6E, 0x69, 0x63, 0x73, 1), ip: IPv4Address(10, 0, 2, 2),
                                             pool: IPv4Address(10, 0, 2, 100)...IPv4Address(10, 0, 2, 120), tftpRoot: dir)
        let server = try BootServer(configuration: config, clock: clock)
        let client = WindowClient(server: server)
        let request = rrq()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let n = client.download(request: request)
            precondition(n == fileSize, "transfer incomplete: \(n)")
        }
        benchmark.stopMeasurement()
    }
}
