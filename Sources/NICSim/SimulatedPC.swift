import Board
import NICCatalogue
import NICCore
import UNDI

/// virtio-net's PCI interfaces, as the catalogue's disable-legacy /
/// disable-modern options choose them.
public enum VirtioInterface: String, CaseIterable, Sendable {
    case legacy, transitional, modern

    /// The catalogue options that select this interface.
    public var catalogueOptions: [(key: String, value: String)] {
        switch self {
        case .legacy: [("disable-modern", "on")]
        case .transitional: []
        case .modern: [("disable-legacy", "on")]
        }
    }
}

/// A board with one card in slot 3, resources assigned as firmware would,
/// and the card's UNDI driver (which reaches it only through the board).
/// Card and driver come from the card's catalogue entry. This is the PC
/// `nicsim boot`, `replay`, `rom run` and `bench` build; a test or an
/// emulator author builds the same one with
/// `SimulatedPC(model: NICCatalogue.rtl8139, mac: ...)`.
public struct SimulatedPC {
    /// Where the card sits: 00:03.0.
    public static let slot = PCIAddress(device: 3)
    public let board: Board
    /// The card's catalogue entry.
    public let model: NICCatalogueEntry
    /// The model's own name for itself (e.g. "RTL8139C+").
    public let modelName: String
    public let mac: MACAddress
    /// The card's wire side.
    public let port: FramePort
    public let driver: NICDriver
    /// The guest RAM the driver keeps its rings and buffers in: a machine
    /// running an NBP on this PC reports it reserved (`Machine.reservedRAM`).
    public let dmaRegion: Range<UInt64>
    /// The card's receive filter as its driver programs it.
    public let stationFilter: StationFilterSource

    /// Builds the PC around `model`, a PCI card of the catalogue. Throws
    /// when the entry is not a PCI card with a station filter.
    public init(model: NICCatalogueEntry, mac: MACAddress, memorySize: Int = 64 << 20,
                virtio: VirtioInterface = .transitional) throws(NICSimError) {
        let board = Board(memorySize: memorySize)
        // The boot paths' virtio-net has no MSI-X table: UNDI and the PXE ROM use INTx.
        var options = NICOptions(pairs: [("mac", mac.description)])
        if model.name == NICCatalogue.virtioNetPCI.name {
            options = NICOptions(pairs: options.pairs + virtio.catalogueOptions + [("vectors", "0")])
        }
        let card: NICCard
        do {
            card = try model.build(options: options, resources: NICHostResources(memory: board.memory, clock: board.clock))
        } catch {
            throw NICSimError("\(model.name): \(error)")
        }
        guard let function = card.pci, let filter = card.device as? StationFilterSource else {
            throw NICSimError("\(model.name) is not a PCI card with a station filter")
        }
        board.attach(function, at: Self.slot)
        port = card.port
        modelName = card.device.modelName
        stationFilter = filter
        let bus = DriverBus(board: board)
        dmaRegion = bus.dmaRegion
        driver = model.driver.makeDriver(bus: bus)
        board.assignResources()
        board.add(port: port)
        self.board = board
        self.model = model
        self.mac = mac
    }
}
