import NICCore

/// The i440FX-compatible host bridge's own function at 00:00.0 (8086:1237,
/// class 0x060000 host bridge).
public final class HostBridgeFunction: PCIFunction {
    public let config = PCIConfigSpace(identity: PCIIdentity(
        vendorID: 0x8086, deviceID: 0x1237, revisionID: 0x02, classCode: 0x06_00_00, interruptPin: 0))

    public init() {}
    public func registers(forBAR index: Int) -> RegisterBlock? { nil }
}

/// PCI configuration mechanism #1: CONFIG_ADDRESS at 0xCF8 (dword access
/// only) and CONFIG_DATA at 0xCFC-0xCFF (byte, word or dword).
///
/// CONFIG_ADDRESS: bit 31 enable, 23:16 bus, 15:11 device, 10:8 function,
/// 7:2 register. Reads of an absent function return all-ones, so probing
/// software sees vendor ID 0xFFFF.
public final class PCIHostBridge: RegisterBlock {
    public static let configAddressPort: UInt64 = 0xCF8
    public let size: UInt64 = 8
    @exclusivity(unchecked)
    public private(set) var configAddress: UInt32 = 0
    @exclusivity(unchecked)
    private var functions: [UInt16: PCIFunction] = [:]

    public init() {}

    func insert(_ function: PCIFunction, at address: PCIAddress) {
        functions[address.bdf] = function
    }

    public func function(at address: PCIAddress) -> PCIFunction? {
        functions[address.bdf]
    }

    public var addresses: [PCIAddress] {
        functions.keys.sorted().map { PCIAddress(bus: UInt8($0 >> 8), device: UInt8(($0 >> 3) & 0x1F), function: UInt8($0 & 7)) }
    }

    // MARK: Configuration cycles by address (the firmware's and tests' path)

    public func configRead(_ address: PCIAddress, offset: Int, width: AccessWidth) -> UInt32 {
        guard let f = functions[address.bdf] else { return UInt32(truncatingIfNeeded: width.mask) }
        return f.config.read(offset: offset, width: width)
    }

    public func configWrite(_ address: PCIAddress, offset: Int, width: AccessWidth, value: UInt32) {
        functions[address.bdf]?.config.write(offset: offset, width: width, value: value)
    }

    // MARK: Port I/O at 0xCF8-0xCFF

    public func read(offset: UInt64, width: AccessWidth) -> UInt64 {
        if offset < 4 {
            return offset == 0 && width == .dword ? UInt64(configAddress) : width.mask
        }
        guard let (address, register) = decode(dataOffset: offset) else { return width.mask }
        return UInt64(configRead(address, offset: register, width: width))
    }

    public func write(offset: UInt64, width: AccessWidth, value: UInt64) {
        if offset < 4 {
            if offset == 0 && width == .dword { configAddress = UInt32(truncatingIfNeeded: value) & 0x80FF_FFFC }
            return
        }
        guard let (address, register) = decode(dataOffset: offset) else { return }
        configWrite(address, offset: register, width: width, value: UInt32(truncatingIfNeeded: value))
    }

    private func decode(dataOffset: UInt64) -> (PCIAddress, Int)? {
        guard configAddress & 0x8000_0000 != 0 else { return nil }
        let a = configAddress
        let address = PCIAddress(bus: UInt8(truncatingIfNeeded: a >> 16), device: UInt8((a >> 11) & 0x1F), function: UInt8((a >> 8) & 7))
        guard address.bus == 0 else { return nil }
        return (address, Int(a & 0xFC) + Int(dataOffset - 4))
    }
}
