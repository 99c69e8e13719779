import Board
import NICCatalogue
import NICCore

/// Builds the device model behind each `-device` driver name from its
/// catalogue entry, configured the way QEMU configures its own model of
/// that card.
enum QTestDevices {
    /// A NIC on a wire loses the frames it has no room for (and counts them
    /// as missed where the chip does, once per frame); a held-and-retried
    /// frame would make the outcome depend on when the loop runs.
    static func wirePort() -> FramePort { FramePort(policy: .drop) }

    static func entry(_ d: QEMUOptions.Device) throws(QEMUOptionsError) -> NICCatalogueEntry {
        guard let entry = NICCatalogue.entry(named: d.driver.rawValue) else {
            throw QEMUOptionsError("-device \(d.driver.rawValue): not in nicsim's catalogue")
        }
        return entry
    }

    static func build(_ d: QEMUOptions.Device, options: [(key: String, value: String)], mac: MACAddress,
                      board: Board) throws(QEMUOptionsError) -> NICCard {
        let entry = try entry(d)
        let resources = NICHostResources(memory: board.memory, clock: board.clock, port: wirePort())
        do {
            return try entry.build(options: NICOptions(pairs: [("mac", mac.description)] + options), resources: resources)
        } catch {
            throw QEMUOptionsError("-device \(d.driver.rawValue): \(error.description)")
        }
    }

    static func makePCI(_ d: QEMUOptions.Device, mac: MACAddress, board: Board) throws(QEMUOptionsError) -> (PCIFunction, NetworkDevice) {
        guard try entry(d).bus == .pci else { throw QEMUOptionsError("-device \(d.driver.rawValue) is an ISA card") }
        var options: [(key: String, value: String)] = []
        if let v = d.disableLegacy { options.append(("disable-legacy", v ? "on" : "off")) }
        if let v = d.disableModern { options.append(("disable-modern", v ? "on" : "off")) }
        // Over a socket or stream netdev QEMU's peer has no virtio-net
        // header support, so QEMU offers no checksum offload; neither do we.
        // MSI-X: the catalogue's default, QEMU's 2 x queues + 2 = 4 vectors.
        if d.driver == .virtioNetPCI { options.append(("csum", "off")) }
        let card = try build(d, options: options, mac: mac, board: board)
        guard let function = card.pci else { throw QEMUOptionsError("-device \(d.driver.rawValue) is not a PCI card") }
        return (function, card.device)
    }

    static func makeISA(_ d: QEMUOptions.Device, mac: MACAddress, board: Board) throws(QEMUOptionsError) -> NetworkDevice {
        let card = try build(d, options: [("iobase", String(d.ioBase)), ("irq", String(d.irq))], mac: mac, board: board)
        guard let ports = card.isa, let (ioBase, irq) = card.isaResources else {
            throw QEMUOptionsError("-device \(d.driver.rawValue) is not an ISA card")
        }
        do {
            card.connectInterrupt(try board.attachISA(ports, ioBase: ioBase, irq: irq, name: d.driver.rawValue))
        } catch {
            throw QEMUOptionsError("-device \(d.driver.rawValue): \(error.description)")
        }
        return card.device
    }
}
