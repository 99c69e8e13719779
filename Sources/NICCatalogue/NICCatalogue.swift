import NE2000
import NICCore
import RTL8139
import VirtioNet

/// The bus a card sits on.
public enum NICBus: String, Sendable {
    case pci
    case isa
}

/// Which UNDI driver programs the card (UNDI builds it from this, through
/// the Board's buses only).
public enum NICDriverFamily: String, Sendable {
    /// NE2000Driver: DP8390 through programmed I/O (PCI or ISA).
    case ne2000
    /// RTL8139Driver: classic ring or C+ descriptors.
    case rtl8139
    /// VirtioNetDriver: legacy or modern virtio-pci.
    case virtioNet
}

/// What a card needs from its host to be built: guest RAM for DMA, the
/// clock its timers run on, and the port its frames cross.
public struct NICHostResources {
    public var memory: GuestMemory
    public var clock: VirtualClock
    public var port: FramePort

    public init(memory: GuestMemory, clock: VirtualClock, port: FramePort = FramePort()) {
        self.memory = memory
        self.clock = clock
        self.port = port
    }
}

/// One card, declared once (in the spirit of QEMU's `TypeInfo`): its
/// names, PCI identity, options, link speed and how to build it. The C
/// ABI, qtest and the tests build cards from here, so a new NIC is one
/// new model target plus one entry.
public struct NICCatalogueEntry: Sendable {
    /// nicsim's name (`--model`).
    public let name: String
    /// QEMU's `-device` driver name.
    public let qemuName: String
    public let bus: NICBus
    /// PCI vendor and device IDs (every ID the card can show: virtio-net's
    /// modern-only variant is 1af4:1041); empty for ISA.
    public let pciIDs: [(vendor: UInt16, device: UInt16)]
    /// The option keys `build` accepts.
    public let options: [String]
    /// The nominal link speed in bits per second (what UNDI reports).
    public let linkSpeed: UInt32
    /// The UNDI driver for it.
    public let driver: NICDriverFamily
    /// One line for `--help` and the docs.
    public let summary: String
    let make: @Sendable (NICCatalogueEntry, NICOptions, MACAddress, NICHostResources) throws(NICCatalogueError) -> NICCard

    /// The MAC a card gets when `mac=` is not given (QEMU's first NIC address).
    public static let defaultMAC = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)

    /// Builds the card with `options`, on `resources`.
    public func build(options: NICOptions = NICOptions(), resources: NICHostResources) throws(NICCatalogueError) -> NICCard {
        try options.check(known: self.options, model: qemuName)
        let mac = try options.mac("mac") ?? Self.defaultMAC
        return try make(self, options, mac, resources)
    }

    /// True when `name` is this card's nicsim or QEMU name.
    public func answers(to name: String) -> Bool {
        name == self.name || name == qemuName
    }
}

/// Every card nicsim models.
public enum NICCatalogue {
    /// MSI-X vectors QEMU gives a virtio-net-pci with one queue pair (2 x queues + 2).
    public static let virtioDefaultVectors = 4

    public static let rtl8139 = NICCatalogueEntry(
        name: "rtl8139", qemuName: "rtl8139", bus: .pci,
        pciIDs: [(RTL8139.identity.vendorID, RTL8139.identity.deviceID)],
        options: ["mac"], linkSpeed: 100_000_000, driver: .rtl8139,
        summary: "Realtek RTL8139C+ (PCI, 100 Mb/s, bus-master rings, C+ descriptors)"
    ) { entry, _, mac, r throws(NICCatalogueError) in
        let card = RTL8139(macAddress: mac, memory: r.memory, clock: r.clock, port: r.port)
        return NICCard(entry: entry, device: card, snapshots: card, readiness: card, pci: card,
                       attachInterrupt: { card.config.upstream = $0 })
    }

    public static let ne2kPCI = NICCatalogueEntry(
        name: "ne2000", qemuName: "ne2k_pci", bus: .pci,
        pciIDs: [(RTL8029.vendorID, RTL8029.deviceID)],
        options: ["mac"], linkSpeed: 10_000_000, driver: .ne2000,
        summary: "Realtek RTL8029AS, an NE2000 on PCI (10 Mb/s, programmed I/O)"
    ) { entry, _, mac, r throws(NICCatalogueError) in
        let card = RTL8029(macAddress: mac, port: r.port)
        return NICCard(entry: entry, device: card, snapshots: card, readiness: card, pci: card,
                       attachInterrupt: { card.config.upstream = $0 })
    }

    public static let ne2kISA = NICCatalogueEntry(
        name: "ne2000-isa", qemuName: "ne2k_isa", bus: .isa, pciIDs: [],
        options: ["mac", "iobase", "irq"], linkSpeed: 10_000_000, driver: .ne2000,
        summary: "NE2000 on ISA (DP8390, iobase= default 0x300, irq= default 9)"
    ) { entry, o, mac, r throws(NICCatalogueError) in
        let ioBase = try o.integer("iobase", in: 0...0xFFE0) ?? Int(NE2000ISA.defaultIOBase)
        let irq = try o.integer("irq", in: 0...15) ?? NE2000ISA.defaultIRQ
        let card = NE2000ISA(macAddress: mac, ioBase: UInt64(ioBase), irq: irq, port: r.port)
        return NICCard(entry: entry, device: card, snapshots: card, readiness: card, pci: nil, isa: card,
                       isaResources: (UInt64(ioBase), irq),
                       attachInterrupt: { card.interruptLine = $0 })
    }

    public static let virtioNetPCI = NICCatalogueEntry(
        name: "virtio-net", qemuName: "virtio-net-pci", bus: .pci,
        pciIDs: [(0x1AF4, 0x1000), (0x1AF4, 0x1041)],
        options: ["mac", "disable-legacy", "disable-modern", "vectors", "csum"], linkSpeed: 1_000_000_000, driver: .virtioNet,
        summary: "virtio-net over virtio-pci: legacy, transitional (default) or modern, MSI-X"
    ) { entry, o, mac, r throws(NICCatalogueError) in
        let disableLegacy = try o.bool("disable-legacy") ?? false
        let disableModern = try o.bool("disable-modern") ?? false
        guard !(disableLegacy && disableModern) else {
            throw NICCatalogueError("virtio-net-pci: disable-legacy=on and disable-modern=on leave no interface")
        }
        let vectors = try o.integer("vectors", in: 0...64) ?? virtioDefaultVectors
        let configuration = VirtioNetConfiguration(
            macAddress: mac, variant: VirtioPCIVariant(disableLegacy: disableLegacy, disableModern: disableModern),
            msixVectors: vectors, checksumOffload: try o.bool("csum") ?? true)
        let card = VirtioNet(configuration: configuration, memory: r.memory, clock: r.clock)
        // VirtioNet owns its port; a host's port policy applies to the card's.
        return NICCard(entry: entry, device: card, snapshots: card, readiness: card, pci: card,
                       attachInterrupt: { card.config.upstream = $0 },
                       attachMessages: card.msix == nil ? nil : { card.connectMessages($0) })
    }

    /// The nominal speed UNDI reports for a PCI card (10 Mb/s for one the
    /// catalogue does not know).
    public static func linkSpeed(vendor: UInt16, device: UInt16) -> UInt32 {
        entry(vendor: vendor, device: device)?.linkSpeed ?? 10_000_000
    }

    /// Every entry, in the order `--help` and qtest's errors list them.
    public static let all: [NICCatalogueEntry] = [rtl8139, ne2kPCI, ne2kISA, virtioNetPCI]

    /// The entry `name` names (nicsim's or QEMU's name).
    public static func entry(named name: String) -> NICCatalogueEntry? {
        all.first { $0.answers(to: name) }
    }

    /// The entry for a PCI vendor/device pair.
    public static func entry(vendor: UInt16, device: UInt16) -> NICCatalogueEntry? {
        all.first { $0.pciIDs.contains { $0.vendor == vendor && $0.device == device } }
    }

    /// Looks up `model` and builds it with `options` text, or throws one line.
    public static func build(model: String, options: String, resources: NICHostResources) throws(NICCatalogueError) -> NICCard {
        guard let entry = entry(named: model) else {
            let names = all.flatMap { [$0.qemuName, $0.name] }.joined(separator: ", ")
            throw NICCatalogueError("unknown model '\(model)' (known: \(names))")
        }
        return try entry.build(options: NICOptions(parsing: options), resources: resources)
    }
}
