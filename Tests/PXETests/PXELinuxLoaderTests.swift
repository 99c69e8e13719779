import NICCore
import UNDI
import Wire
import XCTest

@testable import PXE

/// The built-in pxelinux over the PXE API: search order, configuration,
/// prompt timeout, kernel and initrd download.
final class PXELinuxLoaderTests: XCTestCase {
    let uuid: [UInt8] = [0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF]
    let mac = MACAddress(0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD)

    func testSearchOrderWithUUIDAndMAC() {
        // pxelinux: UUID, 01-MAC, hex IP shrinking, default (10.0.0.100 = 0A000064).
        let names = PXELinuxLoader.configurationSearchOrder(uuid: uuid, mac: mac, ip: IPv4Address(10, 0, 0, 100))
        XCTAssertEqual(names, [
            "12345678-9abc-def0-0123-456789abcdef",
            "01-88-99-aa-bb-cc-dd",
            "0A000064", "0A00006", "0A0000", "0A000", "0A00", "0A0", "0A", "0",
            "default",
        ])
    }

    func testSearchOrderWithoutUUIDStartsWithTheMAC() {
        let names = PXELinuxLoader.configurationSearchOrder(uuid: nil, mac: mac, ip: IPv4Address(192, 168, 2, 91))
        XCTAssertEqual(names.first, "01-88-99-aa-bb-cc-dd")
        XCTAssertEqual(names[1], "C0A8025B")
        XCTAssertEqual(names.count, 10)
    }

    private func rig(uuid: [UInt8]? = nil) throws -> PXETestRig {
        let rig = PXETestRig(uuid: uuid, mac: mac)
        rig.peer.bootFile = "boot/pxelinux.0"
        try rig.boot()
        return rig
    }

    func testLoaderWalksTheSearchOrderUntilAConfigIsFound() throws {
        let rig = try rig(uuid: uuid)
        rig.peer.files["boot/pxelinux.cfg/0A00"] = Array("DEFAULT l\nLABEL l\nKERNEL vmlinuz\n".utf8)
        rig.peer.files["boot/vmlinuz"] = patternFile(4000)
        let boot = try PXELinuxLoader(api: rig.api).run()
        XCTAssertEqual(boot.configurationPath, "boot/pxelinux.cfg/0A00")
        XCTAssertEqual(boot.triedConfigurations, [
            "boot/pxelinux.cfg/12345678-9abc-def0-0123-456789abcdef",
            "boot/pxelinux.cfg/01-88-99-aa-bb-cc-dd",
            "boot/pxelinux.cfg/0A000064", "boot/pxelinux.cfg/0A00006", "boot/pxelinux.cfg/0A0000",
            "boot/pxelinux.cfg/0A000", "boot/pxelinux.cfg/0A00",
        ])
        XCTAssertEqual(rig.peer.readRequests.map(\.filename).prefix(7), boot.triedConfigurations[...])
    }

    func testUUIDConfigIsTakenFirst() throws {
        let rig = try rig(uuid: uuid)
        rig.peer.files["boot/pxelinux.cfg/12345678-9abc-def0-0123-456789abcdef"] = Array("DEFAULT k1\n".utf8)
        rig.peer.files["boot/pxelinux.cfg/default"] = Array("DEFAULT k2\n".utf8)
        rig.peer.files["boot/k1"] = [1]
        let boot = try PXELinuxLoader(api: rig.api).run()
        XCTAssertEqual(boot.triedConfigurations.count, 1)
        XCTAssertEqual(boot.kernel.name, "boot/k1")
    }

    func testKernelAndInitrdsAreLoadedOneAfterAnother() throws {
        let rig = try rig()
        rig.peer.files["boot/pxelinux.cfg/default"] = Array("""
            PROMPT 1
            TIMEOUT 30
            DEFAULT install
            LABEL install
              KERNEL images/vmlinuz
              APPEND console=ttyS0 initrd=images/initrd.gz,::extra.cpio
            """.utf8)
        let kernel = patternFile(10_000, seed: 1), initrd = patternFile(5_000, seed: 2), extra = patternFile(300, seed: 3)
        rig.peer.files["boot/images/vmlinuz"] = kernel
        rig.peer.files["boot/images/initrd.gz"] = initrd
        rig.peer.files["extra.cpio"] = extra
        let boot = try PXELinuxLoader(api: rig.api).run()
        XCTAssertEqual(boot.kernel, LoadedFile(name: "boot/images/vmlinuz", address: 0x10_0000, size: 10_000))
        XCTAssertEqual(boot.initrds.map(\.name), ["boot/images/initrd.gz", "extra.cpio"])
        XCTAssertEqual(boot.initrds[0].address, 0x10_3000)
        XCTAssertEqual(boot.initrds[1].address, 0x10_5000)
        XCTAssertEqual(try rig.memory.readBytes(at: 0x10_0000, count: kernel.count), kernel)
        XCTAssertEqual(try rig.memory.readBytes(at: 0x10_3000, count: initrd.count), initrd)
        XCTAssertEqual(try rig.memory.readBytes(at: 0x10_5000, count: extra.count), extra)
        XCTAssertEqual(boot.entry.commandLine, "console=ttyS0 initrd=images/initrd.gz,::extra.cpio")
        XCTAssertEqual(boot.promptWait, 3 * VirtualClock.second)
    }

    func testTheLoaderUsesOnlyThePXEAPI() throws {
        let rig = try rig()
        rig.peer.files["boot/pxelinux.cfg/default"] = Array("DEFAULT k\n".utf8)
        rig.peer.files["boot/k"] = patternFile(100)
        let before = rig.api.callLog.count
        _ = try PXELinuxLoader(api: rig.api).run()
        let ops = rig.api.callLog[before...].map(\.opcode)
        XCTAssertEqual(Array(ops.prefix(3)), [0x71, 0x71, 0x71])  // GET_CACHED_INFO 1, 2, 3
        XCTAssertTrue(ops.contains(0x20))  // TFTP_OPEN
        XCTAssertTrue(ops.contains(0x22))  // TFTP_READ
        XCTAssertTrue(ops.contains(0x25))  // TFTP_GET_FSIZE
        XCTAssertEqual(ops.last, 0x23)  // TFTP_READ_FILE
    }

    func testMissingConfigurationListsEveryNameTried() throws {
        let rig = try rig()
        XCTAssertThrowsError(try PXELinuxLoader(api: rig.api).run()) { error in
            guard case .noConfiguration(let tried)? = error as? PXELinuxError else { return XCTFail("\(error)") }
            XCTAssertEqual(tried.last, "boot/pxelinux.cfg/default")
            XCTAssertEqual(tried.count, 10)
        }
    }

    func testMissingKernelFailsWithFileNotFound() throws {
        let rig = try rig()
        rig.peer.files["boot/pxelinux.cfg/default"] = Array("DEFAULT nothere\n".utf8)
        XCTAssertThrowsError(try PXELinuxLoader(api: rig.api).run()) {
            XCTAssertEqual($0 as? PXELinuxError, .api(opcode: 0x25, status: .tftpFileNotFound))
        }
    }

    func testLocalBootEntryStopsTheNetworkBoot() throws {
        let rig = try rig()
        rig.peer.files["boot/pxelinux.cfg/default"] = Array("DEFAULT hd\nLABEL hd\nLOCALBOOT 0\n".utf8)
        XCTAssertThrowsError(try PXELinuxLoader(api: rig.api).run()) { XCTAssertEqual($0 as? PXELinuxError, .localBoot(label: "hd")) }
    }

    func testConfigFileOption209OverridesTheSearch() throws {
        let rig = PXETestRig(mac: mac)
        rig.peer.extraAckOptions = [DHCPOption(DHCPOptionCode(209), string: "special.cfg"), DHCPOption(DHCPOptionCode(210), string: "tftp/")]
        try rig.boot()
        rig.peer.files["tftp/special.cfg"] = Array("DEFAULT k\n".utf8)
        rig.peer.files["tftp/k"] = [7]
        let boot = try PXELinuxLoader(api: rig.api).run()
        XCTAssertEqual(boot.triedConfigurations, ["tftp/special.cfg"])
        XCTAssertEqual(boot.kernel.name, "tftp/k")
    }

    func testALabelCanBeChosenAsIfTypedAtTheBootPrompt() throws {
        let rig = try rig()
        rig.peer.files["boot/pxelinux.cfg/default"] = Array("DEFAULT a\nTIMEOUT 100\nLABEL a\nKERNEL ka\nLABEL rescue\nKERNEL kr\n".utf8)
        rig.peer.files["boot/kr"] = [1, 2]
        let loader = PXELinuxLoader(api: rig.api)
        loader.commandLineLabel = "rescue"
        let boot = try loader.run()
        XCTAssertEqual(boot.kernel.name, "boot/kr")
        XCTAssertEqual(boot.promptWait, 0)
    }

    /// A TIMEOUT from the server far past syslinux's 35996 tenths of a
    /// second waits just under an hour of virtual time, no more (and the
    /// product in nanoseconds never overflows).
    func testHugeTimeoutWaitsAtMostSyslinuxMaximum() throws {
        let rig = try rig()
        rig.peer.files["boot/pxelinux.cfg/default"] = Array("DEFAULT a\nPROMPT 1\nTIMEOUT 184467440738\nLABEL a\nKERNEL ka\n".utf8)
        rig.peer.files["boot/ka"] = [1]
        let boot = try PXELinuxLoader(api: rig.api).run()
        XCTAssertEqual(boot.promptWait, 35996 * 100 * VirtualClock.millisecond)
    }

    /// A configuration built in code with a timeout past the cap is capped
    /// by the loader too.
    func testTimeoutSetInCodeIsCappedByTheLoader() {
        var c = PXELinuxConfig()
        c.timeout = .max
        XCTAssertEqual(PXELinuxLoader.promptWait(for: c), 35996 * 100 * VirtualClock.millisecond)
    }

    func testLargeConfigFileOverSeveralPacketsIsReadWhole() throws {
        let rig = try rig()
        let padding = String(repeating: "# padding line for a long configuration file\n", count: 100)
        rig.peer.files["boot/pxelinux.cfg/default"] = Array((padding + "DEFAULT big\n").utf8)
        rig.peer.files["boot/big"] = [1]
        XCTAssertEqual(try PXELinuxLoader(api: rig.api).run().kernel.name, "boot/big")
    }
}
