import CPcap
import Synchronization

/// The capture thread's side: the handle, the ring it fills and the stop flag.
final class CaptureLoop: @unchecked Sendable {
    let handle: OpaquePointer
    let ring: FrameRing
    private let stopping = Atomic<Bool>(false)
    private let reason = Mutex<String?>(nil)
    /// A filter change asked for by the Board's thread, applied by the
    /// capture thread between batches (it owns the handle): `.some(nil)`
    /// removes the filter.
    private let pendingFilter = Mutex<String??>(nil)
    /// The outcome of the last filter change: nil when it took effect.
    let filterError = Mutex<String?>(nil)
    /// Filter changes applied so far.
    let filterChanges = Atomic<Int>(0)
    private var closed = false

    init(handle: OpaquePointer, ring: FrameRing) {
        self.handle = handle
        self.ring = ring
    }

    deinit { close() }

    /// Why the loop ended on its own, if it did.
    var failure: String? { reason.withLock { $0 } }

    /// Thread body: dispatch batches until told to stop or the handle fails.
    func run() {
        let context = Unmanaged.passUnretained(ring).toOpaque().assumingMemoryBound(to: UInt8.self)
        while !stopping.load(ordering: .acquiring) {
            if let change = pendingFilter.withLock({ pending -> String?? in
                defer { pending = nil }
                return pending
            }) {
                apply(filter: change)
            }
            let rc = pcap_dispatch(handle, 64, { user, header, bytes in
                guard let user, let header, let bytes else { return }
                let ring = Unmanaged<FrameRing>.fromOpaque(UnsafeRawPointer(user)).takeUnretainedValue()
                ring.push(UnsafeRawPointer(bytes), count: Int(header.pointee.caplen))
            }, context)
            if rc == PCAP_ERROR_BREAK { break }
            if rc < 0 {
                let message = String(cString: pcap_geterr(handle))
                reason.withLock { $0 = message }
                break
            }
        }
    }

    /// Asks the capture thread to replace the BPF filter (nil: capture everything).
    func requestFilter(_ filter: String?) {
        pendingFilter.withLock { $0 = .some(filter) }
    }

    /// On the capture thread: pcap_compile and pcap_setfilter. A filter that
    /// matches everything stands in for "no filter".
    private func apply(filter: String?) {
        var program = bpf_program()
        guard pcap_compile(handle, &program, filter ?? "", 1, UInt32(PCAP_NETMASK_UNKNOWN)) == 0 else {
            let message = String(cString: pcap_geterr(handle))
            filterError.withLock { $0 = message }
            filterChanges.add(1, ordering: .releasing)
            return
        }
        defer { pcap_freecode(&program) }
        let ok = pcap_setfilter(handle, &program) == 0
        let message = ok ? nil : String(cString: pcap_geterr(handle))
        filterError.withLock { $0 = message }
        filterChanges.add(1, ordering: .releasing)
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        pcap_breakloop(handle)
    }

    /// Closes the handle; call once the thread has ended.
    func close() {
        guard !closed else { return }
        closed = true
        pcap_close(handle)
    }
}
