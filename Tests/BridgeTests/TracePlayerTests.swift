import Board
import Bridge
import Foundation
import NICCore
import XCTest

final class TracePlayerTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = try ExternalTool.temporaryDirectory()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Three frames recorded 0, 2 and 5 ms apart, the middle one outbound.
    private func trace() throws -> [ReadPacket] {
        let base: UInt64 = 1_700_000_000_000_000_000
        let packets = [
            ReadPacket(timestamp: base, bytes: TestStation.frame(from: MACAddress(0x02, 0, 0, 0, 0, 9), to: .broadcast, tag: 1), direction: .inbound),
            ReadPacket(timestamp: base + 2_000_000, bytes: TestStation.frame(from: MACAddress(0x02, 0, 0, 0, 0, 1), to: .broadcast, tag: 2), direction: .outbound),
            ReadPacket(timestamp: base + 5_000_000, bytes: TestStation.frame(from: MACAddress(0x02, 0, 0, 0, 0, 9), to: .broadcast, tag: 3)),
        ]
        try TraceFixtures.writePcapNG(packets, to: dir + "/in.pcapng")
        return packets
    }

    // As recorded: each frame is offered at its recorded offset on the virtual clock; outbound ones are skipped.
    func testFramesArePlayedAtTheirRecordedTimes() throws {
        _ = try trace()
        let board = Board(memorySize: 1 << 20)
        let nic = TestStation(1)
        let player = TracePlayer(reader: try PcapNGReader(path: dir + "/in.pcapng"), port: nic.port, clock: board.clock)
        board.add(source: player)
        board.step()
        XCTAssertEqual(nic.tags, [1])
        board.advance(by: 4_999_999)
        XCTAssertEqual(nic.tags, [1])
        board.advance(by: 1)
        XCTAssertEqual(nic.tags, [1, 3])
        XCTAssertTrue(player.isFinished)
        XCTAssertEqual(player.counters.played, 2)
        XCTAssertEqual(player.counters.skipped, 1)
    }

    // Board.run moves time to the next frame by itself (the player's timer).
    func testBoardRunReachesEveryFrame() throws {
        _ = try trace()
        let board = Board(memorySize: 1 << 20)
        let nic = TestStation(1)
        let player = TracePlayer(reader: try PcapNGReader(path: dir + "/in.pcapng"), port: nic.port, clock: board.clock)
        board.add(source: player)
        XCTAssertTrue(board.run(until: { nic.received.count == 2 }, timeout: VirtualClock.second))
        XCTAssertEqual(board.clock.now, 5_000_000)
    }

    // What the NIC sends and what it was offered go to the recorder with their directions.
    func testRecorderKeepsBothDirections() throws {
        _ = try trace()
        let board = Board(memorySize: 1 << 20)
        let nic = TestStation(1)
        let recorder = try PcapNGWriter(path: dir + "/out.pcapng")
        let player = TracePlayer(reader: try PcapReader(path: { try TraceFixtures.writePcap(TraceFixtures.packets(count: 2), to: dir + "/in.pcap", precision: .nanosecond); return dir + "/in.pcap" }()),
                                 port: nic.port, clock: board.clock, timing: .immediate, recorder: recorder)
        board.add(source: player)
        board.step()
        nic.send(to: .broadcast, tag: 7)
        try recorder.close()
        let out = try TraceFixtures.readAll(PcapNGReader(path: dir + "/out.pcapng"))
        XCTAssertEqual(out.map(\.direction), [.inbound, .inbound, .outbound])
        XCTAssertEqual(out.last?.bytes, TestStation.frame(from: nic.mac, to: .broadcast, tag: 7))
        XCTAssertEqual(player.counters.transmitted, 1)
    }

    // A broken file stops the player with the reader's error; frames before it were played.
    func testReadErrorStopsThePlayer() throws {
        let packets = try trace()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/in.pcapng")))
        bytes.removeLast(8)
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/cut.pcapng"))
        let clock = VirtualClock()
        let nic = TestStation(1)
        let player = TracePlayer(reader: try PcapNGReader(path: dir + "/cut.pcapng"), port: nic.port, clock: clock, timing: .immediate)
        _ = player.poll()
        XCTAssertTrue(player.isFinished)
        XCTAssertEqual(nic.received, [packets[0].bytes])
        XCTAssertNotNil(player.error?.offset)
    }
}
