#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one directory the TFTP server reads from. A requested name is
/// resolved beneath the root one component at a time, each looked up with
/// `openat(2)` relative to the directory before it and `O_NOFOLLOW`, so no
/// path is ever resolved twice and nothing swapped in between (a directory
/// replaced by a symlink) can lead outside. Symlinks are followed by
/// reading them (`readlinkat(2)`) and resolving their relative target the
/// same way. A leading `/` in a name means the root; an absolute symlink
/// target, a `..` in the name, a `..` that would climb above the root, and
/// more than 40 links are refused. Only regular
/// files are served, and nothing is opened in a way that can block (a FIFO
/// would hold open(2) until a writer came, and with it the whole server).
///
/// The kernel's openat2(2) with RESOLVE_BENEATH does the same walk, but it
/// has no C library wrapper and Swift cannot call the variadic syscall(2);
/// the walk here is portable and needs no C shim.
public struct TFTPRoot: Sendable {
    /// Why a name was refused, mapped to TFTP error codes by the server.
    public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        case notFound
        case accessViolation(String)

        public var description: String {
            switch self {
            case .notFound: "file not found"
            case .accessViolation(let why): why
            }
        }
    }

    /// The root, fully resolved.
    public let path: String
    private let directory: Descriptor

    /// Symlinks followed for one name at most (Linux's MAXSYMLINKS).
    static let maximumLinks = 40

    /// Fails when `directory` doesn't exist or isn't a directory.
    public init?(_ directory: String) {
        guard let resolved = Self.realPath(directory) else { return nil }
        let fd = Self.openDirectory(AT_FDCWD, resolved, followingLinks: true)
        guard fd >= 0 else { return nil }
        path = resolved
        self.directory = Descriptor(fd)
    }

    /// Opens `name` read-only; the caller closes the descriptor. A name
    /// with a leading `/` (GRUB asks for `/grub/grub.cfg`) is taken from the
    /// root, as dnsmasq and tftpd-hpa's `--secure` take it: nothing outside
    /// the root is ever named.
    public func open(_ name: String) throws(Refusal) -> (fd: Int32, size: Int) {
        guard !name.utf8.contains(0) else { throw .accessViolation("bad file name") }
        let parts = name.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.isEmpty else { throw .notFound }
        guard !parts.contains("..") else { throw .accessViolation("path traversal refused") }

        // Components still to resolve, the next one last; directories
        // opened so far below the root, the current one last.
        var pending = parts.reversed().map(String.init)
        var opened: [Int32] = []
        defer { for fd in opened { close(fd) } }
        var links = 0
        while let component = pending.popLast() {
            if component == "." { continue }
            let parent = opened.last ?? directory.fd
            if component == ".." {  // only from a symlink's target
                guard let fd = opened.popLast() else { throw .accessViolation("outside the TFTP root") }
                close(fd)
                continue
            }
            if let target = Self.linkTarget(parent, component) {
                links += 1
                guard links <= Self.maximumLinks else { throw .notFound }
                guard !target.hasPrefix("/") else { throw .accessViolation("absolute symlink refused") }
                pending += target.split(separator: "/", omittingEmptySubsequences: true).reversed().map(String.init)
                continue
            }
            if pending.isEmpty { return try Self.openFile(parent, component) }
            let fd = Self.openDirectory(parent, component, followingLinks: false)
            guard fd >= 0 else { throw Self.refusal(errno) }
            opened.append(fd)
        }
        // The name ended in "." or in a symlink to a directory.
        throw .notFound
    }

    /// Opens the last component: only a regular file, checked before the
    /// open (so a FIFO or device is never opened) and again on the
    /// descriptor (in case the name changed in between).
    private static func openFile(_ parent: Int32, _ name: String) throws(Refusal) -> (fd: Int32, size: Int) {
        var st = stat()
        guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw refusal(errno) }
        try requireRegular(st)
        let fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw refusal(errno) }
        guard fstat(fd, &st) == 0 else {
            close(fd)
            throw .notFound
        }
        do { try requireRegular(st) } catch {
            close(fd)
            throw error
        }
        return (fd, Int(st.st_size))
    }

    private static func requireRegular(_ st: stat) throws(Refusal) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw .notFound
        default: throw .accessViolation("not a regular file")
        }
    }

    private static func openDirectory(_ parent: Int32, _ name: String, followingLinks: Bool) -> Int32 {
        openat(parent, name, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC | (followingLinks ? 0 : O_NOFOLLOW))
    }

    /// The target of `name` in `parent` when it is a symlink.
    private static func linkTarget(_ parent: Int32, _ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        let n = readlinkat(parent, name, &buffer, buffer.count)
        guard n > 0, n < buffer.count else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func refusal(_ error: Int32) -> Refusal {
        error == EACCES || error == EPERM ? .accessViolation("permission denied") : .notFound
    }

    private static func realPath(_ p: String) -> String? {
        guard let r = realpath(p, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    /// The root directory's descriptor, closed with the last copy of the root.
    private final class Descriptor: Sendable {
        let fd: Int32
        init(_ fd: Int32) { self.fd = fd }
        deinit { close(fd) }
    }
}
