/// A pxelinux configuration file (the syslinux config language, the part a
/// network boot without a keyboard uses): DEFAULT, LABEL, KERNEL/LINUX,
/// APPEND (with `initrd=`), INITRD, LOCALBOOT, PROMPT, TIMEOUT, ONTIMEOUT,
/// IPAPPEND/SYSAPPEND, and MENU DEFAULT for menu-module configs. Keywords are case-insensitive;
/// `#` starts a comment; unknown keywords are ignored, as pxelinux does.
public struct PXELinuxConfig: Sendable, Equatable {
    public struct Label: Sendable, Equatable {
        public var name: String
        public var kernel: String?
        /// APPEND as written; nil when the label has none (the global one
        /// applies), "" after `APPEND -`.
        public var append: String?
        /// INITRD lines (each may list several files, comma-separated).
        public var initrd: String?
        public var localBoot = false
        /// MENU DEFAULT inside this label.
        public var menuDefault = false
        /// IPAPPEND / SYSAPPEND bits for this label (nil: the global ones).
        public var sysAppend: Int?

        public init(name: String) { self.name = name }
    }

    /// DEFAULT: a label name, or a kernel and its options.
    public var defaultCommand: String?
    /// PROMPT 1: wait for the user at `boot:`.
    public var prompt = false
    /// TIMEOUT, in tenths of a second (0: wait forever when prompting),
    /// 0...`maximumTimeout`.
    public var timeout = 0
    /// syslinux's largest TIMEOUT: 35996 tenths of a second, just under an
    /// hour. The file comes from a server nicsim does not control; a larger
    /// value is read as this one, so the virtual clock never leaps by
    /// centuries (or overflows) at the boot prompt.
    public static let maximumTimeout = 35996
    public var onTimeout: String?
    /// APPEND before any LABEL, for labels without their own.
    public var globalAppend: String?
    /// IPAPPEND / SYSAPPEND before any LABEL.
    public var globalSysAppend = 0
    public var labels: [Label] = []

    public init() {}

    public init(parsing text: String) {
        var current: Label?
        // Bounded by the text: one pass over its lines.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            guard !line.isEmpty, line.first != "#" else { continue }
            let keywordEnd = line.firstIndex { $0 == " " || $0 == "\t" } ?? line.endIndex
            let keyword = line[..<keywordEnd].lowercased()
            let argument = String(line[keywordEnd...].drop { $0 == " " || $0 == "\t" })
                .trimmingTrailingWhitespace()
            switch keyword {
            case "default":
                defaultCommand = argument
            case "prompt":
                prompt = (Int(argument) ?? 0) != 0
            case "timeout":
                timeout = Self.tenths(argument)
            case "ontimeout":
                onTimeout = argument
            case "label":
                if let current { labels.append(current) }
                current = Label(name: argument)
            case "kernel", "linux":
                current?.kernel = argument
            case "append":
                if current != nil { current?.append = argument == "-" ? "" : argument } else { globalAppend = argument }
            case "initrd":
                current?.initrd = argument
            case "localboot":
                current?.localBoot = true
            case "ipappend", "sysappend":
                let bits = Int(argument) ?? 0
                if current != nil { current?.sysAppend = bits } else { globalSysAppend = bits }
            case "menu":
                if argument.lowercased() == "default" { current?.menuDefault = true }
            default:
                break
            }
        }
        if let current { labels.append(current) }
    }

    /// A TIMEOUT argument: a decimal count of tenths, capped at
    /// `maximumTimeout` (digits too many for an Int included); anything
    /// else, a negative number too, is 0.
    static func tenths(_ argument: String) -> Int {
        if let v = Int(argument) { return min(max(v, 0), maximumTimeout) }
        let digits = argument.utf8
        return !digits.isEmpty && digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) ? maximumTimeout : 0
    }

    public func label(named name: String) -> Label? {
        labels.first { $0.name == name } ?? labels.first { $0.name.lowercased() == name.lowercased() }
    }

    /// The entry booted when nobody presses a key: ONTIMEOUT if given, else
    /// DEFAULT; a DEFAULT naming a menu module (`*.c32`) boots the label
    /// marked MENU DEFAULT, or the first label.
    public func unattendedEntry() -> PXELinuxBootEntry? {
        let command = onTimeout ?? defaultCommand
        if let command, !command.isEmpty {
            let first = String(command.split(separator: " ", maxSplits: 1).first ?? "")
            if let l = label(named: command) ?? label(named: first) {
                return entry(for: l)
            }
            if !first.lowercased().hasSuffix(".c32") {
                let rest = command.dropFirst(first.count).drop { $0 == " " }
                return PXELinuxBootEntry(label: nil, kernel: first, commandLine: String(rest))
            }
        }
        guard let l = labels.first(where: \.menuDefault) ?? labels.first else { return nil }
        return entry(for: l)
    }

    func entry(for l: Label) -> PXELinuxBootEntry {
        if l.localBoot && l.kernel == nil { return PXELinuxBootEntry(label: l.name, kernel: nil, commandLine: "", localBoot: true) }
        var line = l.append ?? globalAppend ?? ""
        if let initrd = l.initrd, !initrd.isEmpty { line += (line.isEmpty ? "" : " ") + "initrd=" + initrd }
        var e = PXELinuxBootEntry(label: l.name, kernel: l.kernel, commandLine: line)
        e.sysAppend = l.sysAppend ?? globalSysAppend
        return e
    }
}

/// What to boot: a kernel, its command line and the initrds named there.
public struct PXELinuxBootEntry: Sendable, Equatable {
    public var label: String?
    public var kernel: String?
    /// The kernel command line, `initrd=` included (Linux ignores it).
    public var commandLine: String
    public var localBoot = false
    /// IPAPPEND / SYSAPPEND bits: 1 adds `ip=client:server:gateway:netmask`,
    /// 2 adds `BOOTIF=01-<mac>`, 4 adds `SYSUUID=<uuid>`.
    public var sysAppend = 0

    public init(label: String?, kernel: String?, commandLine: String, localBoot: Bool = false) {
        self.label = label
        self.kernel = kernel
        self.commandLine = commandLine
        self.localBoot = localBoot
    }

    /// The command line with the IPAPPEND / SYSAPPEND strings added, as
    /// pxelinux passes it to the kernel.
    public func finalCommandLine(client: String, server: String, gateway: String, netmask: String,
                                 mac: String, uuid: String?) -> String {
        var parts = commandLine.isEmpty ? [] : [commandLine]
        if sysAppend & 1 != 0 { parts.append("ip=\(client):\(server):\(gateway):\(netmask)") }
        if sysAppend & 2 != 0 { parts.append("BOOTIF=01-\(mac)") }
        if sysAppend & 4 != 0, let uuid { parts.append("SYSUUID=\(uuid)") }
        return parts.joined(separator: " ")
    }

    /// The files of the last `initrd=` on the command line (comma-separated).
    public var initrds: [String] {
        var files: [String] = []
        for word in commandLine.split(separator: " ") where word.lowercased().hasPrefix("initrd=") {
            files = word.dropFirst(7).split(separator: ",").map(String.init)
        }
        return files
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var s = Substring(self)
        while let last = s.last, last == " " || last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
