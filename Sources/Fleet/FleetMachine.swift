import Board
import NICCatalogue
import NICCore
import UNDI

/// One fleet client's hardware: a board on the fleet's shared clock with
/// RAM sized to what the boot loads, its card in slot 3 with resources
/// assigned as firmware would, and the card's UNDI driver.
///
/// Guest RAM: the first MiB (the PXE ROM's structures and the NBP at
/// 0000:7C00), then `loadArea` bytes where the built-in pxelinux puts the
/// kernel and initrds, then 1 MiB for the driver's rings and buffers. A
/// default `nicsim boot` board has 64 MiB; a fleet client only what its
/// files need, so a thousand of them fit in a few GiB.
final class FleetMachine {
    static let slot = PCIAddress(device: 3)
    static let conventional: UInt64 = 0x10_0000
    static let dmaArea: UInt64 = 0x10_0000

    let board: Board
    let port: FramePort
    let driver: NICDriver
    let modelName: String
    /// Where pxelinux may load: [loadStart, loadEnd).
    let loadStart: UInt64 = FleetMachine.conventional
    let loadEnd: UInt64
    var ramBytes: Int { Int(board.memory.size) }

    /// Nil when the catalogue has no PCI card of that name.
    init?(model: String, mac: MACAddress, loadArea: UInt64, clock: VirtualClock) {
        guard let entry = NICCatalogue.entry(named: model), entry.bus == .pci else { return nil }
        let load = (loadArea + 0xFFF) & ~0xFFF
        loadEnd = Self.conventional + load
        let board = Board(memorySize: Int(loadEnd + Self.dmaArea), clock: clock)
        var options = NICOptions(pairs: [("mac", mac.description)])
        // As `nicsim boot`: UNDI and the PXE ROM use INTx, not MSI-X.
        if entry.driver == .virtioNet { options = NICOptions(pairs: options.pairs + [("vectors", "0")]) }
        // Frames the card can't take at once wait here; a few are plenty for a boot.
        let wire = FramePort(policy: .hold(capacity: 16), maxFrameSize: 1536)
        guard let card = try? entry.build(options: options, resources: NICHostResources(memory: board.memory, clock: clock, port: wire)),
              let function = card.pci else { return nil }
        board.attach(function, at: Self.slot)
        port = card.port
        modelName = card.device.modelName
        driver = entry.driver.makeDriver(bus: DriverBus(board: board, dmaRegion: loadEnd..<(loadEnd + Self.dmaArea)))
        board.assignResources()
        board.add(port: port)
        self.board = board
    }
}

/// Sits between the switch and a client's card: hands every frame on, and
/// wakes the client when one may be what it waits for. Other clients'
/// DHCP broadcasts to port 67 and their ARP requests don't wake it (they
/// wait in its ring, and it drops them when it next looks, as it would
/// have then); anything else does, and so does a frame the card had no
/// room for, so a full ring is drained at once.
final class FleetWakeTap: FrameReceiver {
    let card: FrameReceiver
    /// The fleet's MACs: ARP requests from these are other clients'.
    let fleet: ClosedRange<UInt64>
    let wake: () -> Void

    init(card: FrameReceiver, fleet: ClosedRange<UInt64>, wake: @escaping () -> Void) {
        self.card = card
        self.fleet = fleet
        self.wake = wake
    }

    func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
        let outcome = card.receive(frame: frame)
        switch outcome {
        case .filtered: break
        case .noRoom: wake()
        case .accepted: if Self.concerns(frame, fleet: fleet) { wake() }
        }
        return outcome
    }

    func linkStateDidChange(up: Bool) { card.linkStateDidChange(up: up) }

    /// False only for a broadcast DHCP request (UDP to port 67: clients
    /// send those) or another fleet client's ARP request.
    static func concerns(_ f: UnsafeRawBufferPointer, fleet: ClosedRange<UInt64>) -> Bool {
        guard f.count >= 14 else { return false }
        let broadcast = f[0] & 1 == 1
        guard broadcast else { return true }
        let type = UInt16(f[12]) << 8 | UInt16(f[13])
        if type == 0x0806 {
            var source: UInt64 = 0
            for i in 6..<12 { source = source << 8 | UInt64(f[i]) }
            return !fleet.contains(source)
        }
        guard type == 0x0800, f.count >= 14 + 20 + 8, f[14 + 9] == 17 else { return true }
        let ihl = Int(f[14] & 0x0F) * 4
        guard ihl >= 20, f.count >= 14 + ihl + 4 else { return true }
        let dport = UInt16(f[14 + ihl + 2]) << 8 | UInt16(f[14 + ihl + 3])
        return dport != 67
    }
}
