import NICCatalogue
import NICCore

/// The cards a fleet is made of: one model, or a weighted mix such as
/// `rtl8139:50,virtio-net:30,ne2000:20` (weights are relative).
public struct FleetModelMix: Sendable, Equatable, CustomStringConvertible {
    /// Catalogue names and weights, in the order given.
    public let entries: [(name: String, weight: Int)]

    public static func == (a: FleetModelMix, b: FleetModelMix) -> Bool {
        a.entries.map(\.name) == b.entries.map(\.name) && a.entries.map(\.weight) == b.entries.map(\.weight)
    }

    /// Parses `model` or `model:weight,model:weight,...`; every model must be
    /// a PCI card of the catalogue. Nil with a reason when it is not.
    public static func parse(_ text: String) -> Result<FleetModelMix, FleetError> {
        var entries: [(String, Int)] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 1 || fields.count == 2 else { return .failure(.invalid("--model: '\(part)' is not model or model:weight")) }
            let name = String(fields[0])
            guard let entry = NICCatalogue.entry(named: name), entry.bus == .pci else {
                let known = NICCatalogue.all.filter { $0.bus == .pci }.map(\.name).joined(separator: ", ")
                return .failure(.invalid("--model: unknown PCI card '\(name)' (known: \(known))"))
            }
            var weight = 1
            if fields.count == 2 {
                guard let w = Int(fields[1]), (1...1_000_000).contains(w) else {
                    return .failure(.invalid("--model: weight '\(fields[1])' must be 1...1000000"))
                }
                weight = w
            }
            entries.append((entry.name, weight))
        }
        guard !entries.isEmpty else { return .failure(.invalid("--model: no model given")) }
        return .success(FleetModelMix(entries: entries))
    }

    init(entries: [(name: String, weight: Int)]) { self.entries = entries }

    /// One model alone.
    public init(single name: String) { entries = [(name, 1)] }

    /// The model a draw in 0..<totalWeight falls on.
    func model(forDraw draw: UInt64) -> String {
        let total = UInt64(entries.reduce(0) { $0 + $1.weight })
        var d = draw % max(total, 1)
        for e in entries {
            if d < UInt64(e.weight) { return e.name }
            d -= UInt64(e.weight)
        }
        return entries[0].name
    }

    public var description: String {
        entries.count == 1 ? entries[0].name : entries.map { "\($0.name):\($0.weight)" }.joined(separator: ",")
    }
}

/// Who client `index` of a fleet is: its card, MAC, UUID and start time.
/// A pure function of the plan's seed and the index, so any slice of the
/// index range (a shard) builds exactly the clients the whole fleet has.
public struct FleetClientIdentity: Sendable, Equatable {
    public var index: Int
    public var model: String
    public var mac: MACAddress
    /// The SMBIOS UUID sent in DHCP option 97.
    public var uuid: [UInt8]
    /// Power-on time, ns of virtual time after the fleet starts.
    public var start: UInt64

    /// 8-4-4-4-12 hex digits.
    public var uuidString: String {
        let hex = uuid.map { b in String(b, radix: 16).count == 1 ? "0" + String(b, radix: 16) : String(b, radix: 16) }.joined()
        let c = Array(hex)
        return [c[0..<8], c[8..<12], c[12..<16], c[16..<20], c[20..<32]].map { String($0) }.joined(separator: "-")
    }
}

/// Which part of a fleet one process simulates: shard `index` of `count`
/// (0-based), the contiguous index range, so a contiguous MAC range.
public struct FleetShard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public static let whole = FleetShard(uncheckedIndex: 0, count: 1)

    init(uncheckedIndex: Int, count: Int) {
        index = uncheckedIndex
        self.count = count
    }

    /// Shard `index` of `count`; nil unless 0 <= index < count <= 65536.
    public init?(index: Int, count: Int) {
        guard count >= 1, count <= 65536, index >= 0, index < count else { return nil }
        self.index = index
        self.count = count
    }

    /// Parses `I/N` (I from 0).
    public init?(_ text: String) {
        let f = text.split(separator: "/", omittingEmptySubsequences: false)
        guard f.count == 2, let i = Int(f[0]), let n = Int(f[1]) else { return nil }
        self.init(index: i, count: n)
    }

    /// The client indices of this shard in a fleet of `clients`: the
    /// `index`-th of `count` near-equal contiguous slices.
    public func range(of clients: Int) -> Range<Int> {
        let lo = clients * index / count
        let hi = clients * (index + 1) / count
        return lo..<hi
    }

    public var description: String { "\(index)/\(count)" }
}

/// A fleet: how many clients, on which cards, from which seed, started
/// within what spread, and the MAC the first one has.
public struct FleetPlan: Sendable {
    public var clients: Int
    public var seed: UInt64
    public var mix: FleetModelMix
    /// Client i has MAC `macBase + i`.
    public var macBase: MACAddress
    /// Clients power on at seeded times in [0, spread) ns.
    public var spread: UInt64

    public init(clients: Int, seed: UInt64, mix: FleetModelMix, macBase: MACAddress? = nil, spread: UInt64) {
        self.clients = clients
        self.seed = seed
        self.mix = mix
        self.macBase = macBase ?? Self.defaultMACBase(seed: seed)
        self.spread = spread
    }

    /// 52:54:00 (QEMU's prefix) then a byte from the seed and two zero
    /// bytes, so 65536 clients fit before the prefix byte changes.
    public static func defaultMACBase(seed: UInt64) -> MACAddress {
        let b = UInt8(truncatingIfNeeded: FleetHash.mix(seed, 0x4D41_4342) >> 56)
        return MACAddress(0x52, 0x54, 0x00, b, 0x00, 0x00)
    }

    /// Largest fleet: the MAC range must not leave the base's 24-bit
    /// device part, and the embedded server's pool is a /16.
    public static let maximumClients = 60_000

    /// Whether `clients` MACs from `macBase` stay within its OUI.
    public var macRangeFits: Bool {
        (macBase.rawValue & 0xFF_FFFF) + UInt64(clients) <= 0x100_0000
    }

    /// Client `index`'s identity.
    public func identity(_ index: Int) -> FleetClientIdentity {
        let i = UInt64(index)
        let mac = MACAddress(rawValue: (macBase.rawValue & 0xFFFF_FF00_0000) | ((macBase.rawValue &+ i) & 0xFF_FFFF))
        var uuid: [UInt8] = []
        uuid.reserveCapacity(16)
        for word in [FleetHash.mix(seed, i &* 4 &+ 1), FleetHash.mix(seed, i &* 4 &+ 2)] {
            for s in stride(from: 56, through: 0, by: -8) { uuid.append(UInt8(truncatingIfNeeded: word >> UInt64(s))) }
        }
        // RFC 4122 version 4, variant 1: a random UUID, as a machine has one.
        uuid[6] = uuid[6] & 0x0F | 0x40
        uuid[8] = uuid[8] & 0x3F | 0x80
        let start = spread == 0 ? 0 : FleetHash.mix(seed, i &* 4 &+ 3) % spread
        let model = mix.model(forDraw: FleetHash.mix(seed, i &* 4))
        return FleetClientIdentity(index: index, model: model, mac: mac, uuid: uuid, start: start)
    }
}

/// SplitMix64's finaliser over (seed, key): the per-client draws, a pure
/// function of both, independent of how many clients are built or in what order.
enum FleetHash {
    static func mix(_ seed: UInt64, _ key: UInt64) -> UInt64 {
        var z = seed &+ (key &+ 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Why a fleet could not be set up or merged.
public enum FleetError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let s): s
        }
    }
}
