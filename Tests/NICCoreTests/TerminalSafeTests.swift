import NICCore
import XCTest

/// Peer text escaped for a terminal: one line, no escape sequences.
final class TerminalSafeTests: XCTestCase {
    /// ESC (1Bh) starts ANSI sequences (clear screen, retitle the window);
    /// CR and LF forge log lines. Each is escaped, so one line stays one.
    func testControlCharactersAreEscaped() {
        XCTAssertEqual(TerminalSafe.escaping("a\u{1B}[2Jb\r\nc\td\u{7}"), "a\\x1B[2Jb\\r\\nc\\td\\x07")
    }

    /// DEL and the C1 controls (80h-9Fh, CSI among them at 9Bh) as well.
    func testDELAndC1ControlsAreEscaped() {
        XCTAssertEqual(TerminalSafe.escaping("x\u{7F}\u{9B}y"), "x\\x7F\\x9By")
    }

    /// Unicode 15, bidirectional overrides and isolates reorder what a
    /// reader sees; they are named instead of applied.
    func testBidiOverridesAreEscaped() {
        XCTAssertEqual(TerminalSafe.escaping("a\u{202E}b\u{2066}"), "a\\u{202E}b\\u{2066}")
    }

    /// A backslash is doubled, so an escape in the output always came from us.
    func testBackslashIsDoubled() {
        XCTAssertEqual(TerminalSafe.escaping("C:\\x1B"), "C:\\\\x1B")
    }

    /// Printable text, letters beyond ASCII included, is left alone.
    func testPrintableTextIsUnchanged() {
        XCTAssertEqual(TerminalSafe.escaping("pxelinux.cfg/01-52-54-00 grüße"), "pxelinux.cfg/01-52-54-00 grüße")
    }

    /// Bytes that are not UTF-8 (a lone continuation byte, an overlong
    /// form, a truncated sequence) become \xNN; valid sequences stay.
    func testInvalidUTF8BytesAreEscaped() {
        XCTAssertEqual(TerminalSafe.escaping(bytes: [0x61, 0x80, 0xC0, 0xAF, 0xC3, 0xA9, 0xE2, 0x82]),
                       "a\\x80\\xC0\\xAF\u{E9}\\xE2\\x82")
        XCTAssertEqual(TerminalSafe.escaping(bytes: Array("ok\n".utf8)), "ok\\n")
    }
}
