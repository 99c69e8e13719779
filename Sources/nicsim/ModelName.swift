import ArgumentParser
import NICCatalogue
import NICCore
import NICSim

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

extension VirtioInterface: ExpressibleByArgument {}

extension SimulatedPC {
    /// The PC with `model`'s card. Every `ModelName` is a PCI card of the
    /// catalogue, so the library's refusal can only be a bug here.
    init(model: ModelName, mac: MACAddress, memorySize: Int = 64 << 20, virtio: VirtioInterface = .transitional) {
        do {
            try self.init(model: model.entry, mac: mac, memorySize: memorySize, virtio: virtio)
        } catch {
            preconditionFailure("SimulatedPC refused catalogue entry \(model.rawValue): \(error)")
        }
    }
}
