import NICCore

/// A card's options as QEMU writes them after `-device DRIVER,`:
/// `key=value` pairs separated by commas (`,,` is a literal comma, a bare
/// `key` means `key=on`).
///
/// Parsing only splits the text; each catalogue entry says which keys it
/// takes and reads them with the typed accessors, so an unknown key or a
/// bad value ends in one line naming it.
public struct NICOptions: Sendable, Equatable {
    /// The pairs in the order written.
    public private(set) var pairs: [(key: String, value: String)]

    public static func == (a: NICOptions, b: NICOptions) -> Bool {
        a.pairs.elementsEqual(b.pairs) { $0.key == $1.key && $0.value == $1.value }
    }

    public init(pairs: [(key: String, value: String)] = []) {
        self.pairs = pairs
    }

    /// Splits `mac=52:54:00:12:34:56,disable-legacy=on`; empty text is no options.
    public init(parsing text: String) throws(NICCatalogueError) {
        var fields: [String] = []
        var current = ""
        var chars = Substring(text)
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "," {
                if chars.first == "," {
                    current.append(",")
                    chars = chars.dropFirst()
                    continue
                }
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        fields.append(current)
        var pairs: [(key: String, value: String)] = []
        for field in fields where !field.isEmpty {
            if let eq = field.firstIndex(of: "=") {
                let key = String(field[..<eq])
                guard !key.isEmpty else { throw NICCatalogueError("option '\(field)' has no name") }
                pairs.append((key, String(field[field.index(after: eq)...])))
            } else {
                pairs.append((field, "on"))
            }
        }
        self.pairs = pairs
    }

    /// The last value given for `key`, as QEMU takes the last of repeated properties.
    public func value(_ key: String) -> String? {
        pairs.last { $0.key == key }?.value
    }

    /// Throws for the first key not in `known`.
    public func check(known: [String], model: String) throws(NICCatalogueError) {
        for (key, _) in pairs where !known.contains(key) {
            let accepted = known.isEmpty ? "none" : known.joined(separator: ", ")
            throw NICCatalogueError("\(model): unknown option '\(key)' (accepted: \(accepted))")
        }
    }

    /// `on`/`off` (also `yes`/`no`, `true`/`false`, `1`/`0`), as QEMU's bool properties.
    public func bool(_ key: String) throws(NICCatalogueError) -> Bool? {
        guard let v = value(key) else { return nil }
        switch v.lowercased() {
        case "on", "yes", "true", "1": return true
        case "off", "no", "false", "0": return false
        default: throw NICCatalogueError("\(key)=\(v): expected on or off")
        }
    }

    /// A decimal or `0x` hexadecimal integer within `range`.
    public func integer(_ key: String, in range: ClosedRange<Int>) throws(NICCatalogueError) -> Int? {
        guard let v = value(key) else { return nil }
        let parsed: Int? = v.lowercased().hasPrefix("0x") ? Int(v.dropFirst(2), radix: 16) : Int(v)
        guard let n = parsed, range.contains(n) else {
            throw NICCatalogueError("\(key)=\(v): expected an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    /// `aa:bb:cc:dd:ee:ff`.
    public func mac(_ key: String) throws(NICCatalogueError) -> MACAddress? {
        guard let v = value(key) else { return nil }
        guard let mac = MACAddress(v) else { throw NICCatalogueError("\(key)=\(v): expected a MAC address such as 52:54:00:12:34:56") }
        return mac
    }
}

/// A model name or option the catalogue can't act on, with the one line that says why.
/// The names and values it quotes come from the caller (a C string, a
/// command line), so control characters in them are escaped: the reason
/// stays one line.
public struct NICCatalogueError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = TerminalSafe.escaping(description) }
}
