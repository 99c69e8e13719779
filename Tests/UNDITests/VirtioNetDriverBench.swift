import Board
import NICCore
import VirtioNet
import XCTest

@testable import UNDI

/// Collects frames the card puts on the wire, in order.
final class VirtioWire: FrameTransmitter {
    var frames: [[UInt8]] = []
    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) { frames.append(Array(frame)) }
}

/// A board with one virtio-net card at 00:03.0 set up the way firmware
/// leaves it, and our driver probed on it.
struct VirtioNetDriverBench {
    static let mac = MACAddress(0x52, 0x54, 0x00, 0x00, 0x00, 0x07)
    let board = Board(memorySize: 48 << 20)
    let card: VirtioNet
    let driver: VirtioNetDriver
    let wire = VirtioWire()
    let address = PCIAddress(device: 3)

    init(_ configuration: VirtioNetConfiguration = VirtioNetConfiguration(macAddress: VirtioNetDriverBench.mac),
         options: VirtioNetDriver.Options = VirtioNetDriver.Options()) throws {
        card = VirtioNet(configuration: configuration, memory: board.memory, clock: board.clock)
        board.attach(card, at: address)
        board.add(port: card.port)
        card.port.transmitter = wire
        board.assignResources()
        driver = VirtioNetDriver(bus: DriverBus(board: board), options: options)
        try driver.probe()
    }

    /// A frame from 02:00:00:00:00:01 to `destination`, numbered `n` in its payload.
    static func frame(_ n: Int, to destination: MACAddress = VirtioNetDriverBench.mac, length: Int = 64) -> [UInt8] {
        var f = destination.bytes + [0x02, 0, 0, 0, 0, 1, 0x08, 0x00]
        f += [UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
        while f.count < length { f.append(UInt8(truncatingIfNeeded: n &+ f.count)) }
        return f
    }

    func offer(_ frame: [UInt8]) -> OfferResult { frame.withUnsafeBytes { card.port.offer($0) } }

    func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        let n = buffer.withUnsafeMutableBytes { driver.receive(into: $0) }
        return n.map { Array(buffer[0..<$0]) }
    }

    func transmit(_ frame: [UInt8]) throws {
        var failure: DriverError?
        frame.withUnsafeBytes { p in
            do throws(DriverError) { try driver.transmit(p) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}
