import Board
import NICCatalogue
import NICCore
import UNDI

/// One fleet client's hardware: a board on the fleet's shared clock with
/// RAM sized to what the boot loads, its card in slot 3 with resources
/// assigned as firmware would, and the card's UNDI driver.
///
/// Guest RAM, with the built-in pxelinux: the first MiB (the PXE ROM's
/// structures and the NBP at 0000:7C00), then `loadArea` bytes where it
/// puts the kernel and initrds, then 1 MiB for the driver's rings and
/// buffers. With the real NBP on an x86 machine: `memory` bytes, the last
/// MiB the driver's (the machine's BIOS reports it reserved, so the NBP
/// loads nothing there). A default `nicsim boot` board has 64 MiB; a
/// fleet client only what its files need, so a thousand of them fit in a
/// few GiB.
final class FleetMachine {
    static let slot = PCIAddress(device: 3)
    static let conventional: UInt64 = 0x10_0000
    static let dmaArea: UInt64 = 0x10_0000

    /// How a client's RAM is laid out.
    enum Layout {
        case builtin(loadArea: UInt64)
        case exec(memory: UInt64)
    }

    let board: Board
    let port: FramePort
    let driver: NICDriver
    let modelName: String
    /// Where pxelinux may load: [loadStart, loadEnd).
    let loadStart: UInt64 = FleetMachine.conventional
    let loadEnd: UInt64
    /// The driver's rings and buffers.
    let dmaRegion: Range<UInt64>
    var ramBytes: Int { Int(board.memory.size) }

    /// Nil when the catalogue has no PCI card of that name.
    init?(model: String, mac: MACAddress, layout: Layout, clock: VirtualClock) {
        guard let entry = NICCatalogue.entry(named: model), entry.bus == .pci else { return nil }
        let size: UInt64
        switch layout {
        case .builtin(let loadArea):
            let load = (loadArea + 0xFFF) & ~0xFFF
            loadEnd = Self.conventional + load
            size = loadEnd + Self.dmaArea
        case .exec(let memory):
            size = max((memory + 0xFFFFF) & ~0xFFFFF, Self.conventional + 2 * Self.dmaArea)
            loadEnd = size - Self.dmaArea
        }
        dmaRegion = loadEnd..<size
        let board = Board(memorySize: Int(size), clock: clock)
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
        driver = entry.driver.makeDriver(bus: DriverBus(board: board, dmaRegion: dmaRegion))
        board.assignResources()
        board.add(port: port)
        self.board = board
    }
}

/// Sits between the switch and a client's card: hands every frame on, and
/// wakes the client when one may be what it waits for. Broadcasts meant
/// for other stations don't wake it: DHCP requests (UDP to port 67),
/// DHCP replies whose client hardware address is another's, ARP requests
/// for another address (or any, before it has one). They wait in its ring
/// and it drops them when it next looks, as it would have then. A frame
/// the card had no room for wakes it too, so a full ring is drained at once.
final class FleetWakeTap: FrameReceiver {
    let card: FrameReceiver
    let mac: MACAddress
    /// The client's IPv4 address once leased (0 before).
    var ip: UInt32 = 0
    let wake: () -> Void
    /// An exec client's transfers: fed every frame the card took.
    var watch: FleetTransferTap.Watch?
    let clock: VirtualClock

    init(card: FrameReceiver, mac: MACAddress, clock: VirtualClock, wake: @escaping () -> Void) {
        self.card = card
        self.mac = mac
        self.clock = clock
        self.wake = wake
    }

    func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
        let outcome = card.receive(frame: frame)
        switch outcome {
        case .filtered: break
        case .noRoom: wake()
        case .accepted:
            watch?.observe(frame, at: clock.now)
            if Self.concerns(frame, mac: mac, ip: ip) { wake() }
        }
        return outcome
    }

    func linkStateDidChange(up: Bool) { card.linkStateDidChange(up: up) }

    /// Whether a received frame may be for the station `mac`/`ip`: every
    /// unicast, and broadcasts except the kinds above.
    static func concerns(_ f: UnsafeRawBufferPointer, mac: MACAddress, ip: UInt32) -> Bool {
        guard f.count >= 14 else { return false }
        guard f[0] & 1 == 1 else { return true }
        let type = UInt16(f[12]) << 8 | UInt16(f[13])
        if type == 0x0806 {
            // ARP (RFC 826): requests for our address only; replies always.
            guard f.count >= 42 else { return false }
            guard f[21] == 1 else { return true }
            let target = UInt32(f[38]) << 24 | UInt32(f[39]) << 16 | UInt32(f[40]) << 8 | UInt32(f[41])
            return ip != 0 && target == ip
        }
        guard type == 0x0800, f.count >= 14 + 20 + 8, f[14 + 9] == 17 else { return true }
        let ihl = Int(f[14] & 0x0F) * 4
        let udp = 14 + ihl
        guard ihl >= 20, f.count >= udp + 8 else { return true }
        let dport = UInt16(f[udp + 2]) << 8 | UInt16(f[udp + 3])
        if dport == 67 { return false }
        if dport == 68 {
            // BOOTP (RFC 951): chaddr at 28 in the message.
            let chaddr = udp + 8 + 28
            guard f.count >= chaddr + 6 else { return true }
            var m: UInt64 = 0
            for i in chaddr..<(chaddr + 6) { m = m << 8 | UInt64(f[i]) }
            return m == mac.rawValue
        }
        return true
    }
}
