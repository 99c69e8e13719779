import NICCore
import UNDI
import Wire
import XCTest

@testable import PXE

/// Bad guest input and bad packets are the normal case: random parameter
/// blocks, random opcodes and random frames must never trap, hang or
/// leave a call without its status word.
final class PXEHostileInputTests: XCTestCase {
    func testRandomParameterBlocksAlwaysGetAStatusAndNeverTrap() throws {
        var rng = SeededRandom(seed: 0x5EED)
        let opcodes = PXEOpcode.allCases.map(\.rawValue) + [0x0016, 0x0024, 0x0074, 0xFFFF]
        var rig = PXETestRig()
        var calls = [PXEStatus: Int]()
        for n in 0..<3000 {
            // A fresh, booted client every 100 calls, so unloads and stops
            // don't leave the rest of the run facing a dead stack.
            if n % 100 == 0 {
                rig = PXETestRig()
                rig.peer.files["f"] = patternFile(2000)
                try rig.boot()
            }
            var block = [UInt8](repeating: 0, count: 160)
            for i in block.indices { block[i] = UInt8(truncatingIfNeeded: rng.next()) }
            // Keep pointers into the first MiB often enough to reach the handlers' deeper paths.
            if rng.next() & 1 == 0 { for i in stride(from: 2, to: 160, by: 4) { block[i + 1] &= 0x0F } }
            rig.block(block, size: 160)
            let op = opcodes[Int(rng.next() % UInt64(opcodes.count))]
            let exit = rig.api.callPXENV(bx: op, es: rig.blockAddress.segment, di: rig.blockAddress.offset)
            let status = rig.status()
            XCTAssertEqual(exit, PXEExit(status), "opcode \(op)")
            if PXEOpcode(rawValue: op) == nil { XCTAssertEqual(status, .unsupported) }
            calls[status, default: 0] += 1
        }
        // The run reached past argument checks: some calls succeeded and
        // several different failures were reported.
        XCTAssertGreaterThan(calls[.success] ?? 0, 100)
        XCTAssertGreaterThan(calls.count, 8)
    }

    func testRandomFramesDoNotDisturbABoot() throws {
        let rig = PXETestRig()
        var rng = SeededRandom(seed: 0xF00D)
        XCTAssertEqual(rig.undi.bringUp(), .success)
        for n in 0..<3000 {
            var frame = rig.nic.stationAddress.bytes + [0x02, 0, 0, 0, 0, 0x66]
            let length = 14 + Int(rng.next() % 600)
            switch n % 3 {
            case 0: frame += [0x08, 0x06]  // ARP
            case 1: frame += [0x08, 0x00, 0x45, 0x00]  // IPv4
            default: frame += [UInt8(truncatingIfNeeded: rng.next()), UInt8(truncatingIfNeeded: rng.next())]
            }
            while frame.count < length { frame.append(UInt8(truncatingIfNeeded: rng.next())) }
            rig.nic.deliver(frame)
            if n % 50 == 0 { _ = rig.baseCode.ip.poll { _, _ in false } }
        }
        _ = rig.baseCode.ip.poll { _, _ in false }
        let result = try rig.boot()
        XCTAssertEqual(result.address, rig.peer.clientAddress)
    }

    func testMalformedDHCPRepliesAreIgnored() throws {
        // Truncated BOOTP, wrong op, bad cookie, option running off the end.
        let rig = PXETestRig()
        XCTAssertEqual(rig.undi.bringUp(), .success)
        let me = UDPEndpoint(mac: .broadcast, ip: .broadcast, port: 68)
        for payload: [UInt8] in [[2, 1, 6], [UInt8](repeating: 1, count: 300), [UInt8](repeating: 2, count: 240) + [99, 130, 83, 99, 53, 200]] {
            rig.peer.sendUDP(from: rig.peer.dhcpServer, sourcePort: 67, to: me, payload: payload)
        }
        rig.board.advance(by: VirtualClock.millisecond)
        XCTAssertEqual(try rig.boot().address, rig.peer.clientAddress)
    }

    func testTFTPDataFromAnotherHostIsIgnored() throws {
        let rig = PXETestRig()
        try rig.boot()
        let file = patternFile(3000)
        rig.peer.files["f"] = file
        rig.peer.maxBlockSize = 512
        // A spoofed DATA 1 from the proxy's address to every likely client port.
        for port in UInt16(2070)...UInt16(2080) {
            rig.peer.sendUDP(from: rig.peer.proxyServer, sourcePort: 40000, to: UDPEndpoint(mac: rig.nic.stationAddress, ip: rig.peer.clientAddress, port: port),
                             payload: [0, 3, 0, 1, 0xBA, 0xD0])
        }
        var got: [UInt8] = []
        try rig.baseCode.tftp.readFile(server: rig.peer.dhcpServer.ip, file: "f", options: TFTPTransferOptions(blockSize: 512)) { (_, b) throws(PXEStatus) in got += b }
        XCTAssertEqual(got, file)
    }
}
