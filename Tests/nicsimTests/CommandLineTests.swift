import XCTest

final class CommandLineTests: XCTestCase {
    func testHelpListsTheSubcommands() throws {
        let r = try NicsimProcess.run(["--help"])
        XCTAssertEqual(r.status, 0)
        for sub in ["boot", "replay", "serve", "qtest"] {
            XCTAssertTrue(r.stdout.contains("\n  \(sub)"), "help does not list \(sub):\n\(r.stdout)")
        }
        XCTAssertTrue(r.stdout.contains("--version"))
    }

    func testVersionPrintsAndExitsZero() throws {
        let r = try NicsimProcess.run(["--version"])
        XCTAssertEqual(r.status, 0)
        XCTAssertFalse(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }

    /// A usage error is one line on stderr and exit code 2.
    func testUnknownOptionIsOneLineAndExitTwo() throws {
        let r = try NicsimProcess.run(["--no-such-flag"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("nicsim: error: "), r.stderr)
        XCTAssertTrue(r.stdout.isEmpty)
    }

    func testBadValueIsOneLineAndExitTwo() throws {
        for args in [["boot", "--model", "e1000"], ["board", "--memory", "0"], ["board", "--memory", "x"]] {
            let r = try NicsimProcess.run(args)
            XCTAssertEqual(r.status, 2, args.joined(separator: " "))
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
    }

    /// `nicsim board` finds the host bridge by configuration cycles.
    func testBoardListsHostBridge() throws {
        let r = try NicsimProcess.run(["board", "--memory", "16"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("00:00.0 8086:1237 class 060000"), r.stdout)
    }
}
