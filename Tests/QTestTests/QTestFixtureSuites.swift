import Foundation
import QTest
import XCTest

/// Runs the hardware-behaviour regression suites in `fixtures/qtest/<suite>/`
/// against nicsim's models: every `NAME.qtest` script's transcript must
/// equal `NAME.out` line for line. With NICSIM_QTEST_REGENERATE=1 in the
/// environment the transcripts are written instead (review the diff!).
enum QTestFixtureSuites {
    static var root: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/qtest")
    }

    static func scripts(in suite: String) throws -> [URL] {
        let dir = root.appendingPathComponent(suite)
        return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "qtest" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Runs every script of `suite`; reports each mismatch with the first
    /// differing line. Returns how many scripts ran.
    @discardableResult
    static func check(suite: String, minimumScripts: Int, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let urls = try scripts(in: suite)
        XCTAssertGreaterThanOrEqual(urls.count, minimumScripts, "suite \(suite) has too few scripts", file: file, line: line)
        let regenerate = ProcessInfo.processInfo.environment["NICSIM_QTEST_REGENERATE"] == "1"
        for url in urls {
            let name = "\(suite)/\(url.lastPathComponent)"
            let script = try QTestScript(text: String(contentsOf: url, encoding: .utf8))
            let transcript = try QTestScriptRunner().run(script)
            let expectedURL = url.deletingPathExtension().appendingPathExtension("out")
            let text = transcript.joined(separator: "\n") + "\n"
            if regenerate {
                try text.write(to: expectedURL, atomically: true, encoding: .utf8)
                continue
            }
            guard let expectedText = try? String(contentsOf: expectedURL, encoding: .utf8) else {
                XCTFail("\(name): no expected transcript \(expectedURL.lastPathComponent)", file: file, line: line)
                continue
            }
            let expected = expectedText.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            if transcript != expected {
                let i = (0..<min(transcript.count, expected.count)).first { transcript[$0] != expected[$0] } ?? min(transcript.count, expected.count)
                let got = i < transcript.count ? transcript[i] : "(end)"
                let want = i < expected.count ? expected[i] : "(end)"
                let context = transcript[..<i].last { $0.hasPrefix("> ") } ?? "(start)"
                XCTFail("\(name) line \(i + 1) after '\(context)': got '\(got)', expected '\(want)'", file: file, line: line)
            }
        }
        return urls.count
    }
}

final class QTestBoardSuiteTests: XCTestCase {
    /// The pc machine layout (host bridge, PIIX3 with its reset values and
    /// PIRQ routing) and the qtest memory commands, as the scripts record them.
    func testBoardSuite() throws {
        try QTestFixtureSuites.check(suite: "board", minimumScripts: 3)
    }
}

final class QTestNE2000SuiteTests: XCTestCase {
    /// RTL8029 (ne2k_pci): identity, PROM, transmit, receive filters, ring wrap and full ring.
    func testNE2000PCISuite() throws {
        try QTestFixtureSuites.check(suite: "ne2k_pci", minimumScripts: 8)
    }

    /// NE2000 on ISA at 300h/IRQ 9: PROM and receive with its interrupt.
    func testNE2000ISASuite() throws {
        try QTestFixtureSuites.check(suite: "ne2k_isa", minimumScripts: 2)
    }
}

final class QTestRTL8139SuiteTests: XCTestCase {
    /// RTL8139C+: identity and EEPROM, classic transmit and receive, filters,
    /// ring wrap and overflow, C+ descriptor rings, interrupts.
    func testRTL8139Suite() throws {
        try QTestFixtureSuites.check(suite: "rtl8139", minimumScripts: 14)
    }
}

final class QTestVirtioNetSuiteTests: XCTestCase {
    /// virtio-net legacy and modern set-up, receive and transmit through the queues.
    func testVirtioNetSuite() throws {
        try QTestFixtureSuites.check(suite: "virtio-net-pci", minimumScripts: 8)
    }
}

final class QTestDeviationCatalogTests: XCTestCase {
    /// Every `# deviation: ID` in a script names a `### ID` entry of
    /// docs/deviations.md, so no difference from QEMU goes unexplained.
    func testEveryAnnotatedDeviationIsDocumented() throws {
        let doc = try String(contentsOf: QTestFixtureSuites.root.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/deviations.md"), encoding: .utf8)
        let documented = Set(doc.split(separator: "\n").filter { $0.hasPrefix("### ") }.map { String($0.dropFirst(4)) })
        var used = 0
        let suites = try FileManager.default.contentsOfDirectory(atPath: QTestFixtureSuites.root.path).filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: QTestFixtureSuites.root.appendingPathComponent(name).path, isDirectory: &isDirectory)
                && isDirectory.boolValue
        }
        XCTAssertGreaterThanOrEqual(suites.count, 5)
        for suite in suites {
            for url in try QTestFixtureSuites.scripts(in: suite) {
                let script = try QTestScript(text: String(contentsOf: url, encoding: .utf8))
                for step in script.steps {
                    guard let tags = step.deviation else { continue }
                    for id in tags.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                        used += 1
                        XCTAssertTrue(documented.contains(id), "\(suite)/\(url.lastPathComponent):\(step.lineNumber) names \(id), not in docs/deviations.md")
                    }
                }
            }
        }
        XCTAssertGreaterThan(used, 0)
    }
}
