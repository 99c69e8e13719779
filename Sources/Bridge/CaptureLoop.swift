import CPcap
import Synchronization

/// The capture thread's side: the handle, the ring it fills and the stop flag.
final class CaptureLoop: @unchecked Sendable {
    let handle: OpaquePointer
    let ring: FrameRing
    private let stopping = Atomic<Bool>(false)
    private let reason = Mutex<String?>(nil)
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
