import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `nicsim qtest` as a harness launches it: QEMU's options, the protocol on
/// stdin/stdout or a UNIX socket.
final class QTestCommandTests: XCTestCase {
    /// Runs `nicsim qtest ARGS` with `input` on stdin.
    private func qtest(_ arguments: [String], input: String) throws -> NicsimRun {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-qtest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let inURL = dir.appendingPathComponent("stdin")
        try input.write(to: inURL, atomically: true, encoding: .utf8)
        let outURL = dir.appendingPathComponent("stdout"), errURL = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let p = Process()
        p.executableURL = NicsimProcess.binary
        p.arguments = ["qtest"] + arguments
        p.standardInput = try FileHandle(forReadingFrom: inURL)
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        try p.run()
        let deadline = Date().addingTimeInterval(30)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning {
            p.terminate()
            XCTFail("nicsim qtest did not end at end of input")
        }
        p.waitUntilExit()
        return NicsimRun(status: p.terminationStatus,
                         stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    /// The harness line a QEMU test uses works unchanged, and the session
    /// ends cleanly when the harness closes its end.
    func testStdioSessionAnswersAndEndsAtEOF() throws {
        let r = try qtest(["-machine", "pc,accel=tcg", "-nodefaults", "-display", "none", "-monitor", "none",
                           "-serial", "none", "-bios", "/nonexistent.bin", "-qtest", "stdio", "-qtest-log", "/dev/null", "-m", "32M"],
                          input: "outl 0xcf8 0x80000800\ninl 0xcfc\nendianness\nfrob\nclock_step 5\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "OK\nOK 0x70008086\nOK little\nFAIL Unknown command 'frob'\nOK 5\n")
    }

    /// A line without its final newline is not a command yet (QEMU waits for it).
    func testUnterminatedLineIsNotRun() throws {
        let r = try qtest([], input: "endianness\nendianness")
        XCTAssertEqual(r.stdout, "OK little\n")
    }

    /// Bad options end in one line on stderr and exit code 2.
    func testBadOptionIsOneLineAndExitTwo() throws {
        for args in [["-device", "e1000"], ["-m", "0"], ["-netdev", "user,id=u"], ["-qtest", "tcp:1"], ["-cpu", "max"]] {
            let r = try qtest(args, input: "")
            XCTAssertEqual(r.status, 2, args.joined(separator: " "))
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix("nicsim: error: "), r.stderr)
        }
    }

    /// -netdev socket,fd=N must name an open socket.
    func testNetdevFDThatIsNotASocketFails() throws {
        let r = try qtest(["-netdev", "socket,id=n0,fd=0"], input: "")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("fd 0 is not an open stream or datagram socket"), r.stderr)
    }

    /// -qtest unix:PATH connects to a listening harness, as QEMU does for libqtest.
    func testUnixChannelConnectsToHarness() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nq-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock").path
        defer { unlink(path) }
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(listener, 0)
        defer { close(listener) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in for (i, b) in path.utf8.enumerated() { p[i] = b } }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(listen(listener, 1), 0)

        let p = Process()
        p.executableURL = NicsimProcess.binary
        p.arguments = ["qtest", "-qtest", "unix:\(path)"]
        p.standardInput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        let conn = accept(listener, nil, nil)
        XCTAssertGreaterThanOrEqual(conn, 0)
        defer { close(conn) }
        let request = "endianness\ninb 0x3ff\n"
        _ = request.withCString { write(conn, $0, strlen($0)) }
        var reply = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 256)
        let deadline = Date().addingTimeInterval(10)
        while reply.filter({ $0 == 10 }).count < 2 && Date() < deadline {
            var pfd = pollfd(fd: conn, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 100) > 0 else { continue }
            let n = read(conn, &buffer, buffer.count)
            if n <= 0 { break }
            reply += buffer[0..<n]
        }
        XCTAssertEqual(String(decoding: reply, as: UTF8.self), "OK little\nOK 0x00ff\n")
    }

    /// -netdev stream connects to a listening peer and carries the NIC's
    /// transmissions with QEMU's 4-byte big-endian length framing.
    func testStreamNetdevCarriesTransmittedFrame() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ns-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock").path
        defer { unlink(path) }
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in for (i, b) in path.utf8.enumerated() { p[i] = b } }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(listen(listener, 1), 0)

        // An NE2000 sends a 60-byte frame of 0x5A from its buffer page 40h.
        var script = ["outl 0xcf8 0x80001810", "outl 0xcfc 0xc000", "outl 0xcf8 0x80001804", "outw 0xcfc 0x0001",
                      "outb 0xc000 0x21", "outb 0xc00e 0x49", "outb 0xc000 0x22",
                      "outb 0xc00a 60", "outb 0xc00b 0", "outb 0xc008 0", "outb 0xc009 0x40", "outb 0xc000 0x12"]
        script += Array(repeating: "outw 0xc010 0x5a5a", count: 30)
        script += ["outb 0xc004 0x40", "outb 0xc005 60", "outb 0xc006 0", "outb 0xc000 0x26", "inb 0xc004"]
        let r = try qtest(["-netdev", "stream,id=n0,addr.type=unix,addr.path=\(path)", "-device", "ne2k_pci,netdev=n0,addr=3"],
                          input: script.joined(separator: "\n") + "\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasSuffix("OK 0x0003\n"), r.stdout)
        let conn = accept(listener, nil, nil)
        XCTAssertGreaterThanOrEqual(conn, 0)
        defer { close(conn) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let n = read(conn, &buffer, buffer.count)
        XCTAssertEqual(n, 64)
        XCTAssertEqual(Array(buffer[0..<4]), [0, 0, 0, 60])
        XCTAssertEqual(Array(buffer[4..<64]), [UInt8](repeating: 0x5A, count: 60))
    }

    /// -qtest unix:PATH,server=on listens at PATH and serves the one peer
    /// that connects; the session ends when the peer hangs up.
    func testUnixServerChannelServesOnePeer() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nqs-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock").path
        defer { unlink(path) }
        let p = Process()
        p.executableURL = NicsimProcess.binary
        p.arguments = ["qtest", "-qtest", "unix:\(path),server=on,wait=on"]
        p.standardInput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { b in for (i, c) in path.utf8.enumerated() { b[i] = c } }
        var conn: Int32 = -1
        let deadline = Date().addingTimeInterval(20)
        while conn < 0 && Date() < deadline {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            let r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if r == 0 { conn = fd } else { close(fd); usleep(20_000) }
        }
        XCTAssertGreaterThanOrEqual(conn, 0, "nicsim never listened at \(path)")
        guard conn >= 0 else { return }
        _ = "endianness\n".withCString { write(conn, $0, strlen($0)) }
        var buffer = [UInt8](repeating: 0, count: 64)
        var pfd = pollfd(fd: conn, events: Int16(POLLIN), revents: 0)
        XCTAssertEqual(poll(&pfd, 1, 10_000), 1)
        let n = read(conn, &buffer, buffer.count)
        XCTAssertEqual(String(decoding: buffer[0..<max(n, 0)], as: UTF8.self), "OK little\n")
        close(conn)
        let end = Date().addingTimeInterval(10)
        while p.isRunning && Date() < end { usleep(10_000) }
        XCTAssertFalse(p.isRunning, "nicsim kept running after its peer hung up")
        XCTAssertEqual(p.terminationStatus, 0)
    }
}
