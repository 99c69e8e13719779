import Foundation
import NICCore
import Wire
@testable import BootServer

/// A client on the other end of the server's port: it offers frames to the
/// server and keeps every frame the server sends, parsed.
final class ScriptedClient: FrameTransmitter {
    let server: BootServer
    let mac: MACAddress
    var ip: IPv4Address
    var sent: [[UInt8]] = []
    private let buffer = FrameBuffer(capacity: 2048)

    init(server: BootServer, mac: MACAddress = MACAddress(0x52, 0x54, 0, 0x12, 0x34, 0x56), ip: IPv4Address = .any) {
        self.server = server
        self.mac = mac
        self.ip = ip
        server.port.transmitter = self
    }

    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        sent.append(Array(frame))
    }

    /// Takes the frames the server sent so far.
    func drain() -> [[UInt8]] {
        defer { sent.removeAll() }
        return sent
    }

    /// Sends a UDP datagram to the server (or broadcast).
    @discardableResult
    func send(_ payload: [UInt8], from port: UInt16, to destination: UDPEndpoint) -> OfferResult {
        let source = UDPEndpoint(mac: mac, ip: ip, port: port)
        try? payload.withUnsafeBytes { try UDPFrame.build(buffer, from: source, to: destination, payload: $0) }
        return server.port.offer(buffer.bytes)
    }

    var serverEndpoint: UDPEndpoint {
        UDPEndpoint(mac: server.configuration.mac, ip: server.configuration.ip, port: 0)
    }

    func sendDHCP(_ m: DHCPMessage, toPort port: UInt16 = DHCPMessage.serverPort) {
        let dst = port == DHCPMessage.serverPort
            ? UDPEndpoint(mac: .broadcast, ip: .broadcast, port: port)
            : UDPEndpoint(mac: server.configuration.mac, ip: server.configuration.ip, port: port)
        send(m.encoded(), from: port == DHCPMessage.serverPort ? DHCPMessage.clientPort : port, to: dst)
    }

    func sendTFTP(_ payload: [UInt8], from port: UInt16, toPort: UInt16) {
        var dst = serverEndpoint
        dst.port = toPort
        send(payload, from: port, to: dst)
    }

    /// Frames the server sent, parsed as UDP.
    static func datagrams(_ frames: [[UInt8]]) -> [(UDPDatagram, [UInt8])] {
        frames.compactMap { f in
            guard let d = try? f.withUnsafeBytes({ try UDPDatagram(parsing: $0) }) else { return nil }
            return (d, Array(f[d.payloadRange]))
        }
    }
}

func rrq(_ name: String, options: [TFTPOption] = [], mode: String = "octet") -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 1024)
    let n = (try? out.withUnsafeMutableBytes { try TFTPPacket.writeRequest(.readRequest, TFTPRequest(filename: name, mode: mode, options: options), to: $0) }) ?? 0
    return Array(out[0..<n])
}

func ack(_ block: UInt16) -> [UInt8] { [0, 4, UInt8(block >> 8), UInt8(block & 0xFF)] }

func parseTFTP(_ bytes: [UInt8]) -> TFTPPacket? {
    try? bytes.withUnsafeBytes { try TFTPPacket(parsing: $0) }
}

/// A temporary TFTP root, removed at deinit.
final class TemporaryTree {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "nicsim-tftp-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> [UInt8] {
        let full = path + "/" + name
        try? FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: full, contents: Data(bytes))
        return bytes
    }

    func symlink(_ name: String, to target: String) {
        try? FileManager.default.createSymbolicLink(atPath: path + "/" + name, withDestinationPath: target)
    }
}

func patternBytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var rng = SeededRandom(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
}

let serverIP = IPv4Address(10, 0, 2, 2)
let serverMAC = MACAddress(0x02, 0x6E, 0x69, 0x63, 0x73, 0x01)

func makeConfiguration(root: String) -> BootServerConfiguration {
    var c = BootServerConfiguration(mac: serverMAC, ip: serverIP, pool: IPv4Address(10, 0, 2, 100)...IPv4Address(10, 0, 2, 102), tftpRoot: root)
    c.router = IPv4Address(10, 0, 2, 1)
    c.efiBootFile = "efi/syslinux.efi"
    c.ipxeBootFile = "boot.ipxe"
    return c
}

func pxeDiscover(mac: MACAddress = MACAddress(0x52, 0x54, 0, 0x12, 0x34, 0x56), xid: UInt32 = 0x1234_5678,
                 arch: UInt16 = 0, type: DHCPMessageType = .discover) -> DHCPMessage {
    var m = DHCPMessage(operation: .request, transactionID: xid, clientMAC: mac)
    m.options = [
        DHCPOption(.messageType, [type.rawValue]),
        DHCPOption(.vendorClassIdentifier, string: "PXEClient:Arch:0000\(arch):UNDI:002001"),
        DHCPOption(.clientArchitecture, [UInt8(arch >> 8), UInt8(arch & 0xFF)]),
        DHCPOption(.clientNetworkInterface, [1, 2, 1]),
        DHCPOption(.clientMachineIdentifier, [0] + [UInt8](repeating: 0x5A, count: 16)),
    ]
    return m
}
