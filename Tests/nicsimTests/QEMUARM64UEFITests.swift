import Foundation
import XCTest

/// ARM64 UEFI clients: QEMU's `virt` machine with Debian's AAVMF (the
/// ARM64 build of the same EDK2 firmware) against `nicsim serve
/// --qemu-socket`, with the firmware's own virtio-net driver. It asks
/// with option 93 type 11 (PXE) or 19 (HTTP Boot), and the server must
/// answer with that architecture's `--boot-file-for` file. Debian ships no
/// ARM64 network boot program (no ARM64 iPXE or GRUB in these packages),
/// so the file is a 64 KiB pattern: the tests check that the firmware got
/// all of it, not that it runs.
final class QEMUARM64UEFITests: XCTestCase {
    static let qemu = "/usr/bin/qemu-system-aarch64"
    static let code = "/usr/share/AAVMF/AAVMF_CODE.fd"
    static let vars = "/usr/share/AAVMF/AAVMF_VARS.fd"
    static let size = 65536

    private var work: URL!

    override func setUpWithError() throws {
        try HostTools.require(Self.qemu, package: "qemu-system-arm")
        try HostTools.require(Self.code, package: "qemu-efi-aarch64")
        work = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-arm64-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("root"), withIntermediateDirectories: true)
        try Data((0..<Self.size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }).write(to: work.appendingPathComponent("root/arm64.efi"))
        try FileManager.default.copyItem(atPath: Self.vars, toPath: work.appendingPathComponent("vars.fd").path)
    }

    override func tearDown() {
        if let work { try? FileManager.default.removeItem(at: work) }
    }

    /// Boots until the server's log shows `until` (at most 60 s); returns the log and console.
    private func boot(extra: [String], until: String, file: StaticString = #filePath, line: UInt = #line) throws -> (log: String, console: String) {
        let socket = work.appendingPathComponent("s.sock").path
        let serial = work.appendingPathComponent("serial.log")
        // Only the ARM64 architectures get the file; anyone else would get pxelinux.0.
        let server = Background(NicsimProcess.binary.path, ["serve", "--dir", work.appendingPathComponent("root").path, "--qemu-socket", socket,
                                                            "--boot-file-for", "11=arm64.efi", "--boot-file-for", "19=arm64.efi",
                                                            "--http-port", "8080"])
        try server.start()
        defer { server.stop() }
        XCTAssertTrue(server.wait(for: "HTTP port 8080", timeout: 10), server.output, file: file, line: line)
        let qemu = Background(Self.qemu, [
            "-nodefaults", "-display", "none", "-machine", "virt", "-cpu", "cortex-a57", "-m", "512", "-no-reboot",
            "-serial", "file:\(serial.path)",
            "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=\(Self.code)",
            "-drive", "if=pflash,format=raw,unit=1,file=\(work.appendingPathComponent("vars.fd").path)",
            "-netdev", "stream,id=n0,server=off,addr.type=unix,addr.path=\(socket)",
            "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,romfile=",
        ] + extra)
        try qemu.start()
        defer { qemu.stop() }
        XCTAssertTrue(server.wait(for: until, timeout: 60), "no '\(until)' in 60 s:\n\(server.output)", file: file, line: line)
        qemu.stop()
        server.stop()
        return (server.output, (try? String(contentsOf: serial, encoding: .utf8)) ?? "")
    }

    func testAAVMFPXEGetsTheARM64FileForArchitecture11() throws {
        let (log, console) = try boot(extra: [], until: "tftp: sent arm64.efi")
        XCTAssertTrue(log.contains("dhcp: ack 10.0.2.100 to 52:54:00:12:34:56 file arm64.efi"), log)
        XCTAssertTrue(log.contains("tftp: sent arm64.efi to 10.0.2.100 (\(Self.size) bytes"), log)
        XCTAssertTrue(console.contains("NBP filesize is \(Self.size) Bytes"), console)
    }

    func testAAVMFHTTPBootGetsTheARM64URLForArchitecture19() throws {
        let (log, console) = try boot(extra: ["-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=n",
                                              "-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=n"],
                                      until: "GET /arm64.efi 200")
        XCTAssertTrue(log.contains("dhcp: ack 10.0.2.100 to 52:54:00:12:34:56 file http://10.0.2.2:8080/arm64.efi"), log)
        XCTAssertTrue(log.contains("http: 10.0.2.100 GET /arm64.efi 200 (\(Self.size) bytes)"), log)
        XCTAssertTrue(console.contains("URI: http://10.0.2.2:8080/arm64.efi"), console)
    }
}
