import Glibc
import NICSim

/// Where `boot` finds its default TFTP tree when `--dir` is not given: the
/// checkout's `fixtures/tftpboot` when run from the checkout, otherwise the
/// tree `make install` put beside the executable, `<prefix>/share/nicsim/tftpboot`
/// for `<prefix>/bin/nicsim`, so an installed nicsim boots from any directory.
enum DefaultTFTPTree {
    static let checkoutPath = "fixtures/tftpboot"

    /// The first candidate that is a directory, or the checkout path (whose
    /// absence the embedded server reports in one line).
    static func resolve() -> String {
        for candidate in candidates() where isDirectory(candidate) {
            return candidate
        }
        return checkoutPath
    }

    static func candidates() -> [String] {
        var list = [checkoutPath]
        if let executable = executablePath() {
            // <prefix>/bin/nicsim -> <prefix>/share/nicsim/tftpboot
            let bin = parent(executable)
            list.append(parent(bin) + "/share/nicsim/tftpboot")
        }
        return list
    }

    /// The running executable, from /proc/self/exe (symlinks resolved).
    static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
