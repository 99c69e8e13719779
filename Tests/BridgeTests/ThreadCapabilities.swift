#if canImport(Glibc)
import Glibc
#endif

/// Runs work on a fresh thread whose effective capabilities lack
/// CAP_NET_ADMIN (12) and CAP_NET_RAW (13), as for a user who was never
/// granted them. Capabilities are per thread in Linux, so the rest of the
/// test process keeps its own.
enum ThreadCapabilities {
    private typealias CapCall = @convention(c) (UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int32

    private final class Job {
        let work: () -> Void
        var failure: String?
        init(_ work: @escaping () -> Void) { self.work = work }
    }

    static func withoutNetworkCapabilities(_ body: () -> Void) -> String? {
        withoutActuallyEscaping(body) { escapable in
            let job = Job(escapable)
            let context = Unmanaged.passRetained(job).toOpaque()
            var thread = pthread_t()
            _ = pthread_create(&thread, nil, { raw in
                let job = Unmanaged<Job>.fromOpaque(raw!).takeUnretainedValue()
                guard let get = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "capget"),
                      let set = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "capset") else {
                    job.failure = "no capget/capset in libc"
                    return nil
                }
                // struct __user_cap_header_struct { u32 version; int pid; } and
                // two struct __user_cap_data_struct { u32 effective, permitted, inheritable; }.
                var header: [UInt32] = [0x2008_0522, 0]  // _LINUX_CAPABILITY_VERSION_3, this thread
                var data = [UInt32](repeating: 0, count: 6)
                let ok = header.withUnsafeMutableBytes { h in
                    data.withUnsafeMutableBytes { d -> Bool in
                        guard unsafeBitCast(get, to: CapCall.self)(h.baseAddress!, d.baseAddress!) == 0 else { return false }
                        d.storeBytes(of: d.load(as: UInt32.self) & ~(UInt32(1) << 12 | UInt32(1) << 13), as: UInt32.self)
                        return unsafeBitCast(set, to: CapCall.self)(h.baseAddress!, d.baseAddress!) == 0
                    }
                }
                guard ok else {
                    job.failure = "capset failed: \(String(cString: strerror(errno)))"
                    return nil
                }
                job.work()
                return nil
            }, context)
            pthread_join(thread, nil)
            Unmanaged<Job>.fromOpaque(context).release()
            return job.failure
        }
    }
}
