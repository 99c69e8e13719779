import NICCore
import Wire

/// The addresses the DHCP server hands out and who holds them (RFC 2131
/// section 4.3.1): a client keeps its address across requests, an offered
/// address is reserved briefly, a declined one is set aside.
public struct LeasePool: Sendable {
    public struct Lease: Sendable, Equatable {
        public var mac: MACAddress
        public var ip: IPv4Address
        /// Virtual-clock deadline in ns.
        public var expires: UInt64
        /// False while only offered.
        public var bound: Bool
    }

    /// The largest pool nicsim manages (a /16), so every scan is bounded.
    public static let maximumSize = 65536

    public let range: ClosedRange<IPv4Address>
    public private(set) var leases: [MACAddress: Lease] = [:]
    private var holders: [IPv4Address: MACAddress] = [:]
    /// Declined addresses, with when they may be used again.
    private var declined: [IPv4Address: UInt64] = [:]

    public init(range: ClosedRange<IPv4Address>) {
        let upper = IPv4Address(rawValue: min(range.upperBound.rawValue, range.lowerBound.rawValue &+ UInt32(Self.maximumSize - 1)))
        self.range = range.lowerBound...max(range.lowerBound, upper)
    }

    public func lease(for mac: MACAddress) -> Lease? { leases[mac] }

    /// True when `ip` is in the pool and not held by another live lease.
    public func isAvailable(_ ip: IPv4Address, for mac: MACAddress, now: UInt64) -> Bool {
        guard range.contains(ip) else { return false }
        if let until = declined[ip], until > now { return false }
        guard let holder = holders[ip], holder != mac, let other = leases[holder] else { return true }
        return other.expires <= now
    }

    /// The address to offer: the client's current one, else the one it
    /// asked for if free, else the lowest free one. Nil when the pool is full.
    public func choose(for mac: MACAddress, requested: IPv4Address?, now: UInt64) -> IPv4Address? {
        if let current = leases[mac], isAvailable(current.ip, for: mac, now: now) { return current.ip }
        if let requested, isAvailable(requested, for: mac, now: now) { return requested }
        var v = range.lowerBound.rawValue
        while v <= range.upperBound.rawValue {
            let ip = IPv4Address(rawValue: v)
            if isAvailable(ip, for: mac, now: now) { return ip }
            if v == UInt32.max { break }
            v += 1
        }
        return nil
    }

    /// Records an offer (reserved until `expires`) or a binding.
    public mutating func hold(_ ip: IPv4Address, for mac: MACAddress, until expires: UInt64, bound: Bool) {
        if let old = leases[mac], old.ip != ip { holders[old.ip] = nil }
        if let other = holders[ip], other != mac { leases[other] = nil }
        leases[mac] = Lease(mac: mac, ip: ip, expires: expires, bound: bound)
        holders[ip] = mac
    }

    public mutating func release(_ mac: MACAddress) {
        guard let old = leases.removeValue(forKey: mac) else { return }
        holders[old.ip] = nil
    }

    /// The client found `ip` in use (DHCPDECLINE): keep it out of the pool a while.
    public mutating func decline(_ ip: IPv4Address, by mac: MACAddress, until: UInt64) {
        release(mac)
        declined[ip] = until
    }
}
