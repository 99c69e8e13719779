#if canImport(Glibc)
import Glibc
#endif
import CPcap
import NICCore

/// A host interface through libpcap: frames addressed to `mac`, broadcast
/// or multicast arriving on IFACE are offered to `port`; the port's
/// transmissions are injected with pcap_inject.
final class LivePcapPort: FrameTransmitter {
    let interface: String
    let port: FramePort
    private let handle: OpaquePointer
    let selectableFD: Int32
    private(set) var injectErrors = 0

    init(interface: String, mac: MACAddress, port: FramePort) throws(CLIError) {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let h = pcap_create(interface, &errbuf) else {
            throw CLIError(description: "can't open interface \(interface): \(String(cString: errbuf))")
        }
        pcap_set_snaplen(h, 65535)
        pcap_set_promisc(h, 1)
        pcap_set_immediate_mode(h, 1)
        pcap_set_timeout(h, 1)
        let status = pcap_activate(h)
        if status < 0 {
            let message = String(cString: pcap_geterr(h))
            pcap_close(h)
            switch status {
            case PCAP_ERROR_NO_SUCH_DEVICE:
                throw CLIError(description: "interface \(interface) not found; list interfaces with `ip link`")
            case PCAP_ERROR_PERM_DENIED:
                throw CLIError(description: "not permitted to capture on \(interface); run as root or grant CAP_NET_RAW")
            default:
                throw CLIError(description: "can't capture on \(interface): \(message)")
            }
        }
        // Only what arrives from the wire; our own injections would loop back otherwise.
        pcap_setdirection(h, PCAP_D_IN)
        var program = bpf_program()
        let filter = "ether dst \(mac) or ether broadcast or ether multicast"
        if pcap_compile(h, &program, filter, 1, PCAP_NETMASK_UNKNOWN) == 0 {
            pcap_setfilter(h, &program)
            pcap_freecode(&program)
        }
        pcap_setnonblock(h, 1, &errbuf)
        handle = h
        selectableFD = pcap_get_selectable_fd(h)
        self.interface = interface
        self.port = port
        port.transmitter = self
    }

    deinit { pcap_close(handle) }

    /// Offers every frame waiting on the interface (at most a bounded batch).
    func service() {
        for _ in 0..<256 {
            var header: UnsafeMutablePointer<pcap_pkthdr>?
            var data: UnsafePointer<UInt8>?
            guard pcap_next_ex(handle, &header, &data) == 1, let header, let data else { return }
            let count = Int(min(header.pointee.caplen, header.pointee.len))
            port.offer(UnsafeRawBufferPointer(start: data, count: count))
        }
    }

    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        guard let base = frame.baseAddress else { return }
        if pcap_inject(handle, base, frame.count) < 0 { injectErrors += 1 }
    }
}
