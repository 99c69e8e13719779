import Board
import NE2000
import NICCore
import XCTest

@testable import UNDI

let ne2000MAC = MACAddress(0x00, 0x20, 0x18, 0x29, 0x80, 0x01)
let peerMAC = MACAddress(0x02, 0x00, 0x00, 0x00, 0x00, 0x09)

/// The far end of the wire: checks each frame the card sends against the
/// frame the test expects next, without keeping them.
final class CheckingWire: FrameTransmitter {
    var received = 0
    var mismatches = 0
    var last: [UInt8] = []
    var expected: ((Int) -> [UInt8])?

    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        if let expected {
            if !expected(received).elementsEqual(frame) { mismatches += 1 }
        } else {
            last = Array(frame)
        }
        received += 1
    }
}

/// A board with one NE2000 plugged in and the driver bound to it.
final class NE2000Rig {
    let board = Board(memorySize: 4 << 20)
    let wire = CheckingWire()
    let bus: DriverBus
    let driver: NE2000Driver
    let port: FramePort
    let irq: Int
    /// The card's NIC, for tests that play a misbehaving card.
    let nic: DP8390

    /// An RTL8029 in PCI slot 3, resources assigned as a BIOS would.
    init(pci policy: BackpressurePolicy = .hold(capacity: 64)) {
        let card = RTL8029(macAddress: ne2000MAC, port: FramePort(policy: policy))
        board.attach(card, at: PCIAddress(device: 3))
        board.assignResources()
        port = card.port
        nic = card.nic
        irq = board.irq(of: PCIAddress(device: 3)) ?? -1
        bus = DriverBus(board: board)
        driver = NE2000Driver(bus: bus, location: .pci())
        finish()
    }

    /// An NE2000 at ISA port `ioBase`, IRQ `irq`.
    init(isaAt ioBase: UInt16 = 0x300, irq: Int = 9, policy: BackpressurePolicy = .hold(capacity: 64)) throws {
        let card = NE2000ISA(macAddress: ne2000MAC, ioBase: UInt64(ioBase), irq: irq, port: FramePort(policy: policy))
        card.interruptLine = try board.attachISA(card, ioBase: card.ioBase, irq: card.irq, name: "ne2000")
        port = card.port
        nic = card.nic
        self.irq = irq
        bus = DriverBus(board: board)
        driver = NE2000Driver(bus: bus, location: .isa(ioBase: ioBase, irq: UInt8(irq)))
        finish()
    }

    private func finish() {
        board.add(port: port)
        port.transmitter = wire
    }

    func probeAndOpen(_ filter: ReceiveFilter = [.directed, .broadcast], multicast: [MACAddress] = []) throws {
        try driver.probe()
        try driver.open(filter: filter, multicast: multicast)
    }

    func send(_ frame: [UInt8]) throws {
        var failure: (any Error)?
        frame.withUnsafeBytes { p in
            do { try driver.transmit(p) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Frames the driver has waiting, each as bytes.
    func drain() -> [[UInt8]] {
        var out: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while let n = buffer.withUnsafeMutableBytes({ driver.receive(into: $0) }) {
            out.append(Array(buffer[0..<n]))
        }
        return out
    }
}

/// Frame `index` of a test stream: to `destination`, of a length that
/// cycles through 60...1514, with a payload that names its index.
func streamFrame(_ index: Int, to destination: MACAddress = ne2000MAC) -> [UInt8] {
    let length = 60 + (index * 97) % (1514 - 60 + 1)
    var f = [UInt8](repeating: 0, count: length)
    for i in 0..<6 { f[i] = destination[i] }
    for i in 0..<6 { f[6 + i] = peerMAC[i] }
    f[12] = 0x88
    f[13] = 0xB5
    f[14] = UInt8(truncatingIfNeeded: index)
    f[15] = UInt8(truncatingIfNeeded: index >> 8)
    for i in 16..<length { f[i] = UInt8(truncatingIfNeeded: i &* 31 &+ index) }
    return f
}
