import Foundation
import XCTest

/// Real UEFI clients against `nicsim serve --qemu-socket`: QEMU q35 with
/// Debian's OVMF, booting over the network three ways. Each boot ends in
/// iPXE running `boot.ipxe` (over TFTP), which chains `second.ipxe` over
/// HTTP from the built-in server and fetches a larger file the same way;
/// the serial console (`-serial file:`) shows how far the guest got.
final class QEMUUEFITests: XCTestCase {
    static let ovmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
    static let ovmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
    static let snponly = "/usr/lib/ipxe/snponly.efi"
    static let ipxeEFI = "/usr/lib/ipxe/ipxe.efi"
    static let rtl8139EFIROM = "/usr/lib/ipxe/qemu/efi-rtl8139.rom"
    static let httpPort = 8080

    private var work: URL!

    override func setUpWithError() throws {
        try HostTools.require(HostTools.qemu, package: "qemu-system-x86")
        try HostTools.require(Self.ovmfCode, package: "ovmf")
        try HostTools.require(Self.snponly, package: "ipxe")
        try HostTools.require(Self.rtl8139EFIROM, package: "ipxe-qemu")
        work = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-uefi-\(UUID().uuidString.prefix(8))")
        let root = work.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        // Copies of the files' contents: Debian's are symlinks that point
        // outside the root, which the server rightly refuses to follow.
        for file in [Self.snponly, Self.ipxeEFI] {
            try Data(contentsOf: URL(fileURLWithPath: file)).write(to: root.appendingPathComponent((file as NSString).lastPathComponent))
        }
        // The first script comes over TFTP, the second over HTTP; the
        // second fetches ipxe.efi (about 850 KB) over the same connection.
        try """
        #!ipxe
        echo nicsim boot.ipxe on ${ip}
        chain http://${next-server}:\(Self.httpPort)/second.ipxe || echo nicsim chain failed
        """.write(to: root.appendingPathComponent("boot.ipxe"), atomically: true, encoding: .utf8)
        try """
        #!ipxe
        echo nicsim second.ipxe over HTTP on ${platform}
        imgfetch --name big http://${next-server}:\(Self.httpPort)/ipxe.efi && echo nicsim fetched ipxe.efi over HTTP
        """.write(to: root.appendingPathComponent("second.ipxe"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: Self.ovmfVars, toPath: work.appendingPathComponent("vars.fd").path)
    }

    override func tearDown() {
        if let work { try? FileManager.default.removeItem(at: work) }
    }

    /// Boots QEMU with `device` (and `extra` arguments) against `nicsim
    /// serve` with `serveArguments`; returns the server's log and the
    /// serial console once the guest fetched ipxe.efi over HTTP, or fails
    /// after 60 s. With `proxy`, the server is a proxyDHCP at 10.0.2.3
    /// beside a second `nicsim serve --dhcp-only` at 10.0.2.2 that hands
    /// out the address, both on a QEMU hub with the guest's NIC.
    private func boot(device: String, extra: [String] = [], serveArguments: [String], proxy: Bool = false,
                      file: StaticString = #filePath, line: UInt = #line) throws -> (log: String, console: String, seconds: Double) {
        let socket = work.appendingPathComponent("s.sock").path
        let serial = work.appendingPathComponent("serial.log")
        let proxyArguments = proxy ? ["--proxy", "--server-ip", "10.0.2.3", "--server-mac", "02:6e:69:63:73:03"] : []
        let server = Background(NicsimProcess.binary.path, ["serve", "--dir", work.appendingPathComponent("root").path,
                                                            "--qemu-socket", socket, "--http-port", String(Self.httpPort)]
                                                           + proxyArguments + serveArguments)
        try server.start()
        defer { server.stop() }
        XCTAssertTrue(server.wait(for: "HTTP port \(Self.httpPort)", timeout: 10), server.output, file: file, line: line)
        let dhcpSocket = work.appendingPathComponent("d.sock").path
        let dhcp = Background(NicsimProcess.binary.path, ["serve", "--dhcp-only", "--qemu-socket", dhcpSocket])
        var network = ["-netdev", "stream,id=n0,server=off,addr.type=unix,addr.path=\(socket)", "-device", "\(device),netdev=n0,mac=52:54:00:12:34:56"]
        if proxy {
            try dhcp.start()
            XCTAssertTrue(dhcp.wait(for: "plain DHCP", timeout: 10), dhcp.output, file: file, line: line)
            // QEMU's hub joins the NIC and both servers' sockets like a switch.
            network = ["-netdev", "stream,id=s0,server=off,addr.type=unix,addr.path=\(socket)", "-netdev", "hubport,id=h0,hubid=0,netdev=s0",
                       "-netdev", "stream,id=s1,server=off,addr.type=unix,addr.path=\(dhcpSocket)", "-netdev", "hubport,id=h1,hubid=0,netdev=s1",
                       "-netdev", "hubport,id=n0,hubid=0", "-device", "\(device),netdev=n0,mac=52:54:00:12:34:56"]
        }
        defer { dhcp.stop() }
        let qemu = Background(HostTools.qemu, [
            "-nodefaults", "-display", "none", "-machine", "q35,accel=tcg", "-m", "256", "-no-reboot",
            "-serial", "file:\(serial.path)",
            "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=\(Self.ovmfCode)",
            "-drive", "if=pflash,format=raw,unit=1,file=\(work.appendingPathComponent("vars.fd").path)",
        ] + network + extra)
        let start = Date()
        try qemu.start()
        defer { qemu.stop() }
        var console = ""
        while Date().timeIntervalSince(start) < 60 {
            console = (try? String(contentsOf: serial, encoding: .utf8)) ?? ""
            if console.contains("nicsim fetched ipxe.efi over HTTP") || console.contains("nicsim chain failed") || !qemu.isRunning { break }
            usleep(100_000)
        }
        let seconds = Date().timeIntervalSince(start)
        XCTAssertTrue(console.contains("nicsim fetched ipxe.efi over HTTP"),
                      "the guest did not get through boot.ipxe and second.ipxe in 60 s.\nserver:\n\(server.output)\nconsole:\n\(console.suffix(3000))",
                      file: file, line: line)
        // The console shows the file before the guest's last ACK reaches
        // the server, which logs the response only when all of it is acknowledged.
        _ = server.wait(for: "GET /ipxe.efi", timeout: 10)
        qemu.stop()
        server.stop()
        return (server.output, console, seconds)
    }

    private func fileSize(_ path: String) -> Int {
        (try? Data(contentsOf: URL(fileURLWithPath: path)).count) ?? -1
    }

    private func assertIPXEChainedOverHTTP(_ log: String, _ console: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(console.contains("nicsim boot.ipxe on 10.0.2.100"), console, file: file, line: line)
        XCTAssertTrue(log.contains("tftp: 10.0.2.100 reads boot.ipxe"), log, file: file, line: line)
        XCTAssertTrue(console.contains("nicsim second.ipxe over HTTP on efi"), console, file: file, line: line)
        XCTAssertTrue(log.contains("sent boot.ipxe to 10.0.2.100"), log, file: file, line: line)
        XCTAssertTrue(log.contains("http: 10.0.2.100 GET /second.ipxe 200"), log, file: file, line: line)
        XCTAssertTrue(log.contains("http: 10.0.2.100 GET /ipxe.efi 200 (\(fileSize(Self.ipxeEFI)) bytes)"), log, file: file, line: line)
    }

    func testOVMFVirtioNetPXEBootsSnponlyForArchitecture7ThenChainsOverHTTP() throws {
        // OVMF's own virtio-net driver and PXE base code: option 93 type 7
        // picks snponly.efi over TFTP; iPXE in it gets boot.ipxe.
        let (log, console, seconds) = try boot(device: "virtio-net-pci,romfile=",
                                               serveArguments: ["--boot-file-for", "7=snponly.efi", "--ipxe-boot-file", "boot.ipxe"])
        XCTAssertTrue(log.contains("dhcp: ack 10.0.2.100 to 52:54:00:12:34:56 file snponly.efi"), log)
        XCTAssertTrue(log.contains("tftp: sent snponly.efi to 10.0.2.100 (\(fileSize(Self.snponly)) bytes"), log)
        assertIPXEChainedOverHTTP(log, console)
        print("OVMF virtio-net PXE to ipxe.efi over HTTP: \(String(format: "%.1f", seconds)) s")
    }

    func testOVMFWithIPXEEFIROMForRTL8139ChainsOverHTTP() throws {
        // iPXE's EFI driver ROM for the RTL8139 (ipxe-qemu) runs under
        // OVMF; iPXE asks as iPXE, so it gets boot.ipxe at once.
        let (log, console, seconds) = try boot(device: "rtl8139,romfile=\(Self.rtl8139EFIROM)",
                                               serveArguments: ["--efi-boot-file", "snponly.efi", "--ipxe-boot-file", "boot.ipxe"])
        XCTAssertTrue(log.contains("dhcp: ack 10.0.2.100 to 52:54:00:12:34:56 file boot.ipxe"), log)
        assertIPXEChainedOverHTTP(log, console)
        print("OVMF + iPXE EFI RTL8139 ROM to ipxe.efi over HTTP: \(String(format: "%.1f", seconds)) s")
    }

    func testOVMFHTTPBootFetchesItsFileOverHTTP() throws {
        // PXE off in OVMF (fw_cfg), so its boot manager tries UEFI HTTP
        // Boot: DHCP with option 60 "HTTPClient" and architecture 16, the
        // URL from option 67, then HEAD and GET of snponly.efi.
        let (log, console, seconds) = try boot(
            device: "virtio-net-pci,romfile=",
            extra: Self.pxeOff,
            serveArguments: ["--boot-file-for", "16=snponly.efi", "--ipxe-boot-file", "boot.ipxe"])
        XCTAssertTrue(log.contains("dhcp: ack 10.0.2.100 to 52:54:00:12:34:56 file http://10.0.2.2:\(Self.httpPort)/snponly.efi"), log)
        XCTAssertTrue(log.contains("http: 10.0.2.100 GET /snponly.efi 200 (\(fileSize(Self.snponly)) bytes)"), log)
        XCTAssertTrue(console.contains("URI: http://10.0.2.2:\(Self.httpPort)/snponly.efi"), console)
        XCTAssertFalse(log.contains("tftp: sent snponly.efi"), "the NBP came over HTTP, not TFTP")
        assertIPXEChainedOverHTTP(log, console)
        print("OVMF HTTP Boot to ipxe.efi over HTTP: \(String(format: "%.1f", seconds)) s")
    }

    static let pxeOff = ["-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=n", "-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=n"]

    func testOVMFPXEBootsThroughProxyDHCPBesideAPlainDHCPServer() throws {
        // PXE 2.1 §2.2.1: the address from the plain server, the boot file
        // from the proxy's offer (option 60 PXEClient, no yiaddr), which
        // EDK2 caches and boots from without asking 4011.
        let (log, console, seconds) = try boot(device: "virtio-net-pci,romfile=", serveArguments: [
            "--boot-file-for", "7=snponly.efi", "--ipxe-boot-file", "boot.ipxe"], proxy: true)
        XCTAssertTrue(log.contains("dhcp: offer 0.0.0.0 to 52:54:00:12:34:56 file snponly.efi"), log)
        XCTAssertTrue(log.contains("tftp: sent snponly.efi to 10.0.2.100 (\(fileSize(Self.snponly)) bytes"), log)
        XCTAssertTrue(console.contains("Next server: 10.0.2.3"), console)
        assertIPXEChainedOverHTTP(log, console)
        print("OVMF PXE through proxyDHCP to ipxe.efi over HTTP: \(String(format: "%.1f", seconds)) s")
    }

    func testOVMFHTTPBootThroughProxyDHCP() throws {
        // The proxy's offer carries HTTPClient and the URL, no address.
        let (log, console, seconds) = try boot(device: "virtio-net-pci,romfile=", extra: Self.pxeOff, serveArguments: [
            "--boot-file-for", "16=snponly.efi", "--ipxe-boot-file", "boot.ipxe"], proxy: true)
        XCTAssertTrue(log.contains("dhcp: offer 0.0.0.0 to 52:54:00:12:34:56 file http://10.0.2.3:\(Self.httpPort)/snponly.efi"), log)
        XCTAssertTrue(log.contains("http: 10.0.2.100 GET /snponly.efi 200 (\(fileSize(Self.snponly)) bytes)"), log)
        XCTAssertTrue(console.contains("URI: http://10.0.2.3:\(Self.httpPort)/snponly.efi"), console)
        assertIPXEChainedOverHTTP(log, console)
        print("OVMF HTTP Boot through proxyDHCP to ipxe.efi over HTTP: \(String(format: "%.1f", seconds)) s")
    }
}
