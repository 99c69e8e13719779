import NICCore
import XCTest

@testable import RTL8139

/// A card on a bare bus: registers reached through its BAR window, RAM,
/// a clock, and a wire that records what the card sends.
final class Rig: FrameTransmitter {
    let memory = FlatMemory(size: 1 << 20)
    let clock = VirtualClock()
    let nic: RTL8139
    var sent: [[UInt8]] = []
    static let mac = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)

    init(policy: BackpressurePolicy = .hold(capacity: 64)) {
        nic = RTL8139(macAddress: Rig.mac, memory: memory, clock: clock, port: FramePort(policy: policy))
        nic.port.transmitter = self
        // Bus master, I/O and memory decoding on, as firmware leaves them.
        nic.config.write(offset: PCIConfigRegister.command, width: .word, value: 0x7)
    }

    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        sent.append(Array(frame))
    }

    var regs: RegisterBlock { nic.registers(forBAR: 0)! }
    func r8(_ o: Int) -> UInt8 { UInt8(regs.read(offset: UInt64(o), width: .byte)) }
    func r16(_ o: Int) -> UInt16 { UInt16(regs.read(offset: UInt64(o), width: .word)) }
    func r32(_ o: Int) -> UInt32 { UInt32(regs.read(offset: UInt64(o), width: .dword)) }
    func w8(_ o: Int, _ v: UInt8) { regs.write(offset: UInt64(o), width: .byte, value: UInt64(v)) }
    func w16(_ o: Int, _ v: UInt16) { regs.write(offset: UInt64(o), width: .word, value: UInt64(v)) }
    func w32(_ o: Int, _ v: UInt32) { regs.write(offset: UInt64(o), width: .dword, value: UInt64(v)) }

    @discardableResult
    func offer(_ frame: [UInt8]) -> ReceiveOutcome {
        frame.withUnsafeBytes { nic.receive(frame: $0) }
    }

    /// A classic receiver: ring at `ring`, RBLEN `rblen`, the given RCR filter bits.
    func startClassicReceiver(ring: UInt32 = 0x1_0000, rblen: UInt32 = 0, wrap: Bool = true,
                              filter: UInt32 = ReceiveConfigBits.apm | ReceiveConfigBits.ab) {
        w32(RTL8139Register.rbstart, ring)
        w8(RTL8139Register.cr, 0x0C)
        w32(RTL8139Register.rcr, filter | rblen << 11 | (wrap ? ReceiveConfigBits.wrap : 0))
    }
}

/// An Ethernet frame of `length` bytes to `destination`, with a counting payload.
func makeFrame(to destination: MACAddress = Rig.mac, from source: MACAddress = MACAddress(2, 0, 0, 0, 0, 1),
               length: Int = 64, type: UInt16 = 0x88B5, seed: UInt8 = 0) -> [UInt8] {
    var f = destination.bytes + source.bytes + [UInt8(type >> 8), UInt8(type & 0xFF)]
    while f.count < length { f.append(UInt8(truncatingIfNeeded: f.count) &+ seed) }
    return f
}

func le32(_ b: [UInt8], _ o: Int) -> UInt32 {
    UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
}
