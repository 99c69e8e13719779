import NICCatalogue
import NICCore

/// The QEMU command-line options `nicsim qtest` understands, so one
/// harness can launch either program with the same arguments.
///
/// QEMU options take one dash (two are accepted too) and a separate value
/// word. Devices and netdevs are comma-separated `key=value` lists after a
/// driver or backend name, as QEMU writes them.
public struct QEMUOptions: Equatable, Sendable {
    /// One `-device DRIVER,...`.
    public struct Device: Equatable, Sendable {
        /// A `-device` driver: the QEMU name of a card in nicsim's catalogue.
        public struct Driver: RawRepresentable, Hashable, Sendable, CaseIterable {
            public let rawValue: String

            public init?(rawValue: String) {
                guard NICCatalogue.all.contains(where: { $0.qemuName == rawValue }) else { return nil }
                self.rawValue = rawValue
            }

            private init(known: String) { rawValue = known }

            public static let rtl8139 = Driver(known: NICCatalogue.rtl8139.qemuName)
            public static let ne2kPCI = Driver(known: NICCatalogue.ne2kPCI.qemuName)
            public static let ne2kISA = Driver(known: NICCatalogue.ne2kISA.qemuName)
            public static let virtioNetPCI = Driver(known: NICCatalogue.virtioNetPCI.qemuName)

            /// Every card in the catalogue, in its order.
            public static var allCases: [Driver] { NICCatalogue.all.map { Driver(known: $0.qemuName) } }

            /// The card's catalogue entry.
            public var entry: NICCatalogueEntry? { NICCatalogue.entry(named: rawValue) }
            /// The option keys the card takes (`mac=` aside, parsed here for every card).
            func accepts(_ key: String) -> Bool { entry?.options.contains(key) ?? false }
            var isPCI: Bool { entry?.bus == .pci }
        }
        public var driver: Driver
        public var id: String?
        public var netdev: String?
        /// `addr=SLOT[.FN]` (hex, as QEMU reads it).
        public var address: (slot: UInt8, function: UInt8)?
        public var mac: MACAddress?
        public var disableLegacy: Bool?
        public var disableModern: Bool?
        /// ISA only: `iobase=` (default 0x300) and `irq=` (default 9).
        public var ioBase: UInt16 = 0x300
        public var irq: Int = 9

        public static func == (a: Device, b: Device) -> Bool {
            a.driver == b.driver && a.id == b.id && a.netdev == b.netdev
                && a.address?.slot == b.address?.slot && a.address?.function == b.address?.function
                && a.mac == b.mac && a.disableLegacy == b.disableLegacy && a.disableModern == b.disableModern
                && a.ioBase == b.ioBase && a.irq == b.irq
        }
    }

    /// One `-netdev TYPE,id=ID,...`.
    public enum Netdev: Equatable, Sendable {
        /// `socket,fd=N`: an already-connected socket passed in by the
        /// harness (a stream socket carries QEMU's 4-byte length framing,
        /// a datagram socket one frame per datagram).
        case socketFD(Int32)
        /// `stream,addr.type=unix,addr.path=PATH[,server=on|off]`
        case streamUnix(path: String, server: Bool)
        /// `stream,addr.type=inet,addr.host=HOST,addr.port=PORT[,server=on|off]`
        case streamInet(host: String, port: UInt16, server: Bool)
    }

    /// Where the qtest protocol is spoken.
    public enum Channel: Equatable, Sendable {
        case stdio
        /// `unix:PATH` connects to PATH; `unix:PATH,server=on` listens there.
        case unix(path: String, server: Bool)
    }

    public var devices: [Device] = []
    public var netdevs: [String: Netdev] = [:]
    /// Guest RAM in bytes (`-m`, QEMU's default 128 MiB).
    public var memorySize: Int = 128 << 20
    public var channel: Channel = .stdio
    /// Options accepted for compatibility and ignored, in order.
    public var ignored: [String] = []

    public init() {}
}

/// A command line nicsim can't act on, with the one line that says why.
public struct QEMUOptionsError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension QEMUOptions {
    /// Options that take a value word and mean nothing to nicsim's board.
    static let ignoredWithValue: Set<String> = ["machine", "M", "display", "monitor", "serial", "bios", "qtest-log", "accel", "vga", "name", "L"]
    /// Options without a value that mean nothing to nicsim's board.
    static let ignoredFlags: Set<String> = ["nodefaults", "nographic", "no-reboot", "no-shutdown", "enable-kvm"]

    /// Parses the raw arguments after `qtest`.
    public static func parse(_ arguments: [String]) throws(QEMUOptionsError) -> QEMUOptions {
        var options = QEMUOptions()
        var i = 0
        while i < arguments.count {
            let raw = arguments[i]
            guard raw.hasPrefix("-"), raw.count > 1 else {
                throw QEMUOptionsError("\(raw): expected an option such as -device or -netdev")
            }
            let name = String(raw.drop { $0 == "-" })
            i += 1
            if ignoredFlags.contains(name) {
                options.ignored.append(raw)
                continue
            }
            guard i < arguments.count else { throw QEMUOptionsError("\(raw) needs a value") }
            let value = arguments[i]
            i += 1
            switch name {
            case "device": options.devices.append(try parseDevice(value))
            case "netdev":
                let (id, netdev) = try parseNetdev(value)
                guard options.netdevs[id] == nil else { throw QEMUOptionsError("-netdev \(value): duplicate id '\(id)'") }
                options.netdevs[id] = netdev
            case "m": options.memorySize = try parseMemorySize(value)
            case "qtest": options.channel = try parseChannel(value)
            default:
                guard ignoredWithValue.contains(name) else { throw QEMUOptionsError("\(raw): option not supported by nicsim qtest") }
                options.ignored.append("\(raw) \(value)")
            }
        }
        var bound: Set<String> = []
        for d in options.devices {
            guard let n = d.netdev else { continue }
            guard options.netdevs[n] != nil else {
                throw QEMUOptionsError("-device \(d.driver.rawValue): netdev '\(n)' not found")
            }
            guard bound.insert(n).inserted else {
                throw QEMUOptionsError("-device \(d.driver.rawValue): netdev '\(n)' is already used by another device")
            }
        }
        return options
    }

    /// Splits `a,b=c,d=e` into a head and key/value pairs (`,,` escapes a comma).
    static func keyValues(_ text: String) -> (head: String, pairs: [(String, String)]) {
        var fields: [String] = []
        var current = ""
        var chars = Array(text)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "," {
                if chars.first == "," { current.append(","); chars = chars.dropFirst(); continue }
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        fields.append(current)
        var pairs: [(String, String)] = []
        var head = ""
        for (n, f) in fields.enumerated() {
            if let eq = f.firstIndex(of: "=") {
                pairs.append((String(f[..<eq]), String(f[f.index(after: eq)...])))
            } else if n == 0 {
                head = f
            } else {
                pairs.append((f, "on"))
            }
        }
        return (head, pairs)
    }

    static func parseBool(_ value: String, _ context: String) throws(QEMUOptionsError) -> Bool {
        switch value {
        case "on", "yes", "true": return true
        case "off", "no", "false": return false
        default: throw QEMUOptionsError("\(context): '\(value)' is not on or off")
        }
    }

    static func parseDevice(_ text: String) throws(QEMUOptionsError) -> Device {
        let (head, pairs) = keyValues(text)
        var driverName = head
        var rest = pairs
        if driverName.isEmpty, let d = pairs.first(where: { $0.0 == "driver" }) {
            driverName = d.1
            rest = pairs.filter { $0.0 != "driver" }
        }
        guard let driver = Device.Driver(rawValue: driverName) else {
            let known = Device.Driver.allCases.map(\.rawValue).joined(separator: ", ")
            throw QEMUOptionsError("-device \(driverName): unknown device; nicsim has \(known)")
        }
        var d = Device(driver: driver)
        let context = "-device \(driverName)"
        for (key, value) in rest {
            switch key {
            case "id": d.id = value
            case "netdev": d.netdev = value
            case "mac":
                guard let m = MACAddress(value) else { throw QEMUOptionsError("\(context): mac '\(value)' is not aa:bb:cc:dd:ee:ff") }
                d.mac = m
            case "addr" where driver.isPCI:
                d.address = try parsePCIAddress(value, context)
            case "disable-legacy" where driver.accepts(key):
                d.disableLegacy = try parseBool(value, context)
            case "disable-modern" where driver.accepts(key):
                d.disableModern = try parseBool(value, context)
            case "iobase" where driver.accepts(key):
                guard let v = QTestNumber.parseUnsigned(value[...]), v <= 0xFFE0 else { throw QEMUOptionsError("\(context): bad iobase '\(value)'") }
                d.ioBase = UInt16(v)
            case "irq" where driver.accepts(key):
                guard let v = QTestNumber.parseUnsigned(value[...]), v < 16 else { throw QEMUOptionsError("\(context): bad irq '\(value)'") }
                d.irq = Int(v)
            case "romfile", "bootindex", "rombar", "multifunction":
                continue  // accepted: nicsim's qtest board runs no firmware
            default:
                throw QEMUOptionsError("\(context): property '\(key)' not supported")
            }
        }
        return d
    }

    /// `SLOT[.FN]`, hexadecimal as QEMU reads `addr=`.
    static func parsePCIAddress(_ text: String, _ context: String) throws(QEMUOptionsError) -> (slot: UInt8, function: UInt8) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let slot = UInt8(parts[0].hasPrefix("0x") ? parts[0].dropFirst(2) : parts[0], radix: 16), slot < 32 else {
            throw QEMUOptionsError("\(context): addr '\(text)' is not SLOT[.FN]")
        }
        var function: UInt8 = 0
        if parts.count == 2 {
            guard let f = UInt8(parts[1], radix: 16), f < 8 else { throw QEMUOptionsError("\(context): addr '\(text)' is not SLOT[.FN]") }
            function = f
        }
        return (slot, function)
    }

    static func parseNetdev(_ text: String) throws(QEMUOptionsError) -> (String, Netdev) {
        let (type, pairs) = keyValues(text)
        var values: [String: String] = [:]
        for (k, v) in pairs { values[k] = v }
        guard let id = values["id"], !id.isEmpty else { throw QEMUOptionsError("-netdev \(text): needs id=") }
        let context = "-netdev \(type),id=\(id)"
        switch type {
        case "socket":
            guard let fdText = values["fd"] else {
                throw QEMUOptionsError("\(context): nicsim supports -netdev socket only with fd=N (use -netdev stream to connect)")
            }
            guard let fd = Int32(fdText), fd >= 0 else { throw QEMUOptionsError("\(context): fd '\(fdText)' is not a descriptor number") }
            return (id, .socketFD(fd))
        case "stream":
            let server = try values["server"].map { v throws(QEMUOptionsError) in try parseBool(v, context) } ?? false
            switch values["addr.type"] {
            case "unix":
                guard let path = values["addr.path"], !path.isEmpty else { throw QEMUOptionsError("\(context): needs addr.path=") }
                return (id, .streamUnix(path: path, server: server))
            case "inet":
                guard let host = values["addr.host"], let portText = values["addr.port"], let port = UInt16(portText) else {
                    throw QEMUOptionsError("\(context): needs addr.host= and addr.port=")
                }
                return (id, .streamInet(host: host, port: port, server: server))
            default:
                throw QEMUOptionsError("\(context): needs addr.type=unix or addr.type=inet")
            }
        default:
            throw QEMUOptionsError("-netdev \(type): backend not supported; use socket,fd=N or stream")
        }
    }

    /// Largest `-m`: nicsim's board keeps RAM in one block from 0, and the
    /// pc machine's PCI hole starts at 3.5 GiB, so RAM stays below 3 GiB.
    static let maxMemory = 3 << 30

    /// `-m 128`, `-m 128M`, `-m 1G`, `-m size=128M` (a bare number is MiB).
    static func parseMemorySize(_ text: String) throws(QEMUOptionsError) -> Int {
        var t = Substring(text)
        if t.hasPrefix("size=") { t = t.dropFirst(5) }
        if let comma = t.firstIndex(of: ",") { t = t[..<comma] }
        var shift = 20
        if let last = t.last, last.isLetter {
            switch last.uppercased() {
            case "K": shift = 10
            case "M": shift = 20
            case "G": shift = 30
            case "B": shift = 0
            default: throw QEMUOptionsError("-m \(text): unknown size suffix")
            }
            t = t.dropLast()
        }
        guard let n = Int(t), n > 0, n <= maxMemory >> shift, n << shift >= 1 << 20 else {
            throw QEMUOptionsError("-m \(text): nicsim's qtest board takes 1 MiB to 3 GiB of RAM")
        }
        let bytes = n << shift
        return bytes
    }

    static func parseChannel(_ text: String) throws(QEMUOptionsError) -> Channel {
        if text == "stdio" { return .stdio }
        if text.hasPrefix("unix:") {
            let (path, pairs) = keyValues(String(text.dropFirst(5)))
            var server = false
            for (k, v) in pairs {
                switch k {
                case "server": server = try parseBool(v, "-qtest \(text)")
                case "wait", "nowait": continue
                default: throw QEMUOptionsError("-qtest \(text): option '\(k)' not supported")
                }
            }
            guard !path.isEmpty else { throw QEMUOptionsError("-qtest \(text): needs a path") }
            return .unix(path: path, server: server)
        }
        throw QEMUOptionsError("-qtest \(text): nicsim speaks qtest on stdio or unix:PATH")
    }
}
