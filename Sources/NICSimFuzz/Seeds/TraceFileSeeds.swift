import Bridge

#if canImport(Glibc)
import Glibc
#endif

/// Seeds for the trace readers: files nicsim's own writers make, in both
/// byte orders and both timestamp precisions, with cut packets, FCS
/// flags, several interfaces and two sections.
enum TraceFileSeeds {
    static let frames = [60, 120, 200].enumerated().map { n, length in
        DeviceSeeds.frame(to: .broadcast, length: length, seed: UInt8(n))
    }

    /// What `write` puts in a file, read back.
    static func file(_ write: (String) throws -> Void) -> [UInt8] {
        var template = Array("/tmp/nicsim-fuzz-seed-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return [] }
        close(fd)
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { unlink(path) }
        guard (try? write(path)) != nil else { return [] }
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { return [] }
        defer { close(input) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }

    static func pcap() -> [(String, [UInt8])] {
        let plain = file { path in
            let w = try PcapWriter(path: path)
            for (i, f) in frames.enumerated() { try f.withUnsafeBytes { try w.write($0, timestamp: 1_700_000_000_000_000_000 + UInt64(i) * 1_000_000) } }
            try w.close()
        }
        let nanoBigEndianCut = file { path in
            let w = try PcapWriter(path: path, snapLength: 96, precision: .nanosecond, byteOrder: .bigEndian)
            for f in frames { try f.withUnsafeBytes { try w.write($0, timestamp: 123_456_789, originalLength: 1514) } }
            try w.close()
        }
        // LINKTYPE_ETHERNET with the FCS bits: frames end with a 4-byte FCS.
        let withFCS = file { path in
            let w = try PcapWriter(path: path, linkType: 1 | 0x0400_0000 | 2 << 28)
            for f in frames.prefix(2) { try (f + [0xDE, 0xAD, 0xBE, 0xEF]).withUnsafeBytes { try w.write($0, timestamp: 0) } }
            try w.close()
        }
        return [("pcap-microsecond", plain), ("pcap-nanosecond-big-endian-cut", nanoBigEndianCut), ("pcap-fcs", withFCS)]
    }

    static func pcapng() -> [(String, [UInt8])] {
        let directions = file { path in
            let w = try PcapNGWriter(path: path)
            try frames[0].withUnsafeBytes { try w.write($0, timestamp: 1, direction: .inbound) }
            try frames[1].withUnsafeBytes { try w.write($0, timestamp: 2, direction: .outbound, crcError: true) }
            try frames[2].withUnsafeBytes { try w.write($0, timestamp: 3) }
            try w.close()
        }
        let interfaces = file { path in
            let w = try PcapNGWriter(path: path, application: "nicsim fuzz seed",
                                     interfaces: [PcapNGWriter.Interface(name: "a"), PcapNGWriter.Interface(name: "b", snapLength: 64)])
            try frames[2].withUnsafeBytes { try w.write($0, interface: 1, timestamp: 10, originalLength: 400) }
            try frames[1].withUnsafeBytes { try w.writeSimple($0) }
            try w.addInterface(PcapNGWriter.Interface(name: "late", linkType: 101))
            try frames[0].withUnsafeBytes { try w.write($0, interface: 2, timestamp: 11) }
            try w.close()
        }
        let bigEndian = file { path in
            let w = try PcapNGWriter(path: path, byteOrder: .bigEndian)
            try frames[0].withUnsafeBytes { try w.write($0, timestamp: 5, direction: .inbound) }
            try w.close()
        }
        // Two sections in one file: host order, then big-endian.
        return [("pcapng-directions", directions), ("pcapng-interfaces", interfaces), ("pcapng-two-sections", directions + bigEndian)]
    }
}
