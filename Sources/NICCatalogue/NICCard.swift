import NICCore

/// One card built from the catalogue, seen the way a host without a Board
/// sees it (an emulator behind the C ABI, a test): configuration space and
/// BARs for a PCI function, one port window for an ISA card, the wire, the
/// interrupt, and MSI-X messages when the card has them.
public final class NICCard {
    /// The catalogue entry it was built from.
    public let entry: NICCatalogueEntry
    /// The model (RTL8139, RTL8029, NE2000ISA, VirtioNet).
    public let device: NetworkDevice
    /// The PCI function, for a PCI card.
    public let pci: PCIFunction?
    /// The ports, for an ISA card (its one "BAR").
    public let isa: RegisterBlock?
    /// The ISA resources the options chose (port base and IRQ).
    public let isaResources: (ioBase: UInt64, irq: Int)?
    /// The card's snapshots. Held as a typed reference rather than found by
    /// a dynamic cast, so a static link keeps the conformance.
    public let snapshots: Snapshottable
    /// Whether the card's receiver might take a frame now.
    public let readiness: ReceiveReadiness
    private let attachInterrupt: (InterruptLine) -> Void
    private let attachMessages: ((@escaping (_ address: UInt64, _ data: UInt32) -> Void) -> Void)?

    init(entry: NICCatalogueEntry, device: NetworkDevice, snapshots: Snapshottable, readiness: ReceiveReadiness, pci: PCIFunction?, isa: RegisterBlock? = nil,
         isaResources: (ioBase: UInt64, irq: Int)? = nil,
         attachInterrupt: @escaping (InterruptLine) -> Void,
         attachMessages: ((@escaping (UInt64, UInt32) -> Void) -> Void)? = nil) {
        self.entry = entry
        self.device = device
        self.pci = pci
        self.isa = isa
        self.isaResources = isaResources
        self.snapshots = snapshots
        self.readiness = readiness
        self.attachInterrupt = attachInterrupt
        self.attachMessages = attachMessages
    }

    /// The wire side.
    public var port: FramePort { device.port }

    /// Wires the card's INTx (a PCI function's pin, through its Interrupt
    /// Disable bit) or its ISA IRQ to `line`.
    public func connectInterrupt(_ line: InterruptLine) {
        attachInterrupt(line)
    }

    /// True when the card can send MSI or MSI-X messages.
    public var hasMessageSignaledInterrupts: Bool { attachMessages != nil }

    /// Hands every MSI/MSI-X message the card sends (the address and data
    /// the guest programmed) to `deliver`.
    public func connectMessages(_ deliver: @escaping (_ address: UInt64, _ data: UInt32) -> Void) {
        attachMessages?(deliver)
    }

    /// The registers behind BAR `index`: the PCI function's, or for an ISA
    /// card its ports as BAR 0.
    public func registers(forBAR index: Int) -> RegisterBlock? {
        if let pci { return index >= 0 && index < 6 ? pci.registers(forBAR: index) : nil }
        return index == 0 ? isa : nil
    }

    /// The expansion ROM image the function exposes, if any.
    public var expansionROMImage: [UInt8]? { pci?.expansionROMImage }
}
