import NICCore
import XCTest

@testable import RTL8139

extension Rig {
    static let txRing: UInt64 = 0x2000
    static let highTxRing: UInt64 = 0x2800
    static let rxRing: UInt64 = 0x3000

    /// C+ mode as 8139cp sets it up: CPCR, rings, then CR.RE|TE.
    func startCPlus(extra: UInt16 = 0, filter: UInt32 = ReceiveConfigBits.apm | ReceiveConfigBits.ab) {
        w16(RTL8139Register.cpcr, CPlusCommandBits.rxEnable | CPlusCommandBits.txEnable | extra)
        w32(RTL8139Register.tnpds, UInt32(Rig.txRing))
        w32(RTL8139Register.tnpds + 4, 0)
        w32(RTL8139Register.thpds, UInt32(Rig.highTxRing))
        w32(RTL8139Register.rdsar, UInt32(Rig.rxRing))
        w32(RTL8139Register.rdsar + 4, 0)
        w8(RTL8139Register.cr, 0x0C)
        w32(RTL8139Register.rcr, filter)
    }

    func putDescriptor(ring: UInt64, index: Int, command: UInt32, vlan: UInt32 = 0, buffer: UInt64) {
        let a = ring + UInt64(index * 16)
        try? memory.writeU32(a, command)
        try? memory.writeU32(a + 4, vlan)
        try? memory.writeU64(a + 8, buffer)
    }

    func descriptor(ring: UInt64, index: Int) -> (command: UInt32, vlan: UInt32) {
        let a = ring + UInt64(index * 16)
        return ((try? memory.readU32(a)) ?? 0, (try? memory.readU32(a + 4)) ?? 0)
    }

    /// Queues `frame` as one FS|LS descriptor at `index` and polls NPQ.
    func sendCPlus(_ frame: [UInt8], index: Int = 0, flags: UInt32 = 0, vlan: UInt32 = 0, buffer: UInt64 = 0x8000) {
        try? memory.write(at: buffer, bytes: frame)
        putDescriptor(ring: Rig.txRing, index: index,
                      command: DescriptorBits.own | DescriptorBits.fs | DescriptorBits.ls | flags | UInt32(frame.count),
                      vlan: vlan, buffer: buffer)
        w8(RTL8139Register.tppoll, TransmitPollBits.npq)
    }

    func armReceive(count: Int, size: Int, buffers: UInt64 = 0x4_0000) {
        for i in 0..<count {
            let eor: UInt32 = i == count - 1 ? DescriptorBits.eor : 0
            putDescriptor(ring: Rig.rxRing, index: i, command: DescriptorBits.own | eor | UInt32(size),
                          buffer: buffers + UInt64(i * 0x1000))
        }
    }
}

/// The Internet checksum, written out independently of the model's.
func onesComplementSum(_ bytes: [UInt8]) -> UInt16 {
    var sum: UInt32 = 0
    var i = 0
    while i + 1 < bytes.count {
        sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
        i += 2
    }
    if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
    while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
    return UInt16(sum)
}

/// True when the IPv4 header and the TCP/UDP checksum of `frame` verify.
func checksumsVerify(_ frame: [UInt8]) -> (ip: Bool, l4: Bool) {
    let ihl = Int(frame[14] & 0xF) * 4
    let ip = Array(frame[14..<(14 + ihl)])
    let total = Int(frame[16]) << 8 | Int(frame[17])
    let l4 = Array(frame[(14 + ihl)..<(14 + total)])
    let pseudo = Array(frame[26..<34]) + [0, frame[23], UInt8(l4.count >> 8), UInt8(l4.count & 0xFF)]
    return (onesComplementSum(ip) == 0xFFFF, onesComplementSum(pseudo + l4) == 0xFFFF)
}

/// An IPv4 frame (checksums zero) with the given protocol, layer-4 header and payload.
func ipv4Frame(proto: UInt8, l4Header: [UInt8], payload: [UInt8], totalLength: Int? = nil, ihl: UInt8 = 5,
               to destination: MACAddress = .broadcast) -> [UInt8] {
    let length = totalLength ?? (20 + l4Header.count + payload.count)
    var f = destination.bytes + [2, 0, 0, 0, 0, 1, 0x08, 0x00]
    f += [0x40 | ihl, 0, UInt8(length >> 8), UInt8(length & 0xFF), 0x12, 0x34, 0x40, 0, 64, proto, 0, 0,
          10, 0, 0, 1, 10, 0, 0, 2]
    return f + l4Header + payload
}

func tcpHeader(sequence: UInt32 = 1000, flags: UInt8 = 0x18, dataOffsetWords: UInt8 = 5) -> [UInt8] {
    [0x04, 0x00, 0x00, 0x50,
     UInt8(sequence >> 24), UInt8((sequence >> 16) & 0xFF), UInt8((sequence >> 8) & 0xFF), UInt8(sequence & 0xFF),
     0, 0, 0, 0, dataOffsetWords << 4, flags, 0xFF, 0xFF, 0, 0, 0, 0]
}

func udpHeader(length: Int) -> [UInt8] {
    [0x04, 0x00, 0x00, 0x45, UInt8(length >> 8), UInt8(length & 0xFF), 0, 0]
}

func payload(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) } }
