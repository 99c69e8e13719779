/// Numbers the way QEMU's qtest server reads them: C `strtoul`/`strtoull`
/// with base 0 (`0x` hex, a leading `0` octal, otherwise decimal), leading
/// white space and an optional sign allowed, the whole word consumed.
/// A minus sign negates modulo 2^64, as `strtoul` does. No digits, trailing
/// characters or overflow are errors (QEMU's `qemu_strtou64` refuses them).
enum QTestNumber {
    static func parseUnsigned(_ word: Substring) -> UInt64? {
        var s = word.utf8[...]
        while let c = s.first, c == 0x20 || (0x09...0x0D).contains(c) { s = s.dropFirst() }
        var negative = false
        if let c = s.first, c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
            negative = c == UInt8(ascii: "-")
            s = s.dropFirst()
        }
        var radix: UInt64 = 10
        if s.starts(with: "0x".utf8) || s.starts(with: "0X".utf8) {
            // "0x" with no hex digit after it is the number 0 followed by
            // garbage, which the whole-word rule refuses.
            let rest = s.dropFirst(2)
            guard let first = rest.first, digit(first, radix: 16) != nil else { return nil }
            radix = 16
            s = rest
        } else if s.first == UInt8(ascii: "0") {
            radix = 8
        }
        guard !s.isEmpty else { return nil }
        var value: UInt64 = 0
        for c in s {
            guard let d = digit(c, radix: radix) else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: radix)
            let (a, o2) = m.addingReportingOverflow(d)
            guard !o1, !o2 else { return nil }
            value = a
        }
        return negative ? 0 &- value : value
    }

    /// `strtoll` base 0 into a signed 64-bit value (for clock_step/clock_set).
    static func parseSigned(_ word: Substring) -> Int64? {
        var body = word.drop { $0 == " " || $0 == "\t" }
        var negative = false
        if let c = body.first, c == "+" || c == "-" {
            negative = c == "-"
            body = body.dropFirst()
        }
        guard let first = body.first, first != "+", first != "-", let magnitude = parseUnsigned(body) else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    private static func digit(_ c: UInt8, radix: UInt64) -> UInt64? {
        let d: UInt64
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt64(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt64(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt64(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
        return d < radix ? d : nil
    }
}
