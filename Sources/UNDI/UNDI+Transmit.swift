import NICCore

/// The protocol of a frame, as UNDI TRANSMIT's Protocol and ISR's ProtType
/// name it (P_UNKNOWN, P_IP, P_ARP, P_RARP, P_OTHER).
public enum UNDIProtocol: UInt8, Sendable {
    /// TRANSMIT: the caller supplies the whole frame, media header included.
    case unknown = 0
    case ip = 1
    case arp = 2
    case rarp = 3
    /// ISR only: a frame of some other EtherType.
    case other = 4

    /// The EtherType UNDI writes for this protocol.
    public var etherType: UInt16? {
        switch self {
        case .ip: 0x0800
        case .arp: 0x0806
        case .rarp: 0x8035
        case .unknown, .other: nil
        }
    }

    /// ProtType for a received frame's EtherType.
    public init(etherType: UInt16) {
        switch etherType {
        case 0x0800: self = .ip
        case 0x0806: self = .arp
        case 0x8035: self = .rarp
        default: self = .other
        }
    }
}

/// PXENV_UNDI_TRANSMIT (0x0008).
extension UNDI {
    /// Sends one frame. With `.unknown` the caller's bytes are the whole
    /// frame; with `.ip`, `.arp` or `.rarp` UNDI builds the 14-byte media
    /// header: destination (`destination`, or ff:ff:ff:ff:ff:ff when
    /// `broadcast` — XMT_BROADCAST), our station address, EtherType.
    /// Frames shorter than 60 bytes are padded with zeros.
    ///
    /// `fill` writes the caller's bytes (the gathered TBD: immediate buffer,
    /// then data blocks) into the frame and returns how many it wrote; it
    /// is given room for a maximum-size frame and no more.
    @discardableResult
    public func transmit(
        protocol proto: UNDIProtocol, broadcast: Bool, destination: MACAddress,
        fill: (UnsafeMutableRawBufferPointer) throws(PXEStatus) -> Int
    ) -> PXEStatus {
        guard phase == .opened else { return .undiInvalidState }
        guard proto != .other else { return .undiInvalidParameter }
        let maxFrame = min(driver.maxFrameSize, transmitBuffer.capacity)
        let headerLength = proto == .unknown ? 0 : UNDI.mediaHeaderLength
        let room = UnsafeMutableRawBufferPointer(rebasing: transmitBuffer.storage[headerLength..<maxFrame])
        let written: Int
        do throws(PXEStatus) { written = try fill(room) } catch { return error }
        guard written >= 0, written <= room.count else { return .undiInvalidParameter }
        transmitBuffer.setCount(headerLength + written)
        if let etherType = proto.etherType {
            let base = transmitBuffer.baseAddress
            (broadcast ? MACAddress.broadcast : destination).store(to: base)
            driver.stationAddress.store(to: base + 6)
            base.storeBytes(of: UInt8(etherType >> 8), toByteOffset: 12, as: UInt8.self)
            base.storeBytes(of: UInt8(etherType & 0xFF), toByteOffset: 13, as: UInt8.self)
        }
        guard transmitBuffer.count >= UNDI.mediaHeaderLength else { return .undiInvalidParameter }
        transmitBuffer.pad(to: UNDI.minimumFrameSize)
        do throws(DriverError) {
            try driver.transmit(transmitBuffer.bytes)
        } catch {
            return UNDI.status(for: error, during: .undiTransmitError)
        }
        pendingTransmitCompletions += 1
        return .success
    }

    /// Sends `fragments` one after another as one frame (see
    /// `transmit(protocol:broadcast:destination:fill:)`).
    @discardableResult
    public func transmit(
        protocol proto: UNDIProtocol, broadcast: Bool = false, destination: MACAddress = .zero,
        fragments: [UnsafeRawBufferPointer]
    ) -> PXEStatus {
        transmit(protocol: proto, broadcast: broadcast, destination: destination) { (room) throws(PXEStatus) -> Int in
            var used = 0
            for f in fragments {
                guard f.count <= room.count - used else { throw .undiInvalidParameter }
                if let src = f.baseAddress, let dst = room.baseAddress, f.count > 0 {
                    (dst + used).copyMemory(from: src, byteCount: f.count)
                }
                used += f.count
            }
            return used
        }
    }
}
