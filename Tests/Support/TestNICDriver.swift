import Board
import NICCore
import UNDI

/// A test double for `NICDriver`, used to test the UNDI state machine and the
/// PXE base code apart from the real per-NIC drivers. It is not a register model: it
/// keeps received frames in a queue, hands transmitted frames to its
/// `FramePort`, and records every driver call so tests can check the order.
public final class TestNICDriver: NICDriver, FrameReceiver {
    public let name = "TestNIC"
    public var info = NICInfo(bus: .pci(PCIAddress(device: 3)), vendorID: 0x10EC, deviceID: 0x8139,
                       subsystemVendorID: 0x1AF4, subsystemID: 0x1100, classCode: 0x02_00_00,
                       revision: 0x20, ioBase: 0xC000, irq: 11)
    public let permanentAddress: MACAddress
    public private(set) var stationAddress: MACAddress
    public let maxFrameSize = 1514
    public var linkUp = true
    public private(set) var statistics = DriverStatistics()

    public let port = FramePort()
    public private(set) var calls: [String] = []
    public private(set) var isOpen = false
    public private(set) var filter: ReceiveFilter = []
    public private(set) var multicast: [MACAddress] = []
    public private(set) var interruptsEnabled = false
    public private(set) var transmitted: [[UInt8]] = []
    public var interruptCause = false
    public var failProbe = false
    private var queue: [[UInt8]] = []

    public init(mac: MACAddress = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)) {
        permanentAddress = mac
        stationAddress = mac
        port.receiver = self
    }

    public func probe() throws(DriverError) {
        calls.append("probe")
        if failProbe { throw .deviceNotFound("test") }
        stationAddress = permanentAddress
        isOpen = false
        queue.removeAll()
    }

    public func open(filter: ReceiveFilter, multicast: [MACAddress]) throws(DriverError) {
        calls.append("open")
        isOpen = true
        self.filter = filter
        self.multicast = multicast
    }

    public func close() {
        calls.append("close")
        isOpen = false
    }

    public func shutdown() {
        calls.append("shutdown")
        isOpen = false
        interruptsEnabled = false
    }

    public func setStationAddress(_ address: MACAddress) throws(DriverError) {
        calls.append("setStationAddress")
        stationAddress = address
    }

    public func setReceiveFilter(_ filter: ReceiveFilter, multicast: [MACAddress]) throws(DriverError) {
        calls.append("setReceiveFilter")
        self.filter = filter
        self.multicast = multicast
    }

    public func transmit(_ frame: UnsafeRawBufferPointer) throws(DriverError) {
        guard isOpen else { throw .hardware("closed") }
        guard frame.count >= 14, frame.count <= maxFrameSize else { throw .badFrameLength(frame.count) }
        transmitted.append(Array(frame))
        statistics.transmitted += 1
        port.transmit(frame)
    }

    public func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        guard isOpen, !queue.isEmpty else { return nil }
        let frame = queue.removeFirst()
        let n = min(frame.count, buffer.count)
        frame.withUnsafeBytes { src in
            if let d = buffer.baseAddress, let s = src.baseAddress, n > 0 { d.copyMemory(from: s, byteCount: n) }
        }
        return frame.count
    }

    public func setInterruptsEnabled(_ enabled: Bool) { interruptsEnabled = enabled }
    public func interruptPending() -> Bool { interruptCause || !queue.isEmpty }
    public func acknowledgeInterrupts() { interruptCause = false }
    public func clearStatistics() {
        calls.append("clearStatistics")
        statistics = DriverStatistics()
    }

    // FrameReceiver: the wire hands frames in; the filter is the card's.
    public func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
        guard isOpen else { return .noRoom }
        guard frame.count >= 6, let base = frame.baseAddress else { return .filtered }
        let destination = MACAddress(loadingFrom: base)
        let accept = filter.contains(.promiscuous)
            || (destination == stationAddress && filter.contains(.directed))
            || (destination.isBroadcast && filter.contains(.broadcast))
            || (destination.isMulticast && !destination.isBroadcast && multicast.contains(destination))
        guard accept else { return .filtered }
        queue.append(Array(frame))
        statistics.received += 1
        return .accepted
    }

    public func linkStateDidChange(up: Bool) { linkUp = up }

    /// Puts a frame on the wire towards this NIC.
    @discardableResult
    public func deliver(_ bytes: [UInt8]) -> OfferResult {
        bytes.withUnsafeBytes { port.offer($0) }
    }
}
