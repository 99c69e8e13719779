import Board
import Foundation
import NICCore
import PXE
import VirtioNet
import XCTest

@testable import NICSimFuzz

/// The recorded seeds replay what was recorded: a driver session sends and
/// receives the same frames through the harness, and a boot's server
/// answers take the client to the kernel again. So the fuzzers start from
/// real work, not from what a recorder thought it saw.
final class FuzzSeedReplayTests: XCTestCase {
    func testRecordedDriverSessionsMoveTheirFramesAgain() {
        let models: [DeviceFuzz.Model] = [.ne2000PCI, .ne2000ISA, .rtl8139, .rtl8139CPlus, .virtioNetLegacy, .virtioNetModern]
        for model in models {
            let seeds = DeviceSeeds.seeds(model)
            for (name, sent, delivered) in [("driver-send-receive", 2, 4), ("driver-busy-ring", 1, 13)] {
                guard let seed = seeds.first(where: { $0.0 == name })?.1 else { return XCTFail("\(model): no \(name)") }
                let rig = DeviceFuzz.Rig(model)
                seed.withUnsafeBytes { raw in
                    var input = FuzzInput(raw)
                    DeviceFuzz.run(rig, &input)
                }
                XCTAssertEqual(rig.framesSent, sent, "\(model) \(name)")
                XCTAssertEqual(rig.device.port.counters.deliveredFrames, delivered, "\(model) \(name)")
            }
        }
    }

    /// The hand-driven sessions reach what no UNDI driver does: a C+ large
    /// send (2000 bytes at MSS 536: four segments) and a checksummed,
    /// tagged UDP frame; a packed virtio ring with MSI-X.
    func testHandDrivenSessionsReachTheOffloadsAndThePackedRing() {
        let cPlus = DeviceFuzz.Rig(.rtl8139CPlus)
        DeviceSeeds.cPlusOffloads().withUnsafeBytes { raw in
            var input = FuzzInput(raw)
            DeviceFuzz.run(cPlus, &input)
        }
        XCTAssertEqual(cPlus.framesSent, 5)
        XCTAssertEqual(cPlus.device.port.counters.deliveredFrames, 1)

        let virtio = DeviceFuzz.Rig(.virtioNetModern)
        DeviceSeeds.virtioPackedRing().withUnsafeBytes { raw in
            var input = FuzzInput(raw)
            DeviceFuzz.run(virtio, &input)
        }
        guard let device = virtio.device as? VirtioNet else { return XCTFail("not a virtio-net") }
        XCTAssertTrue(device.negotiatedFeatures.contains(.ringPacked))
        XCTAssertNil(device.lastError)
        XCTAssertEqual(virtio.framesSent, 1)
        XCTAssertEqual(virtio.device.port.counters.deliveredFrames, 2)
        XCTAssertGreaterThan(device.msix?.deliveries[1] ?? 0, 0)
    }

    func testRecordedBootAnswersTakeTheClientToTheKernel() throws {
        for (name, seed) in NetworkSeeds.bootSeeds.client {
            try seed.withUnsafeBytes { raw in
                var input = FuzzInput(raw)
                let board = Board(memorySize: PXEClientFuzz.ramSize)
                let (device, driver) = PXEClientFuzz.card(input.u8(), on: board)
                let server = PXEClientFuzz.ScriptedServer(port: device.port, clock: board.clock, input: input)
                let client = try PXEClient(board: board, driver: driver)
                client.loader.loadLimit = UInt64(PXEClientFuzz.ramSize / 2)
                let report = try client.boot()
                XCTAssertEqual(report.nbp.kernel.size, 3000, name)
                XCTAssertEqual(report.nbp.initrds.map(\.size), [1500], name)
                XCTAssertTrue(server.input.isAtEnd, name)
            }
        }
    }
}
