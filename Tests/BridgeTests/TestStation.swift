import Bridge
import NICCore

/// A stand-in NIC for switch tests: it records every frame it is offered
/// and transmits frames built from addresses and a tag.
final class TestStation: FrameReceiver {
    let port = FramePort(policy: .drop)
    let mac: MACAddress
    var received: [[UInt8]] = []
    var linkEvents: [Bool] = []

    init(_ last: UInt8) {
        mac = MACAddress(0x02, 0, 0, 0, 0, last)
        port.receiver = self
    }

    init(mac: MACAddress) {
        self.mac = mac
        port.receiver = self
    }

    func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
        received.append(Array(frame))
        return .accepted
    }

    func linkStateDidChange(up: Bool) { linkEvents.append(up) }

    /// Sends a 60-byte frame to `destination` whose payload starts with `tag`.
    func send(to destination: MACAddress, tag: UInt16 = 0) {
        let frame = Self.frame(from: mac, to: destination, tag: tag)
        frame.withUnsafeBytes { port.transmit($0) }
    }

    static func frame(from source: MACAddress, to destination: MACAddress, tag: UInt16) -> [UInt8] {
        var f = destination.bytes + source.bytes + [0x88, 0xB5]
        f += [UInt8(tag >> 8), UInt8(tag & 0xFF)]
        f += (0..<44).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(tag)) }
        return f
    }

    /// Tags of received frames, in arrival order.
    var tags: [UInt16] { received.map { UInt16($0[14]) << 8 | UInt16($0[15]) } }
}
