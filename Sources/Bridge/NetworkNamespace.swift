#if canImport(Glibc)
import Glibc
#endif

/// Runs work inside a named network namespace (`ip netns add NAME`, found
/// at /run/netns/NAME) without moving the process: Linux network namespaces
/// are per thread, so the work runs on a fresh thread that joins the
/// namespace with `setns(2)` and ends afterwards. Sockets opened there (a
/// libpcap handle, say) stay bound to that namespace's interfaces.
public enum NetworkNamespace {
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// CLONE_NEWNET from <sched.h>.
    private static let cloneNewNet: Int32 = 0x4000_0000

    private typealias SetNS = @convention(c) (Int32, Int32) -> Int32

    private final class Job {
        let fd: Int32
        let work: () -> Void
        var failure: String?
        init(fd: Int32, work: @escaping () -> Void) {
            self.fd = fd
            self.work = work
        }
    }

    /// Runs `body` on a thread inside namespace `name`, waits for it and
    /// returns its result.
    public static func run<T>(_ name: String, _ body: () -> T) throws(Failure) -> T {
        guard !name.contains("/"), !name.isEmpty else {
            throw Failure(description: "network namespace name \(name) is not valid: use a name from `ip netns list`")
        }
        let fd = open("/run/netns/" + name, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw Failure(description: "network namespace \(name) not found: create it with `ip netns add \(name)` (see `ip netns list`)")
        }
        defer { close(fd) }
        var result: T?
        let failure: String? = withoutActuallyEscaping(body) { escapable in
            let job = Job(fd: fd) { result = escapable() }
            var thread = pthread_t()
            let context = Unmanaged.passRetained(job).toOpaque()
            let rc = pthread_create(&thread, nil, { raw in
                guard let raw else { return nil }
                let job = Unmanaged<Job>.fromOpaque(raw).takeUnretainedValue()
                // setns is not in Swift's Glibc module; look it up in libc.
                guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else {
                    job.failure = "this C library has no setns"
                    return nil
                }
                let setns = unsafeBitCast(symbol, to: SetNS.self)
                if setns(job.fd, NetworkNamespace.cloneNewNet) != 0 {
                    job.failure = String(cString: strerror(errno))
                    return nil
                }
                job.work()
                return nil
            }, context)
            guard rc == 0 else {
                Unmanaged<Job>.fromOpaque(context).release()
                return "cannot start a thread: \(String(cString: strerror(rc)))"
            }
            pthread_join(thread, nil)
            Unmanaged<Job>.fromOpaque(context).release()
            return job.failure
        }
        if let failure {
            throw Failure(description: "cannot enter network namespace \(name): \(failure) (this needs CAP_SYS_ADMIN: run as root)")
        }
        guard let result else {
            throw Failure(description: "network namespace \(name): the work did not run")
        }
        return result
    }
}
