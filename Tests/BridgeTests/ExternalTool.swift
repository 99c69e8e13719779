import Foundation
import XCTest

/// Runs the command-line tools the cross-check tests compare against. A
/// missing tool fails the test loudly; it never skips.
enum ExternalTool {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The absolute path of `name` on PATH (or the sbin directories).
    static func path(_ name: String) throws -> String {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
            + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        for d in dirs where FileManager.default.isExecutableFile(atPath: d + "/" + name) {
            return d + "/" + name
        }
        throw Failure(description: "\(name) is not installed: run `make setup` (scripts/setup.sh installs it)")
    }

    /// Runs `name args` to completion; throws unless it exits 0 (or the given status).
    @discardableResult
    static func run(_ name: String, _ args: [String], allowFailure: Bool = false) throws -> (status: Int32, out: String, err: String) {
        let p = try start(name, args)
        let out = p.stdout.fileHandleForReading.readDataToEndOfFile()
        let err = p.stderr.fileHandleForReading.readDataToEndOfFile()
        p.process.waitUntilExit()
        let result = (p.process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
        if !allowFailure, result.0 != 0 {
            throw Failure(description: "\(name) \(args.joined(separator: " ")) exited \(result.0): \(result.2)")
        }
        return result
    }

    struct Running {
        let process: Process
        let stdout: Pipe
        let stderr: Pipe
    }

    /// Starts `name args` in the background.
    static func start(_ name: String, _ args: [String]) throws -> Running {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try path(name))
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        return Running(process: p, stdout: out, stderr: err)
    }

    /// A fresh temporary directory for one test's files.
    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "nsim-bridge-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// MD5 (RFC 1321), to compare packet bytes with tshark's frame.md5_hash.
enum MD5 {
    static func hex(_ message: [UInt8]) -> String {
        let s: [UInt32] = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                           5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
                           4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                           6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21]
        let k: [UInt32] = (0..<64).map { UInt32(truncatingIfNeeded: Int64(abs(sin(Double($0 + 1))) * 4_294_967_296.0)) }
        var a0: UInt32 = 0x6745_2301, b0: UInt32 = 0xEFCD_AB89, c0: UInt32 = 0x98BA_DCFE, d0: UInt32 = 0x1032_5476
        var m = message
        let bitLength = UInt64(message.count) * 8
        m.append(0x80)
        while m.count % 64 != 56 { m.append(0) }
        for i in 0..<8 { m.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }
        for chunk in stride(from: 0, to: m.count, by: 64) {
            var w = [UInt32](repeating: 0, count: 16)
            for i in 0..<16 {
                let j = chunk + 4 * i
                w[i] = UInt32(m[j]) | UInt32(m[j + 1]) << 8 | UInt32(m[j + 2]) << 16 | UInt32(m[j + 3]) << 24
            }
            var a = a0, b = b0, c = c0, d = d0
            for i in 0..<64 {
                var f: UInt32
                var g: Int
                switch i {
                case 0..<16: f = (b & c) | (~b & d); g = i
                case 16..<32: f = (d & b) | (~d & c); g = (5 * i + 1) % 16
                case 32..<48: f = b ^ c ^ d; g = (3 * i + 5) % 16
                default: f = c ^ (b | ~d); g = (7 * i) % 16
                }
                f = f &+ a &+ k[i] &+ w[g]
                a = d; d = c; c = b
                b = b &+ (f << s[i] | f >> (32 - s[i]))
            }
            a0 = a0 &+ a; b0 = b0 &+ b; c0 = c0 &+ c; d0 = d0 &+ d
        }
        var out = ""
        for v in [a0, b0, c0, d0] {
            for i in 0..<4 { out += String(format: "%02x", (v >> (8 * UInt32(i))) & 0xFF) }
        }
        return out
    }
}
