import Board
import NICCore
import RTL8139
import XCTest

@testable import UNDI

/// A board with an RTL8139C+ at 00:03.0, firmware-style resources, and a
/// wire that checks what the card sends.
final class RTL8139DriverRig: FrameTransmitter {
    let board = Board(memorySize: 64 << 20)
    let nic: RTL8139
    let bus: DriverBus
    let driver: RTL8139Driver
    var sentCount = 0
    var sentFrames: [[UInt8]] = []
    var keepSent = false
    var onSend: ((UnsafeRawBufferPointer) -> Void)?
    static let mac = MACAddress(0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF)

    init(mode: RTL8139Driver.Mode = .automatic, access: RTL8139Driver.RegisterAccess = .memoryMapped,
         policy: BackpressurePolicy = .hold(capacity: 64)) {
        nic = RTL8139(macAddress: RTL8139DriverRig.mac, memory: board.memory, clock: board.clock, port: FramePort(policy: policy))
        board.attach(nic, at: PCIAddress(device: 3))
        board.assignResources()
        board.add(port: nic.port)
        bus = DriverBus(board: board)
        driver = RTL8139Driver(bus: bus, mode: mode, access: access)
        nic.port.transmitter = self
    }

    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        sentCount += 1
        if keepSent { sentFrames.append(Array(frame)) }
        onSend?(frame)
    }
}

/// A frame of `length` bytes to `destination` carrying `sequence` at bytes 14-17.
func sequencedFrame(_ sequence: Int, length: Int, to destination: MACAddress = RTL8139DriverRig.mac) -> [UInt8] {
    var f = destination.bytes + [0x02, 0, 0, 0, 0, 0x09, 0x88, 0xB5]
    f += withUnsafeBytes(of: UInt32(sequence).bigEndian) { Array($0) }
    while f.count < length { f.append(UInt8(truncatingIfNeeded: f.count &+ sequence)) }
    return f
}

func sequenceOf(_ frame: UnsafeRawBufferPointer) -> Int {
    Int(frame[14]) << 24 | Int(frame[15]) << 16 | Int(frame[16]) << 8 | Int(frame[17])
}
