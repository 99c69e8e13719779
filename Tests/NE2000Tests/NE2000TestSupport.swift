import NICCore
import XCTest

@testable import NE2000

/// Collects what a card puts on the wire.
final class WireRecorder: FrameTransmitter {
    var frames: [[UInt8]] = []
    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        frames.append(Array(frame))
    }
}

let testMAC = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)

/// Register and port offsets as a driver writes them.
enum Port {
    static let cr: UInt64 = 0x00
    static let pstart: UInt64 = 0x01
    static let pstop: UInt64 = 0x02
    static let bnry: UInt64 = 0x03
    static let tpsr: UInt64 = 0x04
    static let tsr: UInt64 = 0x04
    static let tbcr0: UInt64 = 0x05
    static let tbcr1: UInt64 = 0x06
    static let isr: UInt64 = 0x07
    static let rsar0: UInt64 = 0x08
    static let rsar1: UInt64 = 0x09
    static let rbcr0: UInt64 = 0x0A
    static let rbcr1: UInt64 = 0x0B
    static let rcr: UInt64 = 0x0C
    static let rsr: UInt64 = 0x0C
    static let tcr: UInt64 = 0x0D
    static let dcr: UInt64 = 0x0E
    static let imr: UInt64 = 0x0F
    static let cntr2: UInt64 = 0x0F
    static let curr: UInt64 = 0x07
    static let data: UInt64 = 0x10
    static let reset: UInt64 = 0x1F
}

/// A DP8390 driven through its ports, with helpers for the sequences
/// drivers use. Every helper goes through `portRead`/`portWrite`.
final class Card {
    let nic: DP8390
    let wire = WireRecorder()
    let interrupt = InterruptLatch()

    init(chip: DP8390.Chip = .rtl8029, policy: BackpressurePolicy = .hold(capacity: 16)) {
        nic = DP8390(chip: chip, macAddress: testMAC, port: FramePort(policy: policy))
        nic.port.receiver = nic
        nic.port.transmitter = wire
        nic.interruptLine = interrupt
    }

    func outb(_ offset: UInt64, _ value: UInt8) { nic.portWrite(offset: offset, width: .byte, value: UInt64(value)) }
    func inb(_ offset: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: nic.portRead(offset: offset, width: .byte)) }
    func inw(_ offset: UInt64) -> UInt16 { UInt16(truncatingIfNeeded: nic.portRead(offset: offset, width: .word)) }
    func inl(_ offset: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: nic.portRead(offset: offset, width: .dword)) }
    func outw(_ offset: UInt64, _ value: UInt16) { nic.portWrite(offset: offset, width: .word, value: UInt64(value)) }
    func outl(_ offset: UInt64, _ value: UInt32) { nic.portWrite(offset: offset, width: .dword, value: UInt64(value)) }

    /// Selects `page` keeping the NIC running or stopped as it is.
    func page(_ page: UInt8) {
        let run = inb(Port.cr) & 0x03
        outb(Port.cr, page << 6 | 0x20 | run)
    }

    /// The Linux 8390 set-up: ring PSTART..PSTOP, BNRY = PSTOP-1,
    /// CURR = PSTART, station address in PAR, started, word mode.
    func open(pstart: UInt8 = 0x46, pstop: UInt8 = 0x80, rcr: UInt8 = 0x04, tcr: UInt8 = 0, dcr: UInt8 = 0x49) {
        outb(Port.cr, 0x21)
        outb(Port.dcr, dcr)
        outb(Port.rbcr0, 0)
        outb(Port.rbcr1, 0)
        outb(Port.rcr, 0x20)
        outb(Port.tcr, 0x02)
        outb(Port.tpsr, 0x40)
        outb(Port.pstart, pstart)
        outb(Port.pstop, pstop)
        outb(Port.bnry, pstop - 1)
        outb(Port.isr, 0xFF)
        outb(Port.imr, 0)
        outb(Port.cr, 0x61)
        for i in 0..<6 { outb(UInt64(1 + i), testMAC[i]) }
        outb(Port.curr, pstart)
        outb(Port.cr, 0x22)
        outb(Port.isr, 0xFF)
        outb(Port.tcr, tcr)
        outb(Port.rcr, rcr)
    }

    func setMulticastFilter(_ mar: UInt64) {
        page(1)
        for i in 0..<8 { outb(UInt64(8 + i), UInt8(truncatingIfNeeded: mar >> UInt64(8 * i))) }
        page(0)
    }

    var curr: UInt8 {
        page(1)
        defer { page(0) }
        return inb(Port.curr)
    }

    /// Starts a remote DMA of `count` bytes at `address` (`command` 0x0A read, 0x12 write).
    func startRemote(_ command: UInt8, address: UInt16, count: UInt16) {
        outb(Port.rbcr0, UInt8(truncatingIfNeeded: count))
        outb(Port.rbcr1, UInt8(truncatingIfNeeded: count >> 8))
        outb(Port.rsar0, UInt8(truncatingIfNeeded: address))
        outb(Port.rsar1, UInt8(truncatingIfNeeded: address >> 8))
        outb(Port.cr, command)
    }

    /// Reads `count` bytes by remote DMA in byte mode units.
    func remoteReadBytes(address: UInt16, count: Int) -> [UInt8] {
        let dcr = nic.dataConfig
        outb(Port.dcr, 0x48)
        startRemote(0x0A, address: address, count: UInt16(count))
        let bytes = (0..<count).map { _ in inb(Port.data) }
        outb(Port.dcr, dcr)
        return bytes
    }

    /// Writes `bytes` by remote DMA in byte-mode units.
    func remoteWriteBytes(_ bytes: [UInt8], address: UInt16) {
        let dcr = nic.dataConfig
        outb(Port.dcr, 0x48)
        startRemote(0x12, address: address, count: UInt16(bytes.count))
        for b in bytes { outb(Port.data, b) }
        outb(Port.dcr, dcr)
    }

    /// Offers a frame from the wire.
    @discardableResult
    func offer(_ frame: [UInt8]) -> OfferResult {
        frame.withUnsafeBytes { nic.port.offer($0) }
    }

    /// Reads the frame at the page after BNRY and frees it, as Linux does.
    /// Returns (status, next page, frame bytes), or nil if the ring is empty.
    func takeFrame(pstart: UInt8 = 0x46, pstop: UInt8 = 0x80) -> (status: UInt8, next: UInt8, frame: [UInt8])? {
        var page = inb(Port.bnry) &+ 1
        if page >= pstop { page = pstart }
        guard page != curr else { return nil }
        let header = remoteReadBytes(address: UInt16(page) << 8, count: 4)
        let count = Int(header[2]) | Int(header[3]) << 8
        let frame = remoteReadBytes(address: UInt16(page) << 8 + 4, count: count - 4)
        let next = header[1]
        outb(Port.bnry, next == pstart ? pstop - 1 : next - 1)
        return (header[0], next, frame)
    }
}

/// A frame to `destination` of `length` bytes with a recognisable payload.
func makeFrame(to destination: MACAddress = testMAC, length: Int = 64, seed: UInt8 = 0) -> [UInt8] {
    var f = [UInt8](repeating: 0, count: length)
    for i in 0..<min(6, length) { f[i] = destination[i] }
    let source: [UInt8] = [0x02, 0, 0, 0, 0, 0x01]
    for i in 6..<min(12, length) { f[i] = source[i - 6] }
    if length > 13 { f[12] = 0x08; f[13] = 0x00 }
    if length > 14 { for i in 14..<length { f[i] = UInt8(truncatingIfNeeded: i &+ Int(seed)) } }
    return f
}
