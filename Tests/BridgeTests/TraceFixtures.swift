import Bridge
import NICCore

/// A packet as the tests compare them: everything a reader reports.
struct ReadPacket: Equatable {
    var timestamp: UInt64
    var bytes: [UInt8]
    var originalLength: Int
    var interface: Int
    var direction: TraceDirection?

    init(_ p: TracePacket) {
        timestamp = p.timestamp
        bytes = Array(p.bytes)
        originalLength = p.originalLength
        interface = p.interface
        direction = p.direction
    }

    init(timestamp: UInt64, bytes: [UInt8], interface: Int = 0, direction: TraceDirection? = nil) {
        self.timestamp = timestamp
        self.bytes = bytes
        originalLength = bytes.count
        self.interface = interface
        self.direction = direction
    }
}

enum TraceFixtures {
    /// Seeded frames from 14 bytes to a 9000-byte jumbo, with varied timestamps.
    static func packets(count: Int, seed: UInt64 = 1, interfaces: Int = 1, directions: Bool = false) -> [ReadPacket] {
        var rng = SeededRandom(seed: seed)
        var t: UInt64 = 1_700_000_000 * 1_000_000_000 + 123_456_789
        return (0..<count).map { i in
            let size = i == 7 ? 9000 : 14 + Int(rng.next() % 1501)
            let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            t += rng.next() % 5_000_000_000
            let dir: TraceDirection? = directions ? (i % 3 == 0 ? .inbound : i % 3 == 1 ? .outbound : nil) : nil
            return ReadPacket(timestamp: t, bytes: bytes, interface: i % interfaces, direction: dir)
        }
    }

    /// Reads every packet of `reader`.
    static func readAll(_ reader: any TraceFileReader) throws -> [ReadPacket] {
        var out: [ReadPacket] = []
        while let p = try reader.next() { out.append(ReadPacket(p)) }
        return out
    }

    /// Writes `packets` as pcapng with `interfaces` interfaces.
    static func writePcapNG(_ packets: [ReadPacket], to path: String, interfaces: Int = 1, byteOrder: ByteOrder = .host) throws {
        let w = try PcapNGWriter(path: path, interfaces: (0..<interfaces).map { .init(name: "nic\($0)") }, byteOrder: byteOrder)
        for p in packets {
            try p.bytes.withUnsafeBytes { (b: UnsafeRawBufferPointer) throws in
                try w.write(b, interface: p.interface, timestamp: p.timestamp, direction: p.direction)
            }
        }
        try w.close()
    }

    static func writePcap(_ packets: [ReadPacket], to path: String, precision: PcapTimestampPrecision, byteOrder: ByteOrder = .host) throws {
        let w = try PcapWriter(path: path, precision: precision, byteOrder: byteOrder)
        for p in packets {
            try p.bytes.withUnsafeBytes { (b: UnsafeRawBufferPointer) throws in try w.write(b, timestamp: p.timestamp) }
        }
        try w.close()
    }
}
