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
