import NICSimTestSupport
import Board
import NICCore
import UNDI
import Wire
import XCTest

@testable import PXE

/// A client on the test NIC, wired to a scripted peer: board, UNDI, base
/// code and the PXE API with its structures installed.
final class PXETestRig {
    let board = Board(memorySize: 8 << 20)
    let nic: TestNICDriver
    let undi: UNDI
    let baseCode: PXEBaseCode
    let api: PXEAPI
    let peer: ScriptedPeer

    init(uuid: [UInt8]? = nil, mac: MACAddress = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)) {
        nic = TestNICDriver(mac: mac)
        undi = UNDI(driver: nic, bus: DriverBus(board: board, dmaRegion: 0x40_0000..<0x80_0000))
        baseCode = PXEBaseCode(undi: undi, identity: PXEClientIdentity(uuid: uuid))
        api = PXEAPI(baseCode: baseCode, memory: board.memory)
        peer = ScriptedPeer(clock: board.clock, port: nic.port)
        board.add(port: nic.port)
        try? api.install()
    }

    var memory: FlatMemory { board.memory }
    var clock: VirtualClock { board.clock }

    /// Runs the ROM's boot: UNDI up, DHCP.
    @discardableResult
    func boot() throws -> DHCPResult {
        let r = try baseCode.boot()
        try api.storeCachedPackets()
        return r
    }

    /// A parameter block at 0x2000:0000 (linear 0x20000), zeroed, `size` long.
    let blockAddress = RealModeAddress(segment: 0x2000, offset: 0x0000)
    /// A data buffer at 0x3000:0000 (linear 0x30000).
    let bufferAddress = RealModeAddress(segment: 0x3000, offset: 0x0000)

    func block(_ bytes: [UInt8], size: Int) {
        try? memory.fill(at: blockAddress.linear, count: max(size, 256), with: 0)
        try? memory.write(at: blockAddress.linear, bytes: bytes)
    }

    func blockBytes(_ count: Int) -> [UInt8] {
        (try? memory.readBytes(at: blockAddress.linear, count: count)) ?? []
    }

    @discardableResult
    func call(_ op: PXEOpcode) -> PXEExit {
        api.callPXENV(bx: op.rawValue, es: blockAddress.segment, di: blockAddress.offset)
    }

    func status() -> PXEStatus { PXEStatus(rawValue: u16(0)) }

    func u8(_ o: Int) -> UInt8 { (try? memory.readU8(blockAddress.linear + UInt64(o))) ?? 0 }
    func u16(_ o: Int) -> UInt16 { (try? memory.readU16(blockAddress.linear + UInt64(o))) ?? 0 }
    func u32(_ o: Int) -> UInt32 { (try? memory.readU32(blockAddress.linear + UInt64(o))) ?? 0 }
    func set8(_ o: Int, _ v: UInt8) { try? memory.writeU8(blockAddress.linear + UInt64(o), v) }
    func set16(_ o: Int, _ v: UInt16) { try? memory.writeU16(blockAddress.linear + UInt64(o), v) }
    func set32(_ o: Int, _ v: UInt32) { try? memory.writeU32(blockAddress.linear + UInt64(o), v) }
    func setIP(_ o: Int, _ a: IPv4Address) { set32(o, a.rawValue.bigEndian) }
    func setString(_ o: Int, _ s: String) { try? memory.write(at: blockAddress.linear + UInt64(o), bytes: Array(s.utf8) + [0]) }
    func setAddress(_ o: Int, _ a: RealModeAddress) { set32(o, a.packed) }
}

/// Bytes 0, 1, 2, ... of `count`, for test files.
func patternFile(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) }
}
