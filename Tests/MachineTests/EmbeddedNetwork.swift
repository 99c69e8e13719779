import Board
import BootServer
import Bridge
import Foundation
import NICCore
import Wire

/// The network the machine tests boot on: the NIC's port and the embedded
/// BootServer (10.0.2.2, leasing 10.0.2.100-199) on a virtual switch,
/// serving `files` from a temporary TFTP root that goes away with it.
final class EmbeddedNetwork {
    let server: BootServer
    let wire: VirtualSwitch
    let root: URL
    /// Everything the server logged, in order.
    private(set) var events: [BootServerEvent] = []

    init(board: Board, port: FramePort, files: [String: [UInt8]], bootFile: String, ipxeBootFile: String? = nil,
         efiBootFile: String? = nil) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-machine-\(UUID().uuidString)")
        for (name, bytes) in files {
            let url = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        var configuration = BootServerConfiguration(
            mac: MACAddress(0x02, 0x6E, 0x69, 0x63, 0x73, 0x01), ip: IPv4Address(10, 0, 2, 2),
            pool: IPv4Address(10, 0, 2, 100)...IPv4Address(10, 0, 2, 199), tftpRoot: root.path)
        configuration.biosBootFile = bootFile
        configuration.ipxeBootFile = ipxeBootFile
        configuration.efiBootFile = efiBootFile
        server = try BootServer(configuration: configuration, clock: board.clock)
        wire = VirtualSwitch(clock: board.clock)
        wire.connect(device: port)
        wire.connect(device: server.port)
        board.add(port: server.port)
        server.onEvent = { [weak self] in self?.events.append($0) }
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
    }
}
