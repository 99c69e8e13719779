import Board
import NICCore

/// A QEMU `pc` machine as qtest sees it with no firmware run: RAM at 0,
/// the i440FX-compatible host bridge at 00:00.0, a PIIX3-compatible
/// PCI-to-ISA bridge at 00:01.0 with PIRQ routing disabled, and the NICs
/// of the `-device` options with their BARs unprogrammed and their
/// command registers clear, exactly as reset leaves them.
public final class QTestMachine {
    public let board: Board
    public let piix3: PIIX3
    /// One entry per `-device`, in command-line order.
    public private(set) var nics: [NIC] = []

    public struct NIC {
        public let options: QEMUOptions.Device
        public let device: NetworkDevice
        /// Where a PCI card sits (nil for ISA).
        public let address: PCIAddress?
    }

    /// QEMU's first default MAC address; the Nth NIC without `mac=` gets
    /// this plus N in the last byte.
    public static let defaultMAC = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
    /// Slot QEMU gives the first PCI device without `addr=` on a machine
    /// with `-nodefaults` (slot 1 is the PIIX3).
    public static let firstFreeSlot: UInt8 = 2

    public init(options: QEMUOptions) throws(QEMUOptionsError) {
        board = Board(memorySize: options.memorySize)
        // The Board's default INTx wiring is PIIX3's, as in QEMU's pc machine:
        // slot 3's INTA lands on PIRQC, so scripts that route it work unchanged.
        piix3 = PIIX3(router: board.pirq)
        board.attach(piix3, at: PCIAddress(device: 1))
        var macIndex: UInt8 = 0
        for d in options.devices {
            var mac = d.mac
            if mac == nil {
                let base = Self.defaultMAC.rawValue
                mac = MACAddress(rawValue: (base & ~0xFF) | UInt64((0x56 &+ macIndex) & 0xFF))
                macIndex &+= 1
            }
            try add(d, mac: mac ?? Self.defaultMAC)
        }
    }

    private func add(_ d: QEMUOptions.Device, mac: MACAddress) throws(QEMUOptionsError) {
        let context = "-device \(d.driver.rawValue)"
        if d.driver.entry?.bus == .isa {
            let device = try QTestDevices.makeISA(d, mac: mac, board: board)
            nics.append(NIC(options: d, device: device, address: nil))
            board.add(port: device.port)
            return
        }
        let address: PCIAddress
        if let a = d.address {
            address = PCIAddress(device: a.slot, function: a.function)
            guard board.function(at: address) == nil else {
                throw QEMUOptionsError("\(context): PCI address \(address) is already in use")
            }
        } else {
            guard let slot = (Self.firstFreeSlot..<32).first(where: { board.function(at: PCIAddress(device: $0)) == nil }) else {
                throw QEMUOptionsError("\(context): no free PCI slot")
            }
            address = PCIAddress(device: slot)
        }
        let (function, device) = try QTestDevices.makePCI(d, mac: mac, board: board)
        board.attach(function, at: address)
        board.add(port: device.port)
        nics.append(NIC(options: d, device: device, address: address))
    }

    /// The NIC bound to netdev `id`, if any.
    public func nic(forNetdev id: String) -> NIC? {
        nics.first { $0.options.netdev == id }
    }
}
