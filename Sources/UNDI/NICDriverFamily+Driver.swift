import Board
import NICCatalogue

extension NICDriverFamily {
    /// The UNDI driver of this family for the card at `location` (for an
    /// ISA NE2000, its port base and IRQ; a PCI driver finds its card by
    /// configuration cycles, at `pci` or the first it recognises).
    public func makeDriver(bus: DriverBus, pci: PCIAddress? = nil, isa: (ioBase: UInt16, irq: UInt8)? = nil) -> NICDriver {
        switch self {
        case .ne2000:
            if let isa { return NE2000Driver(bus: bus, location: .isa(ioBase: isa.ioBase, irq: isa.irq)) }
            return NE2000Driver(bus: bus, location: .pci(pci))
        case .rtl8139:
            return RTL8139Driver(bus: bus, address: pci)
        case .virtioNet:
            return VirtioNetDriver(bus: bus, address: pci)
        }
    }
}
