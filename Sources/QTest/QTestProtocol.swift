import NICCore

/// One command of QEMU's qtest line protocol.
///
/// A line is split on single spaces (so two spaces make an empty word, as
/// in QEMU); the first word names the command and the rest are its
/// arguments. Numbers follow `strtoul` base 0 (see `QTestNumber`).
public enum QTestCommand: Equatable, Sendable {
    /// `outb|outw|outl PORT VALUE`
    case portWrite(width: AccessWidth, port: UInt16, value: UInt64)
    /// `inb|inw|inl PORT`
    case portRead(width: AccessWidth, port: UInt16)
    /// `writeb|writew|writel|writeq ADDR VALUE`
    case memoryWrite(width: AccessWidth, address: UInt64, value: UInt64)
    /// `readb|readw|readl|readq ADDR`
    case memoryRead(width: AccessWidth, address: UInt64)
    /// `read ADDR SIZE`: the reply is the bytes in memory order, as hex.
    case read(address: UInt64, length: UInt64)
    /// `write ADDR SIZE 0xHEX`: bytes past the given data are written as 0.
    case write(address: UInt64, length: UInt64, data: [UInt8])
    /// `b64read ADDR SIZE`
    case base64Read(address: UInt64, length: UInt64)
    /// `b64write ADDR SIZE BASE64`
    case base64Write(address: UInt64, length: UInt64, data: [UInt8])
    /// `memset ADDR SIZE PATTERN`
    case memset(address: UInt64, length: UInt64, pattern: UInt8)
    /// `clock_step [NS]`: with no argument, to the next timer deadline.
    case clockStep(nanoseconds: Int64?)
    /// `clock_set NS`
    case clockSet(nanoseconds: Int64)
    /// `endianness`
    case endianness
    /// `irq_intercept_in PATH`
    case irqInterceptIn(path: String)
    /// `irq_intercept_out PATH`
    case irqInterceptOut(path: String)
    /// `set_irq_in PATH NAME NUM LEVEL`
    case setIRQIn(path: String, name: String, line: Int64, level: Int64)
}

/// Why a line is not a command. `reply` is the line the server answers.
public enum QTestParseError: Error, Equatable, Sendable {
    case unknownCommand(String)
    case missingArgument(command: String)
    case badNumber(command: String, word: String)
    case portOutOfRange(command: String, port: UInt64)
    case badData(command: String)
    case zeroLength(command: String)
    /// `write` and `b64write` with a data word shorter than three characters.
    case dataTooShort

    public var reply: String {
        switch self {
        case .unknownCommand(let c): "FAIL Unknown command '\(c)'"
        case .missingArgument(let c): "FAIL \(c): missing argument"
        case .badNumber(let c, let w): "FAIL \(c): invalid number '\(w)'"
        case .portOutOfRange(let c, let p): "FAIL \(c): port 0x\(String(p, radix: 16)) is above 0xffff"
        case .badData(let c): "FAIL \(c): invalid data"
        case .zeroLength(let c): "FAIL \(c): length must not be zero"
        case .dataTooShort: "ERR invalid argument size"
        }
    }
}

extension QTestCommand {
    /// Parses one line (without its newline; a trailing CR is ignored).
    public static func parse(_ line: Substring) throws(QTestParseError) -> QTestCommand {
        var text = line
        if text.last == "\r" { text = text.dropLast() }
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        let name = String(words.first ?? "")
        var cursor = 1

        func word() throws(QTestParseError) -> Substring {
            guard cursor < words.count else { throw .missingArgument(command: name) }
            defer { cursor += 1 }
            return words[cursor]
        }
        func unsigned() throws(QTestParseError) -> UInt64 {
            let w = try word()
            guard let v = QTestNumber.parseUnsigned(w) else { throw .badNumber(command: name, word: String(w)) }
            return v
        }
        func signed() throws(QTestParseError) -> Int64 {
            let w = try word()
            guard let v = QTestNumber.parseSigned(w) else { throw .badNumber(command: name, word: String(w)) }
            return v
        }
        func port() throws(QTestParseError) -> UInt16 {
            let p = try unsigned()
            guard p <= 0xFFFF else { throw .portOutOfRange(command: name, port: p) }
            return UInt16(p)
        }

        switch name {
        case "outb", "outw", "outl":
            let p = try port()
            return .portWrite(width: width(name.last), port: p, value: try unsigned())
        case "inb", "inw", "inl":
            return .portRead(width: width(name.last), port: try port())
        case "writeb", "writew", "writel", "writeq":
            let a = try unsigned()
            return .memoryWrite(width: width(name.last), address: a, value: try unsigned())
        case "readb", "readw", "readl", "readq":
            return .memoryRead(width: width(name.last), address: try unsigned())
        case "read", "b64read":
            let a = try unsigned()
            let n = try unsigned()
            if name == "read" {
                // QEMU refuses a zero-length read: its reply would be empty.
                guard n > 0 else { throw .zeroLength(command: name) }
                return .read(address: a, length: n)
            }
            return .base64Read(address: a, length: n)
        case "write":
            let a = try unsigned()
            let n = try unsigned()
            let hex = try word()
            guard hex.utf8.count >= 3 else { throw .dataTooShort }
            guard let data = parseHexData(hex) else { throw .badData(command: name) }
            return .write(address: a, length: n, data: data)
        case "b64write":
            let a = try unsigned()
            let n = try unsigned()
            let text = try word()
            guard text.utf8.count >= 3 else { throw .dataTooShort }
            guard let data = QTestBase64.decode(text) else { throw .badData(command: name) }
            return .base64Write(address: a, length: n, data: data)
        case "memset":
            let a = try unsigned()
            let n = try unsigned()
            return .memset(address: a, length: n, pattern: UInt8(truncatingIfNeeded: try unsigned()))
        case "clock_step":
            return .clockStep(nanoseconds: cursor < words.count ? try signed() : nil)
        case "clock_set":
            return .clockSet(nanoseconds: try signed())
        case "endianness":
            return .endianness
        case "irq_intercept_in", "irq_intercept_out":
            let path = String(try word())
            return name == "irq_intercept_in" ? .irqInterceptIn(path: path) : .irqInterceptOut(path: path)
        case "set_irq_in":
            let path = String(try word())
            let gpio = String(try word())
            let n = try signed()
            return .setIRQIn(path: path, name: gpio, line: n, level: try signed())
        default:
            throw .unknownCommand(name)
        }
    }

    private static func width(_ suffix: Character?) -> AccessWidth {
        switch suffix {
        case "b": .byte
        case "w": .word
        case "q": .qword
        default: .dword
        }
    }

    /// `0x` followed by pairs of hex digits; an odd final digit is dropped
    /// (QEMU only reads whole pairs).
    private static func parseHexData(_ word: Substring) -> [UInt8]? {
        let u = Array(word.utf8)
        guard u.count >= 2, u[0] == UInt8(ascii: "0"), u[1] | 0x20 == UInt8(ascii: "x") else { return nil }
        var out = [UInt8]()
        out.reserveCapacity((u.count - 2) / 2)
        var i = 2
        while i + 1 < u.count {
            guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        if i < u.count, nibble(u[i]) == nil { return nil }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
