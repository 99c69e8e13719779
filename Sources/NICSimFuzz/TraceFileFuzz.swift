import Bridge

#if canImport(Glibc)
import Glibc
#endif

/// The pcap and pcapng readers, fed the input as a whole file through a
/// pipe, so the readers run their real buffered `read(2)` path (a pipe
/// holds 64 KiB, hence the input limit). Every packet is read until the
/// end or the first error; a packet never holds more bytes than the
/// format allows.
enum TraceFileFuzz {
    /// More packets than any input this size can hold: the readers must end on their own.
    static let maxPackets = 1 << 16

    static func runPcap(_ input: inout FuzzInput) {
        withFile(input.rest()) { fd in
            guard let reader = try? PcapReader(fileDescriptor: fd) else { return }
            _ = (reader.snapLength, reader.fcsLength, reader.precision)
            drain(reader)
        }
    }

    static func runPcapNG(_ input: inout FuzzInput) {
        withFile(input.rest()) { fd in
            guard let reader = try? PcapNGReader(fileDescriptor: fd) else { return }
            drain(reader)
            _ = (reader.interfaces.count, reader.sectionCount)
        }
    }

    private static func drain(_ reader: TraceFileReader) {
        for _ in 0..<maxPackets {
            guard let packet = try? reader.next() else { return }
            precondition(packet.bytes.count <= 1 << 20, "a packet larger than any trace format allows")
            _ = reader.linkType(of: packet.interface)
            _ = (packet.timestamp, packet.originalLength, packet.direction)
        }
        preconditionFailure("the reader did not end within \(maxPackets) packets")
    }

    /// Runs `body` on the read end of a pipe holding `bytes`, its write end closed.
    private static func withFile(_ bytes: UnsafeRawBufferPointer, _ body: (Int32) -> Void) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { preconditionFailure("pipe failed: errno \(errno)") }
        defer { close(ends[0]) }
        // Never block: a pipe smaller than the input just ends the file early.
        _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK)
        var written = 0
        while written < bytes.count {
            let n = write(ends[1], bytes.baseAddress! + written, bytes.count - written)
            guard n > 0 else { break }
            written += n
        }
        close(ends[1])
        body(ends[0])
    }
}
