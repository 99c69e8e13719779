#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import CPcap
import NICCore
import Synchronization

/// A real host interface as a backend, through libpcap: what `nicsim
/// --bridge eth0` plugs a NIC model into.
///
/// The handle is made with `pcap_create`/`pcap_activate` in immediate mode
/// (frames are delivered as they arrive, not batched), captures inbound
/// frames only (`PCAP_D_IN`, so our own injections don't come back), and
/// unless the guest wants promiscuous mode carries a BPF filter for our MAC
/// address, broadcast and multicast. Frames the NIC sends go out with
/// `pcap_inject`.
///
/// The interface is not made promiscuous unless asked (`promiscuous`, or the
/// guest's own request). The guest's MAC is not the host NIC's, so for the
/// host NIC's filter to pass frames for it, the capture socket adds the
/// guest's MAC to the interface's unicast address list (a
/// `PACKET_MR_UNICAST` membership, as macvlan does), and follows the guest
/// when it changes its address. Interfaces that hand every frame to packet
/// sockets anyway (veth, tap) get no entry: on them the kernel would have
/// to fall back to promiscuous mode to honour it.
///
/// Frames that the host's own stack sent over an offloading device carry
/// a partial TCP/UDP checksum; they are finished on arrival
/// (`ChecksumOffload.completePartial`) unless `completeChecksums` is off.
/// TCP it sent with segmentation offload arrives as one frame of up to
/// 64 KiB; such a frame is cut into segments that fit the interface's MTU
/// (`SegmentationOffload`), as the sending NIC would have, so the capture
/// takes whole 64 KiB frames.
///
/// A capture thread reads the handle and copies frames into a
/// preallocated single-producer/single-consumer ring; `poll()`, on the
/// Board's thread, offers them to the port. No allocation per frame.
public final class LiveCapture: HostLink {
    public let interface: String
    public private(set) var macAddress: MACAddress
    public private(set) var promiscuous: Bool
    public let port: FramePort
    /// The BPF filter asked for (nil when promiscuous).
    public private(set) var filter: String?
    public private(set) var counters = HostLinkCounters()
    /// Finish partial TCP/UDP checksums of arriving frames.
    public let completeChecksums: Bool
    /// Promiscuous mode asked for by the user (kept whatever the guest does).
    public let userPromiscuous: Bool
    /// The interface's driver (ETHTOOL_GDRVINFO), "" when it has none.
    public let driver: String
    /// How the interface's own address filter lets the guest's frames in.
    public var addressFilter: HostAddressFilter {
        if promiscuousMembership { return .promiscuous }
        if let unicastEntry { return .unicast(unicastEntry) }
        return .passesEverything(driver: driver)
    }
    /// Why the capture stopped (the interface went down or away), once it has.
    public private(set) var failure: String?
    /// Where a stopped capture is reported (stderr by default).
    public var log: (String) -> Void = { message in
        let line = Array("nicsim: \(message)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    private let loop: CaptureLoop
    /// A second handle that only sends (its socket's protocol is 0, so it
    /// receives nothing): libpcap handles are not safe to share between
    /// threads, and the capture thread owns the first.
    private let injector: OpaquePointer
    /// The capture socket (for memberships) and the interface's index.
    private let socket: Int32
    private let interfaceIndex: Int32
    /// The unicast address entry added for the guest, if any.
    private var unicastEntry: MACAddress?
    /// Whether our socket holds a promiscuous membership.
    private var promiscuousMembership = false
    /// The interface hands every frame to packet sockets (veth, tap).
    private let passesEverything: Bool
    /// The interface's MTU: larger TCP frames are cut to it.
    public let mtu: Int
    /// Where each segment of a cut super-frame is built.
    private let segmentBuffer: UnsafeMutableRawBufferPointer
    private var thread = pthread_t()
    private var running = false

    /// Opens `interface` (inside `networkNamespace`, if given) and starts
    /// capturing into `port`, which this capture becomes the transmitter of.
    public init(interface: String, macAddress: MACAddress, port: FramePort, promiscuous: Bool = false,
                completeChecksums: Bool = true,
                networkNamespace: String? = nil, snapLength: Int = 65_560, ringCapacity: Int = 256) throws(LiveCaptureError) {
        self.interface = interface
        self.macAddress = macAddress
        self.promiscuous = promiscuous
        userPromiscuous = promiscuous
        self.completeChecksums = completeChecksums
        self.port = port
        let filter = Self.filter(for: macAddress, promiscuous: promiscuous)
        self.filter = filter
        let opened: Result<Handles, LiveCaptureError>
        if let networkNamespace {
            do {
                opened = try NetworkNamespace.run(networkNamespace) {
                    Self.open(interface, snapLength: snapLength, filter: filter)
                }
            } catch {
                throw .namespace(error.description)
            }
        } else {
            opened = Self.open(interface, snapLength: snapLength, filter: filter)
        }
        let handles = try opened.get()
        injector = handles.inject
        socket = pcap_fileno(handles.capture)
        interfaceIndex = handles.index
        driver = handles.driver
        mtu = handles.mtu
        segmentBuffer = .allocate(byteCount: min(snapLength, 14 + 4 + handles.mtu), alignment: 16)
        passesEverything = handles.passesEverything
        loop = CaptureLoop(handle: handles.capture, ring: FrameRing(capacity: ringCapacity, slotSize: snapLength))
        if promiscuous { setPromiscuousMembership(true) }
        if !passesEverything { addUnicastEntry(macAddress) }
        port.transmitter = self
        port.setLink(up: true)
        try start()
    }

    deinit {
        stop()
        segmentBuffer.deallocate()
    }

    // MARK: Opening

    /// What `open` hands back: both handles, and what is known of the interface.
    private struct Handles {
        var capture: OpaquePointer
        var inject: OpaquePointer
        var index: Int32
        var driver: String
        var passesEverything: Bool
        var mtu: Int
    }

    /// pcap_findalldevs (exists? up?), pcap_create, options, pcap_activate,
    /// pcap_setdirection, pcap_compile/pcap_setfilter; then the send-only
    /// handle, the interface's index and its driver (inside the namespace).
    private static func open(_ name: String, snapLength: Int, filter: String?) -> Result<Handles, LiveCaptureError> {
        let capture: OpaquePointer
        switch openCapture(name, snapLength: snapLength, filter: filter) {
        case .success(let h): capture = h
        case .failure(let e): return .failure(e)
        }
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let inject = pcap_create(name, &errbuf) else {
            pcap_close(capture)
            return .failure(.failed(name, reason: text(errbuf)))
        }
        pcap_set_protocol_linux(inject, 0)
        pcap_set_snaplen(inject, 64)
        let rc = pcap_activate(inject)
        guard rc >= 0 else {
            let reason = String(cString: pcap_geterr(inject))
            pcap_close(inject)
            pcap_close(capture)
            return .failure(rc == PCAP_ERROR_PERM_DENIED ? .permissionDenied(name) : .failed(name, reason: "cannot open for sending: \(reason)"))
        }
        let driver = InterfaceInfo.driver(of: name) ?? ""
        return .success(Handles(capture: capture, inject: inject, index: Int32(bitPattern: if_nametoindex(name)),
                                driver: driver, passesEverything: InterfaceInfo.passesEveryFrame(driver: driver),
                                mtu: InterfaceInfo.mtu(of: name) ?? 1500))
    }

    /// The capture handle.
    private static func openCapture(_ name: String, snapLength: Int, filter: String?) -> Result<OpaquePointer, LiveCaptureError> {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        var devices: UnsafeMutablePointer<pcap_if_t>?
        if pcap_findalldevs(&devices, &errbuf) == 0 {
            defer { pcap_freealldevs(devices) }
            var names: [String] = []
            var flags: UInt32?
            var d = devices
            while let dev = d {
                let n = String(cString: dev.pointee.name)
                names.append(n)
                if n == name { flags = dev.pointee.flags }
                d = dev.pointee.next
            }
            guard let flags else {
                // Only kernel network interfaces (not libpcap's pseudo-devices such as nflog or dbus).
                return .failure(.noSuchInterface(name, available: names.filter { if_nametoindex($0) != 0 }))
            }
            if flags & UInt32(PCAP_IF_UP) == 0 { return .failure(.interfaceDown(name)) }
        }
        guard let h = pcap_create(name, &errbuf) else {
            return .failure(.failed(name, reason: text(errbuf)))
        }
        pcap_set_snaplen(h, Int32(snapLength))
        // Promiscuous mode, when wanted, is a membership on the socket
        // (it can then be dropped again when the guest leaves it).
        pcap_set_promisc(h, 0)
        pcap_set_immediate_mode(h, 1)
        pcap_set_timeout(h, 100)
        let rc = pcap_activate(h)
        if rc < 0 {
            let reason = String(cString: pcap_geterr(h))
            pcap_close(h)
            switch rc {
            case PCAP_ERROR_NO_SUCH_DEVICE: return .failure(.noSuchInterface(name, available: []))
            case PCAP_ERROR_PERM_DENIED, PCAP_ERROR_PROMISC_PERM_DENIED: return .failure(.permissionDenied(name))
            case PCAP_ERROR_IFACE_NOT_UP: return .failure(.interfaceDown(name))
            default: return .failure(.failed(name, reason: reason))
            }
        }
        guard pcap_setdirection(h, PCAP_D_IN) == 0 else {
            let reason = String(cString: pcap_geterr(h))
            pcap_close(h)
            return .failure(.failed(name, reason: "cannot capture inbound only: \(reason)"))
        }
        if let filter {
            var program = bpf_program()
            guard pcap_compile(h, &program, filter, 1, UInt32(PCAP_NETMASK_UNKNOWN)) == 0 else {
                let reason = String(cString: pcap_geterr(h))
                pcap_close(h)
                return .failure(.failed(name, reason: "filter \"\(filter)\": \(reason)"))
            }
            defer { pcap_freecode(&program) }
            guard pcap_setfilter(h, &program) == 0 else {
                let reason = String(cString: pcap_geterr(h))
                pcap_close(h)
                return .failure(.failed(name, reason: "filter \"\(filter)\": \(reason)"))
            }
        }
        return .success(h)
    }

    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func filter(for mac: MACAddress, promiscuous: Bool) -> String? {
        promiscuous ? nil : "ether dst \(mac) or ether multicast"
    }

    /// Follows the guest: when its driver changes the station address or
    /// turns promiscuous mode on or off, the BPF filter changes with it.
    /// The capture thread applies the change before its next batch; frames
    /// already captured under the old filter are still delivered.
    public func update(macAddress: MACAddress, promiscuous: Bool) {
        guard macAddress != self.macAddress || promiscuous != self.promiscuous else { return }
        self.macAddress = macAddress
        self.promiscuous = promiscuous
        filter = Self.filter(for: macAddress, promiscuous: promiscuous)
        loop.requestFilter(filter)
        setPromiscuousMembership(promiscuous || userPromiscuous)
        if !passesEverything, unicastEntry != macAddress {
            removeUnicastEntry()
            addUnicastEntry(macAddress)
        }
    }

    // MARK: The interface's address filter

    /// PACKET_MR_UNICAST: the guest's MAC joins the interface's unicast
    /// list (dev_uc_add); the kernel programs the NIC's filter, or falls
    /// back to promiscuous mode on a NIC that has none.
    private func addUnicastEntry(_ mac: MACAddress) {
        let rc = mac.bytes.withUnsafeBufferPointer { nicsim_packet_unicast(socket, 1, interfaceIndex, $0.baseAddress) }
        if rc == 0 {
            unicastEntry = mac
        } else {
            log("cannot add \(mac) to \(interface)'s address filter (\(String(cString: strerror(-rc)))); "
                + "frames for it may not arrive: try --promiscuous")
        }
    }

    private func removeUnicastEntry() {
        guard let mac = unicastEntry else { return }
        _ = mac.bytes.withUnsafeBufferPointer { nicsim_packet_unicast(socket, 0, interfaceIndex, $0.baseAddress) }
        unicastEntry = nil
    }

    /// PACKET_MR_PROMISC, held while asked for (by the user or the guest).
    private func setPromiscuousMembership(_ on: Bool) {
        guard on != promiscuousMembership else { return }
        let rc = nicsim_packet_promiscuous(socket, on ? 1 : 0, interfaceIndex)
        guard rc == 0 else {
            log("cannot turn promiscuous mode \(on ? "on" : "off") on \(interface): \(String(cString: strerror(-rc)))")
            return
        }
        promiscuousMembership = on
    }

    /// Filter changes the capture thread has applied (for waiting on one).
    public var appliedFilterChanges: Int { loop.filterChanges.load(ordering: .acquiring) }

    /// Why the last filter change failed, if it did.
    public var filterError: String? { loop.filterError.withLock { $0 } }

    // MARK: Capture thread

    private func start() throws(LiveCaptureError) {
        let context = Unmanaged.passRetained(loop).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let loop = Unmanaged<CaptureLoop>.fromOpaque(raw).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<CaptureLoop>.fromOpaque(context).release()
            pcap_close(injector)
            throw .failed(interface, reason: "cannot start the capture thread: \(String(cString: strerror(rc)))")
        }
        running = true
    }

    /// Stops the capture thread and closes the handle.
    public func stop() {
        guard running else { return }
        running = false
        loop.stop()
        pthread_join(thread, nil)
        loop.close()
        pcap_close(injector)
        port.setLink(up: false)
    }

    // MARK: Event loop

    /// Offers captured frames to the port (at most 256 per pass).
    public func poll() -> Bool {
        if failure == nil, let reason = loop.failure {
            failure = reason
            log("capture on \(interface) stopped: \(reason)")
            port.setLink(up: false)
        }
        let port = self.port
        let complete = completeChecksums
        // An Ethernet header, a VLAN tag and the MTU: anything longer is a super-frame.
        let largest = 18 + mtu
        let scratch = segmentBuffer
        var bytes = 0
        var completed = 0
        var segmented = 0
        let n = loop.ring.drain(limit: 256) { frame in
            bytes += frame.count
            if frame.count > largest,
               SegmentationOffload.segment(UnsafeRawBufferPointer(frame), mtu: largest - 18, scratch: scratch, { port.offer($0) }) != nil {
                segmented += 1
                return
            }
            if complete, ChecksumOffload.completePartial(frame) { completed += 1 }
            port.offer(UnsafeRawBufferPointer(frame))
        }
        counters.framesIn += n
        counters.bytesIn += bytes
        counters.checksumsCompleted += completed
        counters.framesSegmented += segmented
        counters.droppedRingFull = loop.ring.dropped.load(ordering: .relaxed)
        return n > 0
    }

    // MARK: Transmit

    /// A frame from the NIC goes out on the host interface (`pcap_inject`).
    public func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        guard running, let base = frame.baseAddress, frame.count > 0 else {
            counters.injectErrors += 1
            return
        }
        if pcap_inject(injector, base, frame.count) == Int32(frame.count) {
            counters.framesOut += 1
        } else {
            counters.injectErrors += 1
        }
    }
}
