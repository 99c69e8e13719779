@testable import QTest
import XCTest

final class QTestScriptTests: XCTestCase {
    /// Arguments, commands, wire directives and annotations are read; comments are not steps.
    func testScriptFormat() throws {
        let s = try QTestScript(text: """
            # a comment
            #! args: -m 64M -netdev socket,id=n0,fd=@NET
            #! args: -device ne2k_pci,netdev=n0
            inb 0xc007   # deviation: NE2K-X
            outw 0xc010 1   # settle
            %send ffff 0001
            %recv

            """)
        XCTAssertEqual(s.arguments, ["-m", "64M", "-netdev", "socket,id=n0,fd=@NET", "-device", "ne2k_pci,netdev=n0"])
        XCTAssertEqual(s.steps.map(\.kind), [.command("inb 0xc007"), .command("outw 0xc010 1"), .send([0xFF, 0xFF, 0x00, 0x01]), .receive])
        XCTAssertEqual(s.steps[0].deviation, "NE2K-X")
        XCTAssertNil(s.steps[1].deviation)
        XCTAssertEqual(s.steps[2].lineNumber, 6)
    }

    func testBadDirectivesAreRefused() {
        XCTAssertThrowsError(try QTestScript(text: "%send 0g"))
        XCTAssertThrowsError(try QTestScript(text: "%send 123"))
        XCTAssertThrowsError(try QTestScript(text: "%wait"))
    }

    /// In process, `%recv` with nothing sent answers FRAME none, and every
    /// step is echoed before its lines.
    func testRunnerTranscript() throws {
        let s = try QTestScript(text: "#! args: -m 16\nendianness\n%recv\nfrob\n")
        XCTAssertEqual(try QTestScriptRunner().run(s), ["> endianness", "OK little", "> %recv", "FRAME none", "> frob", "FAIL Unknown command 'frob'"])
    }
}
