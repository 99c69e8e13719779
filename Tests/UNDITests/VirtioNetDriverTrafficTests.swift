import Board
import NICCore
import VirtioNet
import XCTest

@testable import UNDI

/// 10,000 frames each way through driver and card, none lost, none changed,
/// in order: over the modern and the legacy interface.
final class VirtioNetDriverTrafficTests: XCTestCase {
    private func run(_ bench: VirtioNetDriverBench, burst: Int = 150, file: StaticString = #filePath, line: UInt = #line) throws {
        try bench.driver.open(filter: [.directed, .broadcast], multicast: [])
        let count = 10_000
        for n in 0..<count {
            let f = VirtioNetDriverBench.frame(n, length: 60 + n % 1455)
            try bench.transmit(f)
            XCTAssertTrue(bench.wire.frames.last == f, "transmitted frame \(n) differs", file: file, line: line)
            bench.wire.frames.removeAll(keepingCapacity: true)
        }
        XCTAssertEqual(bench.card.counters.transmittedFrames, count, file: file, line: line)

        // Bursts bigger than the receive ring: the port holds the rest (up
        // to its 64 frames) and the driver's kicks, as it reposts buffers,
        // let them in.
        var received = 0
        var n = 0
        while n < count {
            for _ in 0..<burst where n < count {
                let result = bench.offer(VirtioNetDriverBench.frame(n, length: 60 + n % 1455))
                XCTAssertNotEqual(result, .dropped, file: file, line: line)
                n += 1
            }
            while let f = bench.receive() {
                XCTAssertTrue(f == VirtioNetDriverBench.frame(received, length: 60 + received % 1455), "received frame \(received) differs", file: file, line: line)
                received += 1
            }
        }
        XCTAssertEqual(received, count, file: file, line: line)
        XCTAssertEqual(bench.card.port.counters.droppedNoRoom, 0, file: file, line: line)
        XCTAssertEqual(bench.driver.statistics.received, count, file: file, line: line)
        XCTAssertEqual(bench.driver.statistics.transmitted, count, file: file, line: line)
        XCTAssertNil(bench.card.lastError, file: file, line: line)
    }

    func testTenThousandFramesEachWayModern() throws {
        try run(VirtioNetDriverBench())
    }

    func testTenThousandFramesEachWayLegacy() throws {
        try run(VirtioNetDriverBench(VirtioNetConfiguration(macAddress: VirtioNetDriverBench.mac, variant: .legacy, mergeableReceiveBuffers: false)))
    }

    func testTenThousandFramesEachWayModernWithSmallMergeableBuffers() throws {
        var options = VirtioNetDriver.Options()
        options.mergeableBufferSize = 512
        // Up to four 512-byte buffers a frame: 64 frames fill the ring.
        try run(VirtioNetDriverBench(options: options), burst: 120)
    }
}
