import XCTest

@testable import PXE

/// The syslinux configuration language as pxelinux reads it.
final class PXELinuxConfigTests: XCTestCase {
    func testDefaultNamesALabelWithKernelAppendAndInitrd() {
        let c = PXELinuxConfig(parsing: """
            DEFAULT linux
            LABEL linux
              KERNEL vmlinuz
              APPEND root=/dev/nfs initrd=initrd.img quiet
            """)
        let e = c.unattendedEntry()
        XCTAssertEqual(e?.label, "linux")
        XCTAssertEqual(e?.kernel, "vmlinuz")
        XCTAssertEqual(e?.commandLine, "root=/dev/nfs initrd=initrd.img quiet")
        XCTAssertEqual(e?.initrds, ["initrd.img"])
    }

    func testKeywordsAreCaseInsensitiveAndCommentsIgnored() {
        let c = PXELinuxConfig(parsing: "# boot menu\ndefault One\n  label One\n\tlinux /k1\n# APPEND nothing\n")
        XCTAssertEqual(c.unattendedEntry()?.kernel, "/k1")
        XCTAssertEqual(c.unattendedEntry()?.commandLine, "")
    }

    func testInitrdKeywordAddsInitrdToTheCommandLine() {
        // INITRD file is the same as initrd=file on the APPEND line.
        let c = PXELinuxConfig(parsing: "DEFAULT a\nLABEL a\nKERNEL k\nAPPEND console=ttyS0\nINITRD one.img,two.img\n")
        XCTAssertEqual(c.unattendedEntry()?.commandLine, "console=ttyS0 initrd=one.img,two.img")
        XCTAssertEqual(c.unattendedEntry()?.initrds, ["one.img", "two.img"])
    }

    func testGlobalAppendAppliesToLabelsWithoutTheirOwn() {
        let c = PXELinuxConfig(parsing: "APPEND ip=dhcp\nDEFAULT b\nLABEL a\nKERNEL ka\nAPPEND own\nLABEL b\nKERNEL kb\n")
        XCTAssertEqual(c.unattendedEntry()?.commandLine, "ip=dhcp")
        XCTAssertEqual(c.label(named: "a").map { c.entry(for: $0).commandLine }, "own")
    }

    func testAppendDashClearsTheGlobalAppend() {
        let c = PXELinuxConfig(parsing: "APPEND ip=dhcp\nDEFAULT b\nLABEL b\nKERNEL kb\nAPPEND -\n")
        XCTAssertEqual(c.unattendedEntry()?.commandLine, "")
    }

    func testDefaultThatIsNoLabelIsAKernelCommandLine() {
        let c = PXELinuxConfig(parsing: "DEFAULT bzImage root=/dev/sda1 initrd=rd.gz\n")
        XCTAssertEqual(c.unattendedEntry(), PXELinuxBootEntry(label: nil, kernel: "bzImage", commandLine: "root=/dev/sda1 initrd=rd.gz"))
        XCTAssertEqual(c.unattendedEntry()?.initrds, ["rd.gz"])
    }

    func testPromptAndTimeoutAreRead() {
        let c = PXELinuxConfig(parsing: "PROMPT 1\nTIMEOUT 50\nDEFAULT x\nLABEL x\nKERNEL k\n")
        XCTAssertTrue(c.prompt)
        XCTAssertEqual(c.timeout, 50)
    }

    /// syslinux takes TIMEOUT in tenths of a second up to 35996 (just
    /// under an hour); a larger value, even one past Int, means that much.
    func testTimeoutIsCappedAtSyslinuxMaximum() {
        XCTAssertEqual(PXELinuxConfig(parsing: "TIMEOUT 184467440738\n").timeout, 35996)
        XCTAssertEqual(PXELinuxConfig(parsing: "TIMEOUT 99999999999999999999999999\n").timeout, 35996)
        XCTAssertEqual(PXELinuxConfig(parsing: "TIMEOUT 35996\n").timeout, 35996)
        XCTAssertEqual(PXELinuxConfig(parsing: "TIMEOUT -5\n").timeout, 0)
    }

    /// Paths tried and labels come from the server; errors show them escaped.
    func testErrorDescriptionsEscapeServerText() {
        XCTAssertEqual(PXELinuxError.noConfiguration(tried: ["a\u{1B}c"]).description, "no pxelinux configuration (tried a\\x1Bc)")
        XCTAssertEqual(PXELinuxError.localBoot(label: "l\n").description, "label l\\n boots from the local disk")
    }

    func testOnTimeoutWinsOverDefaultWhenNobodyTypes() {
        let c = PXELinuxConfig(parsing: "DEFAULT a\nONTIMEOUT b\nLABEL a\nKERNEL ka\nLABEL b\nKERNEL kb\n")
        XCTAssertEqual(c.unattendedEntry()?.kernel, "kb")
    }

    func testMenuModuleDefaultBootsTheMenuDefaultLabel() {
        let c = PXELinuxConfig(parsing: "DEFAULT menu.c32\nLABEL a\nKERNEL ka\nLABEL b\nMENU DEFAULT\nKERNEL kb\n")
        XCTAssertEqual(c.unattendedEntry()?.label, "b")
    }

    func testLocalBootLabelIsReportedAsSuch() {
        let c = PXELinuxConfig(parsing: "DEFAULT disk\nLABEL disk\nLOCALBOOT 0\n")
        XCTAssertEqual(c.unattendedEntry()?.localBoot, true)
    }

    func testWindowsLineEndingsAreAccepted() {
        let c = PXELinuxConfig(parsing: "DEFAULT a\r\nLABEL a\r\nKERNEL k\r\nAPPEND x=1\r\n")
        XCTAssertEqual(c.unattendedEntry()?.commandLine, "x=1")
    }

    func testEmptyConfigHasNoEntry() {
        XCTAssertNil(PXELinuxConfig(parsing: "# nothing\n").unattendedEntry())
    }

    func testLastInitrdOnTheCommandLineWins() {
        let e = PXELinuxBootEntry(label: nil, kernel: "k", commandLine: "initrd=a.img x initrd=b.img,c.img")
        XCTAssertEqual(e.initrds, ["b.img", "c.img"])
    }
}

/// IPAPPEND / SYSAPPEND: what pxelinux adds to the kernel command line.
final class PXELinuxAppendTests: XCTestCase {
    func testIPAppendOneAddsTheIPParameter() {
        let c = PXELinuxConfig(parsing: "DEFAULT a\nLABEL a\nKERNEL k\nAPPEND quiet\nIPAPPEND 1\n")
        let line = c.unattendedEntry()?.finalCommandLine(client: "10.0.0.100", server: "10.0.0.1", gateway: "10.0.0.254",
                                                         netmask: "255.255.255.0", mac: "52-54-00-12-34-56", uuid: nil)
        XCTAssertEqual(line, "quiet ip=10.0.0.100:10.0.0.1:10.0.0.254:255.255.255.0")
    }

    func testIPAppendTwoAddsBOOTIFWithTheARPType() {
        let c = PXELinuxConfig(parsing: "DEFAULT a\nLABEL a\nKERNEL k\nIPAPPEND 2\n")
        let line = c.unattendedEntry()?.finalCommandLine(client: "1.1.1.1", server: "2.2.2.2", gateway: "0.0.0.0",
                                                         netmask: "255.0.0.0", mac: "52-54-00-12-34-56", uuid: nil)
        XCTAssertEqual(line, "BOOTIF=01-52-54-00-12-34-56")
    }

    func testGlobalSysAppendAppliesToLabelsWithoutTheirOwn() {
        let c = PXELinuxConfig(parsing: "SYSAPPEND 6\nDEFAULT a\nLABEL a\nKERNEL k\nAPPEND x\n")
        let line = c.unattendedEntry()?.finalCommandLine(client: "1.1.1.1", server: "2.2.2.2", gateway: "0.0.0.0",
                                                         netmask: "255.0.0.0", mac: "aa-bb-cc-dd-ee-ff", uuid: "0011-22")
        XCTAssertEqual(line, "x BOOTIF=01-aa-bb-cc-dd-ee-ff SYSUUID=0011-22")
    }

    func testTheLoaderAppendsWhatTheDHCPPacketsSay() throws {
        let rig = PXETestRig()
        try rig.boot()
        rig.peer.files["pxelinux.cfg/default"] = Array("DEFAULT a\nLABEL a\nKERNEL k\nAPPEND ro\nIPAPPEND 3\n".utf8)
        rig.peer.files["k"] = [1]
        let boot = try PXELinuxLoader(api: rig.api).run()
        XCTAssertEqual(boot.commandLine, "ro ip=10.0.0.100:10.0.0.1:10.0.0.254:255.255.255.0 BOOTIF=01-52-54-00-12-34-56")
    }
}
