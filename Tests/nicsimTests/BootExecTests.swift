import Foundation
import XCTest

/// `nicsim boot` with the NBP run on the x86 machine (`--nbp exec`, and
/// `auto` for x86 boot files): nicsim's PXE ROM boots Debian's
/// pxelinux.0 from fixtures/tftpboot, which loads the test kernel
/// (fixtures/src/test-kernel.S) and its initrd by the Linux boot protocol;
/// the kernel prints what pxelinux handed it and halts.
final class BootExecTests: XCTestCase {
    static let kernelLine = "cmdline: BOOT_IMAGE=vmlinuz initrd=initrd.img console=ttyS0"

    private func initrdLine() throws -> String {
        let size = try FileManager.default.attributesOfItem(atPath: HostTools.fixtures.appendingPathComponent("initrd.img").path)[.size] as? Int ?? 0
        let hex = String(size, radix: 16, uppercase: true)
        return "initrd: 0x" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex + " bytes at 0x"
    }

    func testDefaultBootRunsRealPxelinuxToTheKernel() throws {
        let r = try BootJSON.parse(try NicsimProcess.run(["boot", "--dir", HostTools.fixtures.path, "--json"], timeout: 120))
        XCTAssertEqual(r.nbp, "exec")
        XCTAssertEqual(r.stop, "halted")
        let console = r.console ?? ""
        XCTAssertTrue(console.contains("PXELINUX 6.04 PXE"), console)
        XCTAssertTrue(console.contains("nicsim test kernel"), console)
        XCTAssertTrue(console.contains(Self.kernelLine), console)
        XCTAssertTrue(console.contains(try initrdLine()), console)
        try r.assertMatches(root: HostTools.fixtures, names: BootTransferTests.pxelinuxFiles)
    }

    func testExecOnEachModelPrintsTheConsoleLive() throws {
        for model in ["ne2000", "virtio-net"] {
            let run = try NicsimProcess.run(["boot", "--model", model, "--nbp", "exec", "--dir", HostTools.fixtures.path,
                                             "--until", Self.kernelLine], timeout: 120)
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertTrue(run.stdout.contains("CLIENT IP: 10.0.2.100"), run.stdout)
            XCTAssertTrue(run.stdout.contains(Self.kernelLine), run.stdout)
            XCTAssertTrue(run.stdout.contains("nbp: exec, machine stopped: condition"), run.stdout)
        }
    }

    func testUntilTextThatNeverShowsIsAOneLineError() throws {
        let run = try NicsimProcess.run(["boot", "--dir", HostTools.fixtures.path, "--until", "never printed", "--timeout", "5"], timeout: 120)
        XCTAssertEqual(run.status, 1)
        let lines = run.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("never showed \"never printed\""), run.stderr)
    }

    func testUntilWithTheBuiltinIsAUsageError() throws {
        let run = try NicsimProcess.run(["boot", "--nbp", "builtin", "--until", "x"])
        XCTAssertEqual(run.status, 2, run.stderr)
        XCTAssertTrue(run.stderr.contains("--until needs --nbp exec or auto"), run.stderr)
    }

    func testAutoHandsATextBootFileToTheBuiltinPxelinux() throws {
        // A boot file that is not x86 code (here a text placeholder named
        // pxelinux.0): auto lets nicsim's built-in pxelinux take it.
        let tree = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-auto-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: HostTools.fixtures, to: tree)
        defer { try? FileManager.default.removeItem(at: tree) }
        try Data("placeholder: not an NBP\n".utf8).write(to: tree.appendingPathComponent("pxelinux.0"))
        let r = try BootJSON.parse(try NicsimProcess.run(["boot", "--dir", tree.path, "--json"], timeout: 120))
        XCTAssertEqual(r.nbp, "builtin")
        XCTAssertNil(r.console)
        try r.assertMatches(root: tree)
    }
}

/// `nicsim rom build`: nicsim's own PXE option ROM as a file.
final class RomBuildCommandTests: XCTestCase {
    func testBuiltROMInspectsCleanForEachModel() throws {
        for (model, ids) in [("rtl8139", "vendor 10ec device 8139"), ("ne2000", "vendor 10ec device 8029"), ("virtio-net", "vendor 1af4 device 1000")] {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-\(model)-\(UUID().uuidString).rom").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            let build = try NicsimProcess.run(["rom", "build", "--model", model, "-o", path])
            XCTAssertEqual(build.status, 0, build.stderr)
            let inspect = try NicsimProcess.run(["rom", "inspect", path])
            XCTAssertEqual(inspect.status, 0, inspect.stdout + inspect.stderr)
            XCTAssertTrue(inspect.stdout.contains(ids), inspect.stdout)
            XCTAssertTrue(inspect.stdout.contains("UNDI ROM ID"), inspect.stdout)
            XCTAssertTrue(inspect.stdout.contains("BEV 0x"), inspect.stdout)
        }
    }

    func testBootRomRunsTheBuiltImageWithItsSwiftFirmware() throws {
        // The image `rom build` wrote, booted by `boot --rom`: its host calls
        // reach the Swift UNDI and PXE API, and real pxelinux.0 runs on it.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-own-\(UUID().uuidString).rom").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertEqual(try NicsimProcess.run(["rom", "build", "--model", "virtio-net", "-o", path]).status, 0)
        let run = try NicsimProcess.run(["boot", "--model", "virtio-net", "--rom", path, "--dir", HostTools.fixtures.path,
                                         "--boot-file", "pxelinux.0", "--until", BootExecTests.kernelLine], timeout: 120)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("nicsim PXE ROM 2.1, UNDI for virtio-net at PCI 00:03.0"), run.stdout)
        XCTAssertTrue(run.stdout.contains(BootExecTests.kernelLine), run.stdout)
    }

    func testUnwritableOutputIsAOneLineError() throws {
        let run = try NicsimProcess.run(["rom", "build", "-o", "/nonexistent/nicsim/x.rom"])
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("cannot write it"), run.stderr)
    }
}
