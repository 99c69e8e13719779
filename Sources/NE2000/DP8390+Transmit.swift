import NICCore

/// The transmitter: CR.TXP sends TBCR bytes from page TPSR of packet memory
/// (DP8390D section 8.0 "Packet Transmission"). The host pads short frames
/// itself; the NIC appends the FCS on the wire, which our frames leave off.
extension DP8390 {
    func transmit() {
        let length = Int(transmitByteCount)
        let start = Int(transmitPageStart) << 8
        let alwaysOne = chip == .rtl8029 ? TransmitStatus.realtekAlwaysOne : 0
        collisionCount = 0
        // A buffer outside packet memory, empty, or longer than a frame
        // can't be sent: the transmission aborts with TSR.ABT and ISR.TXE.
        guard length > 0, length <= DP8390.maximumFrame,
              start >= DP8390.memoryStart, start + length <= DP8390.memoryEnd
        else {
            transmitStatus = TransmitStatus.aborted | alwaysOne
            raise(Interrupt.transmitError)
            return
        }
        transmitBuffer.setCount(length)
        copyOut(from: start, count: length, to: transmitBuffer.baseAddress)
        currentLocalAddress = UInt16(truncatingIfNeeded: start + length)
        fifoByte = transmitBuffer[length - 1]
        var status = TransmitStatus.packetTransmitted | alwaysOne
        if loopbackMode == 0 || loopbackMode == 3, !port.isLinkUp {
            // On the wire with no carrier: TSR.CRS, but the transmission
            // still completes (DP8390D "Transmit Status Register").
            status |= TransmitStatus.carrierLost
        }
        switch loopbackMode {
        case 0:
            port.transmit(transmitBuffer.bytes)
        case 3:
            // External loopback: out on the wire and back in through the cable.
            port.transmit(transmitBuffer.bytes)
            _ = store(transmitBuffer.bytes, fromWire: false)
        default:
            // Internal loopback (LB = 01, and 10 through the ENDEC): the
            // frame never reaches the wire; our own receiver takes it.
            _ = store(transmitBuffer.bytes, fromWire: false)
        }
        transmitStatus = status
        raise(Interrupt.packetTransmitted)
    }
}
