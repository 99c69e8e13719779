import Board
import NE2000
import NICCore
import RTL8139
import VirtioNet

/// Builds the device model behind each `-device` driver name, configured
/// the way QEMU configures its own model of that card.
enum QTestDevices {
    /// MSI-X vectors QEMU gives a virtio-net-pci with one queue pair
    /// (2 x queues + 2).
    static let virtioMSIXVectors = 4

    /// A NIC on a wire loses the frames it has no room for (and counts them
    /// as missed where the chip does, once per frame); a held-and-retried
    /// frame would make the outcome depend on when the loop runs.
    static func wirePort() -> FramePort { FramePort(policy: .drop) }

    static func makePCI(_ d: QEMUOptions.Device, mac: MACAddress, board: Board) throws(QEMUOptionsError) -> (PCIFunction, NetworkDevice) {
        switch d.driver {
        case .ne2kPCI:
            let card = RTL8029(macAddress: mac, port: wirePort())
            return (card, card)
        case .rtl8139:
            let card = RTL8139(macAddress: mac, memory: board.memory, clock: board.clock, port: wirePort())
            return (card, card)
        case .virtioNetPCI:
            let variant = VirtioPCIVariant(disableLegacy: d.disableLegacy ?? false, disableModern: d.disableModern ?? false)
            // Over a socket or stream netdev QEMU's peer has no virtio-net
            // header support, so QEMU offers no checksum offload; neither do we.
            let configuration = VirtioNetConfiguration(
                macAddress: mac, variant: variant, msixVectors: virtioMSIXVectors, checksumOffload: false)
            let card = VirtioNet(configuration: configuration, memory: board.memory, clock: board.clock)
            return (card, card)
        case .ne2kISA:
            throw QEMUOptionsError("-device ne2k_isa is an ISA card")
        }
    }

    static func makeISA(_ d: QEMUOptions.Device, mac: MACAddress, board: Board) throws(QEMUOptionsError) -> NetworkDevice {
        let card = NE2000ISA(macAddress: mac, ioBase: UInt64(d.ioBase), irq: d.irq, port: wirePort())
        do {
            card.interruptLine = try board.attachISA(card, ioBase: card.ioBase, irq: card.irq, name: "ne2k_isa")
        } catch {
            throw QEMUOptionsError("-device ne2k_isa: \(error.description)")
        }
        return card
    }
}
