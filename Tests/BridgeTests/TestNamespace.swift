import Foundation

/// A network namespace named `nsim-bridge-<suffix>` for one test, removed
/// when the test ends. Tests touch only namespaces they made.
final class TestNamespace {
    let name: String

    init(_ suffix: String) throws {
        name = "nsim-bridge-" + suffix
        _ = try? ExternalTool.run("ip", ["netns", "del", name], allowFailure: true)
        try ExternalTool.run("ip", ["netns", "add", name])
        try exec("ip", "link", "set", "lo", "up")
    }

    /// Runs a command inside the namespace.
    @discardableResult
    func exec(_ args: String...) throws -> (status: Int32, out: String, err: String) {
        try ExternalTool.run("ip", ["netns", "exec", name] + args)
    }

    /// Starts a command inside the namespace in the background.
    func start(_ args: [String]) throws -> ExternalTool.Running {
        try ExternalTool.start("ip", ["netns", "exec", name] + args)
    }

    func remove() {
        _ = try? ExternalTool.run("ip", ["netns", "del", name], allowFailure: true)
    }

    deinit { remove() }
}

extension ExternalTool.Running {
    /// Waits until the process has written `text` to stderr (tcpdump's and
    /// dumpcap's "listening"/"Capturing" banners) or `seconds` pass.
    func waitForStderr(containing text: String, seconds: Double = 10) -> Bool {
        let handle = stderr.fileHandleForReading
        var seen = ""
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { return seen.contains(text) }
            seen += String(decoding: chunk, as: UTF8.self)
            if seen.contains(text) { return true }
        }
        return false
    }

    /// Waits for exit (killing it after `seconds`); returns stdout.
    @discardableResult
    func finish(seconds: Double = 20) -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}
