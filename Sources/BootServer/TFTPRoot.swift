#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one directory the TFTP server reads from. A requested name is
/// refused when it is absolute, has a `..` component, or resolves
/// (through symlinks) to anything outside the root; only regular files
/// are served.
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

    /// Fails when `directory` doesn't exist or isn't a directory.
    public init?(_ directory: String) {
        guard let resolved = Self.realPath(directory) else { return nil }
        var st = stat()
        guard stat(resolved, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { return nil }
        path = resolved
    }

    /// Opens `name` read-only; the caller closes the descriptor.
    public func open(_ name: String) throws(Refusal) -> (fd: Int32, size: Int) {
        guard !name.hasPrefix("/") else { throw .accessViolation("absolute path refused") }
        guard !name.utf8.contains(0) else { throw .accessViolation("bad file name") }
        let parts = name.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.isEmpty else { throw .notFound }
        guard !parts.contains("..") else { throw .accessViolation("path traversal refused") }
        let candidate = path + "/" + parts.joined(separator: "/")
        guard let resolved = Self.realPath(candidate) else { throw .notFound }
        guard resolved.hasPrefix(path == "/" ? "/" : path + "/") else { throw .accessViolation("outside the TFTP root") }
        // The resolved path has no symlinks left; O_NOFOLLOW keeps it that way
        // if the last component is swapped for one after the check.
        let fd = Glibc.open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw errno == EACCES ? .accessViolation("permission denied") : .notFound }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw .notFound
        }
        return (fd, Int(st.st_size))
    }

    private static func realPath(_ p: String) -> String? {
        guard let r = realpath(p, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }
}
