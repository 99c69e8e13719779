import ArgumentParser
import Board
import NE2000
import NICCore
import RTL8139
import UNDI
import VirtioNet

/// The NIC models a client can boot on.
enum ModelName: String, ExpressibleByArgument, CaseIterable {
    case ne2000
    case rtl8139
    case virtioNet = "virtio-net"
}

/// A board with one card in slot 3, resources assigned as firmware would,
/// and the card's UNDI driver (which reaches it only through the board).
struct SimulatedPC {
    /// Where the card sits: 00:03.0.
    static let slot = PCIAddress(device: 3)
    let board: Board
    let model: ModelName
    let modelName: String
    let mac: MACAddress
    /// The card's wire side.
    let port: FramePort
    let driver: NICDriver
    /// The card's receive filter as its driver programs it.
    let stationFilter: StationFilterSource

    init(model: ModelName, mac: MACAddress, memorySize: Int = 64 << 20, virtio: VirtioPCIVariant = .transitional) {
        let board = Board(memorySize: memorySize)
        let slot = Self.slot
        switch model {
        case .ne2000:
            let card = RTL8029(macAddress: mac, memory: board.memory, clock: board.clock)
            board.attach(card, at: slot)
            port = card.port
            modelName = card.modelName
            stationFilter = card
            driver = NE2000Driver(bus: DriverBus(board: board), location: .pci())
        case .rtl8139:
            let card = RTL8139(macAddress: mac, memory: board.memory, clock: board.clock)
            board.attach(card, at: slot)
            port = card.port
            modelName = card.modelName
            stationFilter = card
            driver = RTL8139Driver(bus: DriverBus(board: board))
        case .virtioNet:
            let card = VirtioNet(configuration: VirtioNetConfiguration(macAddress: mac, variant: virtio), memory: board.memory,
                                 clock: board.clock)
            board.attach(card, at: slot)
            port = card.port
            modelName = card.modelName
            stationFilter = card
            driver = VirtioNetDriver(bus: DriverBus(board: board))
        }
        board.assignResources()
        board.add(port: port)
        self.board = board
        self.model = model
        self.mac = mac
    }
}
