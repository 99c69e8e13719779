/// A function's place on PCI bus 0: device (slot) 0-31 and function 0-7.
public struct PCIAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let bus: UInt8
    public let device: UInt8
    public let function: UInt8

    public init(bus: UInt8 = 0, device: UInt8, function: UInt8 = 0) {
        self.bus = bus
        self.device = device & 0x1F
        self.function = function & 0x7
    }

    /// Bus, device and function as in CONFIG_ADDRESS bits 23:8.
    public var bdf: UInt16 { UInt16(bus) << 8 | UInt16(device) << 3 | UInt16(function) }

    /// `00:03.0`
    public var description: String {
        let h = { (v: UInt8, w: Int) -> String in
            let s = String(v, radix: 16)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(h(bus, 2)):\(h(device, 2)).\(function)"
    }

    public static func < (a: PCIAddress, b: PCIAddress) -> Bool { a.bdf < b.bdf }
}
