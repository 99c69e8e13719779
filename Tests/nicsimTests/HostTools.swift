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
        p.stop()
        return (p.status, p.output)
    }
}

/// A process running beside the test, its output collected in a file.
final class Background {
    let process = Process()
    let outputURL: URL
    private var handle: FileHandle?

    init(_ path: String, _ arguments: [String]) {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-bg-\(UUID().uuidString).log")
    }

    func start() throws {
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        let h = try FileHandle(forWritingTo: outputURL)
        handle = h
        process.standardOutput = h
        process.standardError = h
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var isRunning: Bool { process.isRunning }
    var status: Int32 { process.isRunning ? -1 : process.terminationStatus }
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

    /// SIGTERM, then SIGKILL if it lingers; waits for the exit.
    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        if process.processIdentifier != 0 { process.waitUntilExit() }
        try? handle?.close()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: outputURL)
    }
}
