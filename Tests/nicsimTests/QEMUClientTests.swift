import Foundation
import XCTest

/// A real client: QEMU with SeaBIOS and the iPXE option ROM from
/// ipxe-qemu PXE-boots from `nicsim serve --qemu-socket`, for each NIC
/// QEMU offers that nicsim also models. iPXE does DHCP and TFTP, runs
/// Debian's pxelinux.0, which loads ldlinux.c32 and fetches its config
/// through iPXE's PXE API.
final class QEMUClientTests: XCTestCase {
    private func bootQEMU(device: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try HostTools.require(HostTools.qemu, package: "qemu-system-x86")
        try HostTools.require("/usr/lib/ipxe/qemu/efi-rtl8139.rom", package: "ipxe-qemu")
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("nsim-qemu-\(UUID().uuidString.prefix(8)).sock").path
        let server = Background(NicsimProcess.binary.path, ["serve", "--dir", HostTools.fixtures.path, "--qemu-socket", socket])
        try server.start()
        XCTAssertTrue(server.wait(for: "TFTP root", timeout: 10), server.output, file: file, line: line)
        let qemu = Background(HostTools.qemu, [
            "-nodefaults", "-display", "none", "-machine", "pc,accel=tcg", "-m", "128", "-serial", "null",
            "-netdev", "stream,id=n0,server=off,addr.type=unix,addr.path=\(socket)",
            "-device", "\(device),netdev=n0,mac=52:54:00:12:34:56", "-boot", "n",
        ])
        try qemu.start()
        defer {
            qemu.stop()
            server.stop()
        }
        let fetched = server.wait(for: "sent pxelinux.cfg/default to", timeout: 120)
        XCTAssertTrue(fetched, "pxelinux did not fetch its config over \(device).\nserver:\n\(server.output)\nqemu:\n\(qemu.output)",
                      file: file, line: line)
        let log = server.output
        XCTAssertTrue(log.contains("dhcp: ack 10.0.2.100 to 52:54:00:12:34:56 file pxelinux.0"), log, file: file, line: line)
        XCTAssertTrue(log.contains("sent pxelinux.0 to 10.0.2.100 (42430 bytes"), log, file: file, line: line)
        XCTAssertTrue(log.contains("sent ldlinux.c32 to 10.0.2.100"), log, file: file, line: line)
    }

    func testQEMURTL8139BootsPxelinuxFromServe() throws {
        try bootQEMU(device: "rtl8139")
    }

    func testQEMUNE2000PCIBootsPxelinuxFromServe() throws {
        try bootQEMU(device: "ne2k_pci")
    }

    func testQEMUVirtioNetBootsPxelinuxFromServe() throws {
        try bootQEMU(device: "virtio-net-pci")
    }
}
