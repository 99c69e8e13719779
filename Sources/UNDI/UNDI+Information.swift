import Board
import NICCore

/// GET_STATISTICS counts (s_PXENV_UNDI_GET_STATISTICS).
public struct UNDIStatistics: Sendable, Equatable {
    public var transmitGoodFrames: UInt32
    public var receiveGoodFrames: UInt32
    public var receiveCRCErrors: UInt32
    public var receiveResourceErrors: UInt32
}

/// GET_INFORMATION (s_PXENV_UNDI_GET_INFORMATION).
public struct UNDIInformation: Sendable, Equatable {
    public var baseIO: UInt16
    public var interruptNumber: UInt16
    /// MaxTranUnit: the largest payload after the media header (1500).
    public var maxTransmissionUnit: UInt16
    /// HwType: ETHER_TYPE (1).
    public var hardwareType: UInt16
    public var hardwareAddressLength: UInt16
    public var currentAddress: MACAddress
    public var permanentAddress: MACAddress
    public var romSegment: UInt16
    public var receiveBufferCount: UInt16
    public var transmitBufferCount: UInt16
}

/// GET_IFACE_INFO service flags (NDIS 2.0 MAC service-specific characteristics).
public struct UNDIServiceFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// SUPPORTED_BROADCAST
    public static let broadcast = UNDIServiceFlags(rawValue: 0x0001)
    /// SUPPORTED_MULTICAST
    public static let multicast = UNDIServiceFlags(rawValue: 0x0002)
    /// SUPPORTED_GROUP
    public static let group = UNDIServiceFlags(rawValue: 0x0004)
    /// SUPPORTED_PROMISCUOUS
    public static let promiscuous = UNDIServiceFlags(rawValue: 0x0008)
    /// SUPPORTED_SET_STATION_ADDRESS
    public static let setStationAddress = UNDIServiceFlags(rawValue: 0x0010)
    /// SUPPORTED_DIAGNOSTICS
    public static let diagnostics = UNDIServiceFlags(rawValue: 0x0040)
    /// SUPPORTED_RESET
    public static let reset = UNDIServiceFlags(rawValue: 0x0400)
    /// SUPPORTED_OPEN_CLOSE
    public static let openClose = UNDIServiceFlags(rawValue: 0x0800)
    /// SUPPORTED_IRQ
    public static let irq = UNDIServiceFlags(rawValue: 0x1000)
}

/// GET_IFACE_INFO (s_PXENV_UNDI_GET_IFACE_INFO).
public struct UNDIInterfaceInfo: Sendable, Equatable {
    /// IfaceType: NDIS 2.0's name for the medium; Ethernet is "DIX+802.3".
    public var interfaceType: String
    public var linkSpeed: UInt32
    public var serviceFlags: UNDIServiceFlags
}

/// GET_NIC_TYPE (s_PXENV_UNDI_GET_NIC_TYPE): PCI_NIC with its IDs and
/// bus:dev.fn, or PnP_NIC for an ISA card.
public enum UNDINICType: Sendable, Equatable {
    case pci(vendor: UInt16, device: UInt16, baseClass: UInt8, subClass: UInt8, programmingInterface: UInt8,
             revision: UInt8, busDevFunc: UInt16, subsystemVendor: UInt16, subsystemDevice: UInt16)
    case pnp(eisaDeviceID: UInt32, baseClass: UInt8, subClass: UInt8, programmingInterface: UInt8, cardSelectNumber: UInt16)

    /// NicType: PCI_NIC (2) or PnP_NIC (3).
    public var nicType: UInt8 {
        switch self {
        case .pci: 2
        case .pnp: 3
        }
    }
}

extension UNDIServiceFlags: Equatable {}

/// The query opcodes: valid from STARTUP on (the card is probed).
extension UNDI {
    /// PXENV_UNDI_GET_INFORMATION (0x000C)
    public func information() throws(PXEStatus) -> UNDIInformation {
        guard phase >= .startedUp else { throw .undiInvalidState }
        let info = driver.info
        return UNDIInformation(
            baseIO: info.ioBase, interruptNumber: UInt16(info.irq),
            maxTransmissionUnit: UInt16(clamping: driver.maxFrameSize - UNDI.mediaHeaderLength),
            hardwareType: 1, hardwareAddressLength: 6,
            currentAddress: driver.stationAddress, permanentAddress: driver.permanentAddress,
            romSegment: romSegment, receiveBufferCount: 1, transmitBufferCount: 1)
    }

    /// PXENV_UNDI_GET_STATISTICS (0x000D)
    public func statistics() throws(PXEStatus) -> UNDIStatistics {
        guard phase >= .startedUp else { throw .undiInvalidState }
        let s = driver.statistics
        return UNDIStatistics(
            transmitGoodFrames: UInt32(truncatingIfNeeded: s.transmitted),
            receiveGoodFrames: UInt32(truncatingIfNeeded: s.received),
            receiveCRCErrors: UInt32(truncatingIfNeeded: s.receiveCRCErrors),
            receiveResourceErrors: UInt32(truncatingIfNeeded: s.receiveResourceErrors))
    }

    /// PXENV_UNDI_GET_MCAST_ADDRESS (0x0011): the Ethernet group address of
    /// an IPv4 multicast address (RFC 1112: 01:00:5e and the low 23 bits).
    public func multicastAddress(forIPv4 address: UInt32) throws(PXEStatus) -> MACAddress {
        guard phase >= .startedUp else { throw .undiInvalidState }
        guard address >> 28 == 0xE else { throw .undiInvalidParameter }
        return MACAddress(rawValue: 0x01_00_5E_00_00_00 | UInt64(address & 0x7F_FFFF))
    }

    /// PXENV_UNDI_GET_NIC_TYPE (0x0012)
    public func nicType() throws(PXEStatus) -> UNDINICType {
        guard phase >= .startedUp else { throw .undiInvalidState }
        let info = driver.info
        switch info.bus {
        case .pci(let address):
            return .pci(vendor: info.vendorID, device: info.deviceID,
                        baseClass: UInt8(truncatingIfNeeded: info.classCode >> 16),
                        subClass: UInt8(truncatingIfNeeded: info.classCode >> 8),
                        programmingInterface: UInt8(truncatingIfNeeded: info.classCode),
                        revision: info.revision, busDevFunc: address.bdf,
                        subsystemVendor: info.subsystemVendorID, subsystemDevice: info.subsystemID)
        case .isa:
            // An ISA NE2000 has no PnP ID of its own; report the generic
            // "NE2000 compatible" EISA ID PNP80D6 and no card select number.
            return .pnp(eisaDeviceID: 0xD680_D041,
                        baseClass: UInt8(truncatingIfNeeded: info.classCode >> 16),
                        subClass: UInt8(truncatingIfNeeded: info.classCode >> 8),
                        programmingInterface: UInt8(truncatingIfNeeded: info.classCode),
                        cardSelectNumber: 0xFFFF)
        }
    }

    /// PXENV_UNDI_GET_IFACE_INFO (0x0013)
    public func interfaceInfo() throws(PXEStatus) -> UNDIInterfaceInfo {
        guard phase >= .startedUp else { throw .undiInvalidState }
        var flags: UNDIServiceFlags = [.broadcast, .multicast, .promiscuous, .setStationAddress, .diagnostics, .reset, .openClose]
        if driver.info.irq != 0 { flags.insert(.irq) }
        return UNDIInterfaceInfo(interfaceType: "DIX+802.3", linkSpeed: linkSpeed, serviceFlags: flags)
    }
}
