import Foundation
import XCTest

/// `nicsim boot --rom FILE`: a real option ROM image on the Machine instead
/// of the software ROM, on boot's networks (here the embedded server).
final class BootROMCommandTests: XCTestCase {
    static let rom = "/usr/lib/ipxe/qemu/pxe-rtl8139.rom"
    private var tree: URL!

    override func setUpWithError() throws {
        try HostTools.require(Self.rom, package: "ipxe-qemu")
        tree = FileManager.default.temporaryDirectory.appendingPathComponent("nicsim-bootrom-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        try Data("#!ipxe\necho nicsim-ipxe-ok ${net0/ip} nicsim-end\n".utf8).write(to: tree.appendingPathComponent("boot.ipxe"))
    }

    override func tearDown() {
        if let tree { try? FileManager.default.removeItem(at: tree) }
    }

    /// iPXE leases 10.0.2.100 (the first address of the embedded server's
    /// pool), reads boot.ipxe (the default boot file with --rom) and runs
    /// it; its echo appears on stdout as the guest prints it, followed by
    /// the summary.
    func testBootROMPrintsTheScriptEchoOnStdout() throws {
        let r = try NicsimProcess.run(["boot", "--rom", Self.rom, "--model", "rtl8139", "--dir", tree.path, "--until", "nicsim-end"],
                                      timeout: 240)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("nicsim-ipxe-ok 10.0.2.100 nicsim-end"), r.stdout)
        XCTAssertTrue(r.stdout.contains("net0: 52:54:00:12:34:56 using rtl8139 on 0000:00:03.0"), r.stdout)
        XCTAssertTrue(r.stdout.contains("stop: condition"), r.stdout)
    }

    /// With --json there is no live console: one object whose `console`
    /// holds everything the guest printed, with the stop reason, times and
    /// frame counts.
    func testBootROMJSONCarriesTheConsole() throws {
        let r = try NicsimProcess.run(["boot", "--rom", Self.rom, "--dir", tree.path, "--until", "nicsim-end", "--json"], timeout: 240)
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        XCTAssertEqual(object["stop"] as? String, "condition")
        XCTAssertTrue((object["console"] as? String)?.contains("nicsim-ipxe-ok 10.0.2.100 nicsim-end") ?? false, r.stdout)
        XCTAssertEqual(object["network"] as? String, "embedded server 10.0.2.2 on a virtual switch")
        let frames = try XCTUnwrap(object["frames"] as? [String: Any])
        // DISCOVER, REQUEST, ARP, TFTP RRQ and ACKs at least.
        XCTAssertGreaterThanOrEqual(frames["tx"] as? Int ?? 0, 5)
        XCTAssertGreaterThan(object["virtualSeconds"] as? Double ?? 0, 2, "iPXE's 2 s Ctrl-B prompt is on virtual time")
    }

    /// --capture records the ROM's traffic as pcapng: after iPXE's 2 s
    /// Ctrl-B prompt its driver sends DHCPDISCOVER and takes the OFFER, so
    /// 3 s of virtual time leave a Section Header Block (type 0x0A0D0D0A)
    /// and frames both ways in the file.
    func testBootROMCaptureWritesPcapng() throws {
        let capture = tree.appendingPathComponent("rom.pcapng")
        let r = try NicsimProcess.run(["boot", "--rom", Self.rom, "--dir", tree.path, "--timeout", "3", "--capture", capture.path,
                                       "--json"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        XCTAssertEqual(object["stop"] as? String, "timeout")
        let frames = try XCTUnwrap(object["frames"] as? [String: Any])
        XCTAssertGreaterThan(frames["tx"] as? Int ?? 0, 0, r.stdout)
        XCTAssertGreaterThan(frames["rx"] as? Int ?? 0, 0, r.stdout)
        let bytes = try [UInt8](Data(contentsOf: capture))
        XCTAssertEqual(Array(bytes.prefix(4)), [0x0A, 0x0D, 0x0D, 0x0A])
        // An Enhanced Packet Block (type 6) per frame, at least DISCOVER and OFFER.
        XCTAssertGreaterThan(bytes.count, 2 * 300, "the DISCOVER and the OFFER are each over 300 bytes")
    }

    /// The embedded server answers iPXE's IPv6 router solicitation with a
    /// Router Advertisement (RFC 4861), so iPXE's configuration step ends
    /// and the script runs about 2.4 s after power-on instead of after its
    /// 18 s wait for a router.
    func testBootROMGetsARouterAdvertisementAndBootsWithoutTheIPv6Wait() throws {
        let r = try NicsimProcess.run(["boot", "--rom", Self.rom, "--dir", tree.path, "--until", "nicsim-end", "--json"], timeout: 240)
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        XCTAssertTrue((object["console"] as? String)?.contains("nicsim-ipxe-ok 10.0.2.100 nicsim-end") ?? false, r.stdout)
        XCTAssertLessThan(object["virtualSeconds"] as? Double ?? 99, 5)
    }

    /// A file that is not an option ROM is one line on stderr and exit 1.
    func testBootROMOfNonROMFileIsOneLineError() throws {
        let r = try NicsimProcess.run(["boot", "--rom", "/usr/lib/ipxe/undionly.kpxe", "--dir", tree.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("nicsim: error: /usr/lib/ipxe/undionly.kpxe"), r.stderr)
    }

    /// A missing ROM file says so in one line.
    func testBootROMOfMissingFileSaysSo() throws {
        let r = try NicsimProcess.run(["boot", "--rom", "/nonexistent/x.rom", "--dir", tree.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "nicsim: error: /nonexistent/x.rom: no such file\n")
    }

    /// --until that never shows: exit 1, one line naming the text and why
    /// the run stopped (3 s of virtual time: still in iPXE's Ctrl-B prompt).
    func testBootROMUntilThatNeverShowsExitsOne() throws {
        let r = try NicsimProcess.run(["boot", "--rom", Self.rom, "--dir", tree.path, "--until", "never-printed", "--timeout", "3",
                                       "--json"], timeout: 120)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "nicsim: error: the console never showed \"never-printed\" (stopped: timeout)\n")
    }

    /// --boot-file names the embedded server's file for a ROM or for UEFI
    /// firmware; with neither it is a usage error (exit 2).
    func testBootFileNeedsROM() throws {
        let r = try NicsimProcess.run(["boot", "--boot-file", "x"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "nicsim: error: --boot-file needs --rom or --firmware uefi\n")
    }

    /// --nbp chooses how nicsim's own PXE ROM runs the NBP; a real ROM
    /// boots on its own, so the two together are a usage error.
    func testNBPWithROMIsAUsageError() throws {
        let r = try NicsimProcess.run(["boot", "--rom", Self.rom, "--nbp", "exec"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "nicsim: error: --nbp is for nicsim's PXE ROM; a --rom boots on its own\n")
    }

    /// --uuid is an option of the software ROM's DHCP client; with a real
    /// ROM it would be silently ignored, so it is refused.
    func testUUIDWithROMIsAUsageError() throws {
        let r = try NicsimProcess.run(["boot", "--rom", Self.rom, "--uuid", "00112233-4455-6677-8899-aabbccddeeff"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    }

    /// rom run: --serve and --bridge are two different wires.
    func testRomRunServeAndBridgeAreExclusive() throws {
        let r = try NicsimProcess.run(["rom", "run", Self.rom, "--serve", tree.path, "--bridge", "lo"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "nicsim: error: --serve can't be used with --bridge or --tap\n")
    }
}
