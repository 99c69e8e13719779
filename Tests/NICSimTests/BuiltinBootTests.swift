import Foundation
import NICCatalogue
import NICSim
import XCTest

/// What `nicsim boot --nbp builtin` does, done from Swift through the NICSim
/// library: a simulated PC per catalogue card, the embedded server on a
/// virtual switch, and the report the CLI prints.
final class BuiltinBootTests: XCTestCase {
    /// The checkout's default TFTP tree (the package root is three levels up).
    static let tree = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/tftpboot").path

    static func sha256(of path: String) throws -> String {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        return SHA256.hex(bytes)
    }

    func testEveryPCICardBootsTheDefaultTreeFromSwift() throws {
        let kernel = try Self.sha256(of: Self.tree + "/vmlinuz")
        let initrd = try Self.sha256(of: Self.tree + "/initrd.img")
        for entry in NICCatalogue.all where entry.bus == .pci {
            let mac = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
            let pc = try SimulatedPC(model: entry, mac: mac)
            let network = try BootNetwork(board: pc.board, device: pc.port, macAddress: mac,
                                          peer: .embedded(directory: Self.tree, bootFile: nil, hint: "fixtures missing"))
            var clientSeen = false
            let report = try BuiltinBoot.run(pc: pc, network: network) { _ in clientSeen = true }
            network.close()
            XCTAssertTrue(clientSeen, entry.name)
            XCTAssertEqual(report.model, entry.name)
            XCTAssertEqual(report.lease.ip, "10.0.2.100", entry.name)
            XCTAssertEqual(report.lease.bootfile, "pxelinux.0", entry.name)
            XCTAssertEqual(report.nbp, "builtin")
            XCTAssertEqual(report.files.first(where: { $0.name == "vmlinuz" })?.sha256, kernel, entry.name)
            XCTAssertEqual(report.files.first(where: { $0.name == "initrd.img" })?.sha256, initrd, entry.name)
            XCTAssertGreaterThan(report.frames.rx, 0)
            // The one JSON encoding: keys sorted, the lease inside.
            let json = report.json()
            XCTAssertTrue(json.hasPrefix("{\"device\":"), json)
            XCTAssertTrue(json.contains("\"lease\":{\"bootfile\":\"pxelinux.0\",\"ip\":\"10.0.2.100\""), json)
        }
    }

    func testAMissingTreeIsOneLineWithTheHint() throws {
        let mac = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x57)
        let pc = try SimulatedPC(model: NICCatalogue.rtl8139, mac: mac)
        XCTAssertThrowsError(try BootNetwork(board: pc.board, device: pc.port, macAddress: mac,
                                             peer: .embedded(directory: "/nonexistent/tftp", bootFile: nil, hint: "give --dir"))) { error in
            let line = (error as? NICSimError)?.description ?? ""
            XCTAssertTrue(line.hasSuffix("; give --dir"), line)
            XCTAssertFalse(line.contains("\n"))
        }
    }

    func testAnISACardIsRefusedWithAReason() {
        guard let isa = NICCatalogue.all.first(where: { $0.bus != .pci }) else { return XCTFail("the catalogue has an ISA card") }
        XCTAssertThrowsError(try SimulatedPC(model: isa, mac: MACAddress(0x52, 0x54, 0, 0, 0, 1))) { error in
            XCTAssertTrue((error as? NICSimError)?.description.contains(isa.name) ?? false, "\(error)")
        }
    }
}
