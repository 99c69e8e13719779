/// Text from a peer (a TFTP file name or ERROR message, a DHCP boot file,
/// a name from a configuration file a server sent) made safe for a
/// terminal or a log line: one line, no escape sequences, valid UTF-8.
///
/// C0 controls, DEL and C1 controls become `\xNN` (`\n`, `\r`, `\t` keep
/// their short forms), the bidirectional overrides and isolates (U+202A-
/// U+202E, U+2066-U+2069, which reorder what a reader sees) become
/// `\u{NNNN}`, a byte that is not part of valid UTF-8 becomes `\xNN`, and
/// a backslash becomes `\\`, so every escape reads back unambiguously.
/// Everything else, non-ASCII letters included, is kept.
public enum TerminalSafe {
    /// `text` with control characters and bidirectional overrides escaped.
    public static func escaping(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars { append(scalar, to: &out) }
        return out
    }

    /// `bytes` as UTF-8, each byte outside a valid sequence escaped as
    /// `\xNN`, and the result escaped as `escaping(_:)` does.
    public static func escaping<Bytes: Collection>(bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let b = Array(bytes)
        var out = ""
        out.reserveCapacity(b.count + 8)
        var i = 0
        while i < b.count {
            let length = sequenceLength(b[i])
            if length > 0, i + length <= b.count,
               let s = String(validating: b[i..<(i + length)], as: UTF8.self), let scalar = s.unicodeScalars.first {
                append(scalar, to: &out)
                i += length
            } else {
                out += hex(b[i])
                i += 1
            }
        }
        return out
    }

    private static func needsEscape(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7F...0x9F).contains(s.value) || s == "\\"
            || (0x202A...0x202E).contains(s.value) || (0x2066...0x2069).contains(s.value)
    }

    private static func append(_ s: Unicode.Scalar, to out: inout String) {
        switch s {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\\": out += "\\\\"
        case _ where s.value < 0x20 || (0x7F...0x9F).contains(s.value):
            out += hex(UInt8(s.value))
        case _ where needsEscape(s):
            out += "\\u{" + String(s.value, radix: 16, uppercase: true) + "}"
        default:
            out.unicodeScalars.append(s)
        }
    }

    /// Bytes in the UTF-8 sequence a lead byte starts, 0 for a byte that
    /// cannot start one.
    private static func sequenceLength(_ lead: UInt8) -> Int {
        switch lead {
        case 0x00...0x7F: 1
        case 0xC2...0xDF: 2
        case 0xE0...0xEF: 3
        case 0xF0...0xF4: 4
        default: 0
        }
    }

    private static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".unicodeScalars)
        var s = "\\x"
        s.unicodeScalars.append(digits[Int(b >> 4)])
        s.unicodeScalars.append(digits[Int(b & 0xF)])
        return s
    }
}
