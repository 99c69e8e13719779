import NICCore

/// ISR FuncFlag on input: PXENV_UNDI_ISR_IN_START, _IN_PROCESS, _IN_GET_NEXT.
public enum ISRFunction: UInt16, Sendable {
    case start = 1
    case process = 2
    case getNext = 3
}

/// ISR PktType: how a received frame was addressed (P_DIRECTED,
/// P_BROADCAST, P_MULTICAST).
public enum UNDIPacketType: UInt8, Sendable {
    case directed = 0
    case broadcast = 1
    case multicast = 2
}

/// A received frame as ISR GET_NEXT hands it out. `bytes` lies in the
/// UNDI's receive buffer and stays valid until the next ISR call.
public struct ISRFrame {
    /// FrameLength: the whole frame as received.
    public var frameLength: Int
    /// FrameHeaderLength: the media header (14 for Ethernet II).
    public var headerLength: Int
    public var protocolType: UNDIProtocol
    public var packetType: UNDIPacketType
    /// BufferLength bytes of the frame, from the destination address.
    public var bytes: UnsafeRawBufferPointer
}

/// ISR FuncFlag on output.
public enum ISRResult {
    /// PXENV_UNDI_ISR_OUT_OURS (after START): the NIC raised it; its
    /// interrupt is now masked until GET_NEXT says DONE.
    case ours
    /// PXENV_UNDI_ISR_OUT_NOT_OURS (after START)
    case notOurs
    /// PXENV_UNDI_ISR_OUT_DONE: nothing more; the NIC's interrupt is unmasked.
    case done
    /// PXENV_UNDI_ISR_OUT_TRANSMIT: one transmission completed.
    case transmit
    /// PXENV_UNDI_ISR_OUT_RECEIVE: a frame was received.
    case receive(ISRFrame)

    /// The FuncFlag value written back.
    public var funcFlag: UInt16 {
        switch self {
        case .ours: 0
        case .notOurs: 1
        case .done: 0
        case .transmit: 2
        case .receive: 3
        }
    }
}

/// PXENV_UNDI_ISR (0x0014): START is called from the NBP's interrupt
/// handler and must be quick: it says whether the NIC interrupted and masks
/// it. PROCESS acknowledges the NIC and returns the first event; GET_NEXT
/// returns the rest, one per call, until DONE unmasks the interrupt.
///
/// PROCESS works without a preceding START (some NBPs never call START),
/// and GET_NEXT polls the NIC itself, so an NBP that uses no IRQ at all
/// still sees every frame.
extension UNDI {
    public func isr(_ function: ISRFunction) throws(PXEStatus) -> ISRResult {
        guard phase == .opened else { throw .undiInvalidState }
        switch function {
        case .start:
            guard forcedInterrupt || driver.interruptPending() else { return .notOurs }
            driver.setInterruptsEnabled(false)
            isrInProgress = true
            return .ours
        case .process:
            forcedInterrupt = false
            driver.acknowledgeInterrupts()
            isrInProgress = true
            return nextISREvent()
        case .getNext:
            return nextISREvent()
        }
    }

    /// Transmit completions first (they free the caller's buffers), then
    /// received frames, then DONE.
    private func nextISREvent() -> ISRResult {
        if pendingTransmitCompletions > 0 {
            pendingTransmitCompletions -= 1
            return .transmit
        }
        if let frame = receiveFrame() {
            return .receive(frame)
        }
        isrInProgress = false
        forcedInterrupt = false
        driver.acknowledgeInterrupts()
        driver.setInterruptsEnabled(true)
        return .done
    }

    /// Takes the next frame from the NIC into the UNDI receive buffer, for
    /// ISR and for the base code. Nil when nothing is waiting or the NIC
    /// is not open.
    public func receiveFrame() -> ISRFrame? {
        guard phase == .opened else { return nil }
        guard let length = driver.receive(into: receiveBuffer.storage) else { return nil }
        receiveBuffer.setCount(length)
        let bytes = receiveBuffer.bytes
        let header = min(bytes.count, UNDI.mediaHeaderLength)
        var proto = UNDIProtocol.other
        var type = UNDIPacketType.directed
        if bytes.count >= UNDI.mediaHeaderLength {
            proto = UNDIProtocol(etherType: UInt16(bytes[12]) << 8 | UInt16(bytes[13]))
        }
        if bytes.count >= 6, let base = bytes.baseAddress {
            let destination = MACAddress(loadingFrom: base)
            type = destination.isBroadcast ? .broadcast : destination.isMulticast ? .multicast : .directed
        }
        return ISRFrame(frameLength: max(length, 0), headerLength: header, protocolType: proto, packetType: type, bytes: bytes)
    }
}
