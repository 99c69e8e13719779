/// The PXE sub-options carried in DHCP option 43 for a PXEClient
/// (PXE 2.1 specification, table 2-1).
public struct PXEVendorOptions: Hashable, Sendable {
    /// Sub-option codes.
    public enum Code: UInt8, Sendable {
        /// PXE_DISCOVERY_CONTROL: bit 0 no broadcast discovery, bit 1 no
        /// multicast discovery, bit 2 only servers in PXE_BOOT_SERVERS,
        /// bit 3 download the boot file named in `file` directly.
        case discoveryControl = 6
        /// PXE_BOOT_SERVERS: per type, a count and that many IPv4 addresses.
        case bootServers = 8
        /// PXE_BOOT_MENU: per item, a type, a description length and text.
        case bootMenu = 9
        /// PXE_MENU_PROMPT: timeout in seconds, then the prompt text.
        case menuPrompt = 10
        /// PXE_BOOT_ITEM: the chosen server type and layer.
        case bootItem = 71
    }

    public struct BootServer: Hashable, Sendable {
        public var type: UInt16
        public var addresses: [IPv4Address]
        public init(type: UInt16, addresses: [IPv4Address]) { self.type = type; self.addresses = addresses }
    }

    public struct MenuItem: Hashable, Sendable {
        public var type: UInt16
        public var description: String
        public init(type: UInt16, description: String) { self.type = type; self.description = description }
    }

    public struct MenuPrompt: Hashable, Sendable {
        public var timeout: UInt8
        public var prompt: String
        public init(timeout: UInt8, prompt: String) { self.timeout = timeout; self.prompt = prompt }
    }

    public struct BootItem: Hashable, Sendable {
        public var type: UInt16
        public var layer: UInt16
        public init(type: UInt16, layer: UInt16) { self.type = type; self.layer = layer }
    }

    public var discoveryControl: UInt8?
    public var bootServers: [BootServer] = []
    public var bootMenu: [MenuItem] = []
    public var menuPrompt: MenuPrompt?
    public var bootItem: BootItem?
    /// Sub-options nicsim doesn't interpret, kept in order.
    public var other: [DHCPOption] = []

    public init() {}

    /// Decodes the value of option 43. Malformed sub-options are refused.
    public init(decoding v: [UInt8]) throws(WireError) {
        var i = 0
        while i < v.count {
            let code = v[i]
            if code == 0 { i += 1; continue }
            if code == 255 { break }
            guard i + 1 < v.count else { throw .truncated }
            let n = Int(v[i + 1])
            guard i + 2 + n <= v.count else { throw .truncated }
            let body = Array(v[(i + 2)..<(i + 2 + n)])
            i += 2 + n
            switch Code(rawValue: code) {
            case .discoveryControl:
                guard n == 1 else { throw .malformed }
                discoveryControl = body[0]
            case .bootServers:
                var j = 0
                while j < n {
                    guard j + 3 <= n else { throw .malformed }
                    let type = UInt16(body[j]) << 8 | UInt16(body[j + 1])
                    let count = Int(body[j + 2])
                    guard j + 3 + 4 * count <= n else { throw .malformed }
                    var addresses: [IPv4Address] = []
                    for k in 0..<count {
                        let at = j + 3 + 4 * k
                        if let a = IPv4Address(bytes: body[at..<(at + 4)]) { addresses.append(a) }
                    }
                    bootServers.append(BootServer(type: type, addresses: addresses))
                    j += 3 + 4 * count
                }
            case .bootMenu:
                var j = 0
                while j < n {
                    guard j + 3 <= n else { throw .malformed }
                    let type = UInt16(body[j]) << 8 | UInt16(body[j + 1])
                    let length = Int(body[j + 2])
                    guard j + 3 + length <= n else { throw .malformed }
                    bootMenu.append(MenuItem(type: type, description: String(decoding: body[(j + 3)..<(j + 3 + length)], as: UTF8.self)))
                    j += 3 + length
                }
            case .menuPrompt:
                guard n >= 1 else { throw .malformed }
                menuPrompt = MenuPrompt(timeout: body[0], prompt: String(decoding: body[1...], as: UTF8.self))
            case .bootItem:
                guard n == 4 else { throw .malformed }
                bootItem = BootItem(type: UInt16(body[0]) << 8 | UInt16(body[1]), layer: UInt16(body[2]) << 8 | UInt16(body[3]))
            case nil:
                other.append(DHCPOption(DHCPOptionCode(code), body))
            }
        }
    }

    /// The value of option 43: the sub-options present, then an end tag.
    /// Lists that don't fit a sub-option's 255 bytes are cut at the last
    /// whole entry.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        func put(_ code: UInt8, _ body: [UInt8]) {
            out.append(code)
            out.append(UInt8(body.count))
            out += body
        }
        if let discoveryControl { put(Code.discoveryControl.rawValue, [discoveryControl]) }
        if !bootServers.isEmpty {
            var body: [UInt8] = []
            for s in bootServers {
                let entry = Self.be16(s.type) + [UInt8(min(s.addresses.count, 63))] + s.addresses.prefix(63).flatMap(\.bytes)
                guard body.count + entry.count <= 255 else { break }
                body += entry
            }
            put(Code.bootServers.rawValue, body)
        }
        if !bootMenu.isEmpty {
            var body: [UInt8] = []
            for item in bootMenu {
                let text = Array(item.description.utf8.prefix(252))
                let entry = Self.be16(item.type) + [UInt8(text.count)] + text
                guard body.count + entry.count <= 255 else { break }
                body += entry
            }
            put(Code.bootMenu.rawValue, body)
        }
        if let menuPrompt { put(Code.menuPrompt.rawValue, [menuPrompt.timeout] + Array(menuPrompt.prompt.utf8.prefix(254))) }
        if let bootItem { put(Code.bootItem.rawValue, Self.be16(bootItem.type) + Self.be16(bootItem.layer)) }
        for o in other { put(o.code.rawValue, Array(o.data.prefix(255))) }
        out.append(255)
        return out
    }

    private static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(truncatingIfNeeded: v)] }
}
