import Foundation
import XCTest

/// Runs the built `nicsim` binary and collects what it printed.
struct NicsimRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum NicsimProcess {
    /// `nicsim` is built into the same products directory as the test
    /// bundle (the bundle's own directory on Linux, its parent on macOS).
    static var binary: URL {
        let bundle = Bundle(for: BundleLocator.self).bundleURL
        let candidates = [bundle.appendingPathComponent("nicsim"),
                          bundle.deletingLastPathComponent().appendingPathComponent("nicsim")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    /// Runs nicsim with `arguments`; output goes to temporary files so a
    /// chatty run can't fill a pipe and stall.
    static func run(_ arguments: [String], timeout: TimeInterval = 60) throws -> NicsimRun {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("stdout"), errURL = dir.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let p = Process()
        p.executableURL = binary
        p.arguments = arguments
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning {
            p.terminate()
            XCTFail("nicsim \(arguments.joined(separator: " ")) did not finish in \(timeout) s")
        }
        p.waitUntilExit()
        try out.close()
        try err.close()
        return NicsimRun(status: p.terminationStatus,
                         stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}

private final class BundleLocator {}
