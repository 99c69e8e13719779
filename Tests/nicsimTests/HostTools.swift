import Foundation
import XCTest

/// The real tools the integration tests drive. A missing tool is a test
/// failure that names the Debian package, never a skip.
enum HostTools {
    static let qemu = "/usr/bin/qemu-system-x86_64"
    static let dnsmasq = "/usr/sbin/dnsmasq"
    static let ip = "/usr/sbin/ip"
    static let curl = "/usr/bin/curl"
    static let pxelinux = "/usr/lib/PXELINUX/pxelinux.0"
    static let ldlinux = "/usr/lib/syslinux/modules/bios/ldlinux.c32"
    static let undionly = "/usr/lib/ipxe/undionly.kpxe"

    static func require(_ path: String, package: String, file: StaticString = #filePath, line: UInt = #line) throws {
        guard FileManager.default.isExecutableFile(atPath: path) || FileManager.default.fileExists(atPath: path) else {
            XCTFail("\(path) is missing: install the Debian package \(package) (make test does)", file: file, line: line)
            throw CocoaError(.fileNoSuchFile)
        }
    }

    /// fixtures/tftpboot in the source tree.
    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/tftpboot")
    }

    /// Runs a tool to completion; returns status and combined output.
    @discardableResult
    static func run(_ path: String, _ arguments: [String], timeout: TimeInterval = 60) throws -> (status: Int32, output: String) {
        let p = Background(path, arguments)
        try p.start()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning { XCTFail("\(path) \(arguments.joined(separator: " ")) did not finish in \(timeout) s") }
        p.stop()
        return (p.status, p.output)
    }
}

/// A process running beside the test, its output collected in a file.
///
/// Started with posix_spawn and reaped with waitpid here rather than with
/// Foundation's Process: with several children alive at once, Process can
/// miss a SIGCHLD and report a finished child as running.
final class Background {
    let path: String
    let arguments: [String]
    let outputURL: URL
    private(set) var pid: pid_t = 0
    private var exitStatus: Int32?

    init(_ path: String, _ arguments: [String]) {
        self.path = path
        self.arguments = arguments
        outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-bg-\(UUID().uuidString).log")
    }

    func start() throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard rc == 0 else {
            XCTFail("can't start \(path): \(String(cString: strerror(rc)))")
            throw CocoaError(.executableNotLoadable)
        }
    }

    var isRunning: Bool {
        guard pid > 0, exitStatus == nil else { return false }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid {
            // Exit code when it exited, 128 + signal when a signal ended it.
            exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
            return false
        }
        return r == 0
    }

    var status: Int32 { isRunning ? -1 : (exitStatus ?? -1) }
    var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }

    /// Waits until the output contains `text` (true) or the time is up (false).
    func wait(for text: String, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if output.contains(text) { return true }
            usleep(50_000)
        }
        return output.contains(text)
    }

    /// SIGTERM, then SIGKILL if it lingers; reaps it.
    func stop() {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while isRunning && Date() < deadline { usleep(10_000) }
        if isRunning {
            kill(pid, SIGKILL)
            while isRunning { usleep(10_000) }
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: outputURL)
    }
}
