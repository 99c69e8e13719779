import Foundation
import XCTest

final class RomCommandTests: XCTestCase {
    /// `nicsim rom inspect` prints a Debian ROM's structure and exits 0.
    func testInspectPrintsDebianROMStructure() throws {
        let r = try NicsimProcess.run(["rom", "inspect", "/usr/lib/ipxe/qemu/pxe-rtl8139.rom"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("vendor 10ec device 8139"), r.stdout)
        XCTAssertTrue(r.stdout.contains("BEV 0x"), r.stdout)
    }

    /// A damaged ROM is one clear line on stderr and exit 1, never a trap.
    func testInspectOfDamagedROMIsOneLineAndExitOne() throws {
        let path = NSTemporaryDirectory() + "nicsim-bad-\(getpid()).rom"
        var bytes = [UInt8](repeating: 0, count: 512)
        bytes[0] = 0x55; bytes[1] = 0xAA; bytes[2] = 1; bytes[0x18] = 0xF0; bytes[0x19] = 0x7F
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try NicsimProcess.run(["rom", "inspect", path])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("PCIR pointer 0x7ff0"), r.stderr)
    }

    func testInspectOfMissingFileSaysSo() throws {
        let r = try NicsimProcess.run(["rom", "inspect", "/nonexistent/x.rom"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("no such file"), r.stderr)
    }
}

final class RomRunCommandTests: XCTestCase {
    /// `nicsim rom run` runs Debian's iPXE rtl8139 ROM on our RTL8139: its
    /// console (printed live) shows iPXE's driver opening our card.
    func testRunIPXEROMOnRTL8139ShowsTheDriverOpeningOurCard() throws {
        let r = try NicsimProcess.run(["rom", "run", "/usr/lib/ipxe/qemu/pxe-rtl8139.rom", "--model", "rtl8139",
                                       "--until", "Configuring"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("net0: 52:54:00:12:34:56 using rtl8139 on 0000:00:03.0 (open)"), r.stdout)
    }

    /// With --json the summary carries the whole console and the stop reason.
    func testRunJSONCarriesTheConsole() throws {
        let r = try NicsimProcess.run(["rom", "run", "/usr/lib/ipxe/qemu/pxe-rtl8139.rom", "--json",
                                       "--until", "iPXE initialising devices"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(object?["stop"] as? String, "condition")
        XCTAssertTrue((object?["console"] as? String)?.contains("PCI2.10 PnP PMM") ?? false, r.stdout)
    }

    /// With --serve, the summary lists every file iPXE fetched over TFTP,
    /// hashed, and the ones it could not get.
    func testRunServeListsTheFilesTheROMFetched() throws {
        let tree = FileManager.default.temporaryDirectory.appendingPathComponent("nsim-romrun-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tree) }
        let script = "#!ipxe\nimgfetch missing.bin || echo nicsim-no-missing\necho nicsim-files-done\n"
        try Data(script.utf8).write(to: tree.appendingPathComponent("boot.ipxe"))
        let r = try NicsimProcess.run(["rom", "run", "/usr/lib/ipxe/qemu/pxe-rtl8139.rom", "--model", "rtl8139", "--serve", tree.path,
                                       "--until", "nicsim-files-done", "--json"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let files = try XCTUnwrap(object["files"] as? [[String: Any]])
        XCTAssertEqual(files.map { $0["name"] as? String }, ["boot.ipxe"])
        XCTAssertEqual(files.first?["sha256"] as? String, try sha256(tree.appendingPathComponent("boot.ipxe").path))
        XCTAssertEqual(files.first?["size"] as? Int, script.utf8.count)
        let failed = try XCTUnwrap(object["failed"] as? [[String: Any]])
        XCTAssertEqual(failed.map { $0["name"] as? String }, ["missing.bin"])
        XCTAssertEqual(failed.first?["code"] as? Int, 1)
    }

    /// A file that is not a ROM is one line and exit 1.
    func testRunOfNonROMFails() throws {
        let r = try NicsimProcess.run(["rom", "run", "/usr/lib/ipxe/undionly.kpxe"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    }
}
