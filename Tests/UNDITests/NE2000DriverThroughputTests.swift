import Board
import NE2000
import NICCore
import XCTest

@testable import UNDI

/// 10,000 frames each way through driver and model, none lost.
final class NE2000DriverThroughputTests: XCTestCase {
    private let frames = 10_000

    private func transmitAll(_ rig: NE2000Rig) throws {
        rig.wire.expected = { streamFrame($0) }
        for i in 0..<frames { try rig.send(streamFrame(i)) }
        XCTAssertEqual(rig.wire.received, frames)
        XCTAssertEqual(rig.wire.mismatches, 0)
        XCTAssertEqual(rig.driver.statistics.transmitted, frames)
    }

    private func receiveAll(_ rig: NE2000Rig) {
        var buffer = [UInt8](repeating: 0, count: 2048)
        var next = 0
        var mismatches = 0
        var offered = 0
        // The wire offers in bursts of up to 32; the driver polls between them.
        for _ in 0..<(frames * 4) where next < frames {
            while offered < frames && offered - next < 32 {
                streamFrame(offered).withUnsafeBytes { _ = rig.port.offer($0) }
                offered += 1
            }
            rig.board.step()
            while let n = buffer.withUnsafeMutableBytes({ rig.driver.receive(into: $0) }) {
                if !streamFrame(next).elementsEqual(buffer[0..<n]) { mismatches += 1 }
                next += 1
            }
        }
        XCTAssertEqual(next, frames)
        XCTAssertEqual(mismatches, 0)
        XCTAssertEqual(rig.port.counters.droppedNoRoom, 0)
        XCTAssertEqual(rig.driver.statistics.received, frames)
    }

    func testTenThousandFramesEachWayPCI() throws {
        let rig = NE2000Rig()
        try rig.probeAndOpen()
        try transmitAll(rig)
        receiveAll(rig)
    }

    func testTenThousandFramesEachWayISA() throws {
        let rig = try NE2000Rig(isaAt: 0x300)
        try rig.probeAndOpen()
        try transmitAll(rig)
        receiveAll(rig)
    }
}
