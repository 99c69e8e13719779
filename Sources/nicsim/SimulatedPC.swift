import ArgumentParser
import Board
import NICCatalogue
import NICCore
import UNDI

/// The NIC models a client can boot on: the catalogue's PCI cards, by
/// nicsim's names (QEMU's are accepted too).
struct ModelName: ExpressibleByArgument, CaseIterable, Equatable {
    /// The card's catalogue entry.
    let entry: NICCatalogueEntry

    static func == (a: ModelName, b: ModelName) -> Bool { a.entry.name == b.entry.name }

    static let ne2000 = ModelName(entry: NICCatalogue.ne2kPCI)
    static let rtl8139 = ModelName(entry: NICCatalogue.rtl8139)
    static let virtioNet = ModelName(entry: NICCatalogue.virtioNetPCI)

    static var allCases: [ModelName] { NICCatalogue.all.filter { $0.bus == .pci }.map { ModelName(entry: $0) } }

    var rawValue: String { entry.name }

    private init(entry: NICCatalogueEntry) { self.entry = entry }

    init?(argument: String) {
        guard let entry = NICCatalogue.entry(named: argument), entry.bus == .pci else { return nil }
        self.entry = entry
    }

    static var allValueStrings: [String] { allCases.map(\.rawValue) }
    var defaultValueDescription: String { rawValue }
}

/// virtio-net's PCI interfaces, as the catalogue's disable-legacy /
/// disable-modern options choose them.
enum VirtioInterface: String, ExpressibleByArgument, CaseIterable {
    case legacy, transitional, modern

    var catalogueOptions: [(key: String, value: String)] {
        switch self {
        case .legacy: [("disable-modern", "on")]
        case .transitional: []
        case .modern: [("disable-legacy", "on")]
        }
    }
}

/// A board with one card in slot 3, resources assigned as firmware would,
/// and the card's UNDI driver (which reaches it only through the board).
/// Card and driver come from the card's catalogue entry.
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

    init(model: ModelName, mac: MACAddress, memorySize: Int = 64 << 20, virtio: VirtioInterface = .transitional) {
        let board = Board(memorySize: memorySize)
        let entry = model.entry
        // The boot paths' virtio-net has no MSI-X table: UNDI and the PXE ROM use INTx.
        var options = NICOptions(pairs: [("mac", mac.description)])
        if model == .virtioNet {
            options = NICOptions(pairs: options.pairs + virtio.catalogueOptions + [("vectors", "0")])
        }
        let card: NICCard
        do {
            card = try entry.build(options: options, resources: NICHostResources(memory: board.memory, clock: board.clock))
        } catch {
            // The options above are the catalogue's own; a refusal is a bug here, not a user error.
            preconditionFailure("catalogue refused \(entry.name): \(error)")
        }
        guard let function = card.pci, let filter = card.device as? StationFilterSource else {
            preconditionFailure("\(entry.name) is not a PCI card with a station filter")
        }
        board.attach(function, at: Self.slot)
        port = card.port
        modelName = card.device.modelName
        stationFilter = filter
        driver = entry.driver.makeDriver(bus: DriverBus(board: board))
        board.assignResources()
        board.add(port: port)
        self.board = board
        self.model = model
        self.mac = mac
    }
}
