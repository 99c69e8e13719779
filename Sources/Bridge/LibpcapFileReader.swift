import CPcap

/// Reads a pcap or pcapng file through libpcap (`pcap_open_offline` with
/// nanosecond precision, `pcap_next_ex`): the reference our own readers are
/// checked and benchmarked against. libpcap reports neither the pcapng
/// interface nor the direction, so those are always 0 and nil here.
public final class LibpcapFileReader: TraceFileReader {
    private let handle: OpaquePointer

    public init(path: String) throws(TraceFileError) {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let h = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf) else {
            throw .cannotOpen(path: path, reason: String(decoding: errbuf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        handle = h
    }

    deinit { pcap_close(handle) }

    /// `pcap_datalink`.
    public func linkType(of interface: Int) -> UInt32? {
        UInt32(truncatingIfNeeded: pcap_datalink(handle))
    }

    /// `pcap_next_ex`: the bytes stay valid until the next call.
    public func next() throws(TraceFileError) -> TracePacket? {
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        switch pcap_next_ex(handle, &header, &data) {
        case 1:
            guard let h = header?.pointee else { return nil }
            let ns = UInt64(truncatingIfNeeded: h.ts.tv_sec) &* 1_000_000_000 &+ UInt64(truncatingIfNeeded: h.ts.tv_usec)
            return TracePacket(timestamp: ns, bytes: UnsafeRawBufferPointer(start: data, count: Int(h.caplen)),
                               originalLength: Int(h.len), interface: 0, direction: nil)
        case -2:
            return nil
        default:
            throw .io(reason: "libpcap: " + String(cString: pcap_geterr(handle)))
        }
    }
}
