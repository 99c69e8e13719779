/// A PCI base address register as the device declares it.
public enum PCIBAR: Equatable, Sendable {
    /// I/O space, `size` bytes (a power of two, at least 4).
    case io(size: UInt32)
    /// 32-bit memory space, `size` bytes (a power of two, at least 16).
    case memory32(size: UInt32, prefetchable: Bool = false)
    /// 64-bit memory space; takes this BAR slot and the next.
    case memory64(size: UInt64, prefetchable: Bool = false)

    public var size: UInt64 {
        switch self {
        case .io(let s): UInt64(s)
        case .memory32(let s, _): UInt64(s)
        case .memory64(let s, _): s
        }
    }

    public var isIO: Bool {
        if case .io = self { return true }
        return false
    }

    /// The read-only type bits in the low nibble of the BAR.
    var typeBits: UInt32 {
        switch self {
        case .io: 0x1
        case .memory32(_, let pf): pf ? 0x8 : 0x0
        case .memory64(_, let pf): 0x4 | (pf ? 0x8 : 0x0)
        }
    }
}

/// The fixed identity of a PCI function (type-0 header fields a guest can't write).
public struct PCIIdentity: Sendable, Equatable {
    public var vendorID: UInt16
    public var deviceID: UInt16
    public var revisionID: UInt8
    /// Base class, subclass and programming interface as 0xBBSSPP.
    public var classCode: UInt32
    public var subsystemVendorID: UInt16
    public var subsystemID: UInt16
    /// 0 for none, 1 to 4 for INTA# to INTD#.
    public var interruptPin: UInt8
    public var headerType: UInt8

    public init(
        vendorID: UInt16, deviceID: UInt16, revisionID: UInt8 = 0, classCode: UInt32,
        subsystemVendorID: UInt16 = 0, subsystemID: UInt16 = 0, interruptPin: UInt8 = 1,
        headerType: UInt8 = 0
    ) {
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.revisionID = revisionID
        self.classCode = classCode
        self.subsystemVendorID = subsystemVendorID
        self.subsystemID = subsystemID
        self.interruptPin = interruptPin
        self.headerType = headerType
    }
}

/// Offsets in the type-0 configuration header (PCI Local Bus Spec 3.0, 6.1).
public enum PCIConfigRegister {
    public static let vendorID = 0x00
    public static let deviceID = 0x02
    public static let command = 0x04
    public static let status = 0x06
    public static let revisionID = 0x08
    public static let classCode = 0x09
    public static let cacheLineSize = 0x0C
    public static let latencyTimer = 0x0D
    public static let headerType = 0x0E
    public static let bar0 = 0x10
    public static let subsystemVendorID = 0x2C
    public static let subsystemID = 0x2E
    public static let expansionROM = 0x30
    public static let capabilitiesPointer = 0x34
    public static let interruptLine = 0x3C
    public static let interruptPin = 0x3D
}

/// Bits of the command register (offset 0x04).
public struct PCICommand: OptionSet, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let ioSpace = PCICommand(rawValue: 1 << 0)
    public static let memorySpace = PCICommand(rawValue: 1 << 1)
    public static let busMaster = PCICommand(rawValue: 1 << 2)
    public static let parityErrorResponse = PCICommand(rawValue: 1 << 6)
    public static let serrEnable = PCICommand(rawValue: 1 << 8)
    public static let interruptDisable = PCICommand(rawValue: 1 << 10)
}

/// Bits of the status register (offset 0x06).
public struct PCIStatus: OptionSet, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let interruptStatus = PCIStatus(rawValue: 1 << 3)
    public static let capabilitiesList = PCIStatus(rawValue: 1 << 4)
    public static let masterDataParityError = PCIStatus(rawValue: 1 << 8)
    public static let signaledTargetAbort = PCIStatus(rawValue: 1 << 11)
    public static let receivedTargetAbort = PCIStatus(rawValue: 1 << 12)
    public static let receivedMasterAbort = PCIStatus(rawValue: 1 << 13)
    public static let signaledSystemError = PCIStatus(rawValue: 1 << 14)
    public static let detectedParityError = PCIStatus(rawValue: 1 << 15)
}

/// The 256-byte configuration space of one PCI function.
///
/// Every byte has a write mask (bits a guest may change) and a
/// write-1-to-clear mask; everything else is read-only, so identity fields,
/// BAR type bits and size bits can't be disturbed by a guest. The function
/// is also the INTx source: a model raises its interrupt through
/// `set(asserted:)`, which records Interrupt Status and forwards the level
/// upstream unless Interrupt Disable is set.
public final class PCIConfigSpace: InterruptLine {
    public static let size = 256

    @exclusivity(unchecked)
    var data = [UInt8](repeating: 0, count: PCIConfigSpace.size)
    @exclusivity(unchecked)
    private var writeMask = [UInt8](repeating: 0, count: PCIConfigSpace.size)
    @exclusivity(unchecked)
    private var clearMask = [UInt8](repeating: 0, count: PCIConfigSpace.size)
    @exclusivity(unchecked)
    public private(set) var identity: PCIIdentity
    /// BAR declarations by slot; the upper half of a 64-bit BAR is nil.
    @exclusivity(unchecked)
    public private(set) var bars: [PCIBAR?] = Array(repeating: nil, count: 6)
    /// Expansion ROM size in bytes, 0 if the function has none.
    @exclusivity(unchecked)
    public private(set) var expansionROMSize: UInt32 = 0
    @exclusivity(unchecked)
    private var lastCapability = 0
    @exclusivity(unchecked)
    private var nextCapabilityOffset = 0x40
    @exclusivity(unchecked)
    var interruptLevel = false

    /// Where INTx goes: set by the board that routes it.
    public var upstream: InterruptLine? {
        didSet { forwardedLevel = nil }
    }
    /// The level `upstream` last heard, so that a model recomputing its
    /// unchanged line after every register access (as each does) costs
    /// no call: INTx is a level, and telling it again changes nothing.
    @exclusivity(unchecked)
    private var forwardedLevel: Bool?
    /// Called after a write that may change what the function decodes
    /// (command register, BARs, expansion ROM BAR).
    @exclusivity(unchecked)
    public var onDecodeChange: (() -> Void)?
    /// Called after every guest write, with the offset and width, for
    /// device-specific registers in the header's device area (0x40-0xFF).
    @exclusivity(unchecked)
    public var onWrite: ((_ offset: Int, _ width: AccessWidth) -> Void)?
    /// Called before every guest read, with the offset and width, for
    /// device-specific registers whose value is produced on demand (a
    /// window onto a BAR, such as virtio's PCI configuration access
    /// capability). The device refreshes the bytes with `deviceWrite`.
    @exclusivity(unchecked)
    public var onRead: ((_ offset: Int, _ width: AccessWidth) -> Void)?

    public init(identity: PCIIdentity) {
        self.identity = identity
        putU16(PCIConfigRegister.vendorID, identity.vendorID)
        putU16(PCIConfigRegister.deviceID, identity.deviceID)
        data[PCIConfigRegister.revisionID] = identity.revisionID
        data[0x09] = UInt8(truncatingIfNeeded: identity.classCode)
        data[0x0A] = UInt8(truncatingIfNeeded: identity.classCode >> 8)
        data[0x0B] = UInt8(truncatingIfNeeded: identity.classCode >> 16)
        data[PCIConfigRegister.headerType] = identity.headerType
        putU16(PCIConfigRegister.subsystemVendorID, identity.subsystemVendorID)
        putU16(PCIConfigRegister.subsystemID, identity.subsystemID)
        data[PCIConfigRegister.interruptPin] = identity.interruptPin

        let commandMask = PCICommand([.ioSpace, .memorySpace, .busMaster, .parityErrorResponse, .serrEnable, .interruptDisable]).rawValue
        putMask(PCIConfigRegister.command, commandMask)
        let w1c = PCIStatus([.masterDataParityError, .signaledTargetAbort, .receivedTargetAbort, .receivedMasterAbort, .signaledSystemError, .detectedParityError]).rawValue
        clearMask[PCIConfigRegister.status] = UInt8(truncatingIfNeeded: w1c)
        clearMask[PCIConfigRegister.status + 1] = UInt8(truncatingIfNeeded: w1c >> 8)
        writeMask[PCIConfigRegister.cacheLineSize] = 0xFF
        writeMask[PCIConfigRegister.latencyTimer] = 0xFF
        writeMask[PCIConfigRegister.interruptLine] = 0xFF
    }

    // MARK: Device-side set-up

    /// Declares BAR `index` (0...5). A 64-bit BAR also takes `index + 1`.
    public func declareBAR(_ index: Int, _ bar: PCIBAR) {
        precondition((0..<6).contains(index), "BAR index out of range")
        let size = bar.size
        precondition(size.nonzeroBitCount == 1 && size >= (bar.isIO ? 4 : 16), "BAR size must be a power of two")
        let offset = PCIConfigRegister.bar0 + 4 * index
        bars[index] = bar
        let lowMask = UInt32(truncatingIfNeeded: ~(size - 1)) & (bar.isIO ? ~0x3 : ~0xF)
        putU32(offset, bar.typeBits)
        putMask32(offset, lowMask)
        if case .memory64 = bar {
            precondition(index < 5, "a 64-bit BAR needs two slots")
            putU32(offset + 4, 0)
            putMask32(offset + 4, UInt32(truncatingIfNeeded: ~(size - 1) >> 32))
            bars[index + 1] = nil
        }
    }

    /// Declares an expansion ROM of `size` bytes (a power of two, at least 2 KiB).
    public func declareExpansionROM(size: UInt32) {
        precondition(size.nonzeroBitCount == 1 && size >= 2048, "ROM size must be a power of two of at least 2 KiB")
        expansionROMSize = size
        putMask32(PCIConfigRegister.expansionROM, ~(size - 1) | 1)
    }

    /// Appends a capability with the given ID and body (the bytes after the
    /// ID and next-pointer bytes) and returns its offset. `writable` gives
    /// the write mask of the body bytes (default: all read-only).
    @discardableResult
    public func addCapability(id: UInt8, body: [UInt8], writable: [UInt8]? = nil) -> Int {
        let offset = nextCapabilityOffset
        let length = 2 + body.count
        precondition(offset + length <= PCIConfigSpace.size, "capabilities overflow config space")
        data[offset] = id
        data[offset + 1] = 0
        for (i, b) in body.enumerated() {
            data[offset + 2 + i] = b
            writeMask[offset + 2 + i] = writable.map { i < $0.count ? $0[i] : 0 } ?? 0
        }
        if lastCapability == 0 {
            data[PCIConfigRegister.capabilitiesPointer] = UInt8(offset)
            data[PCIConfigRegister.status] |= UInt8(PCIStatus.capabilitiesList.rawValue)
        } else {
            data[lastCapability + 1] = UInt8(offset)
        }
        lastCapability = offset
        nextCapabilityOffset = (offset + length + 3) & ~3
        return offset
    }

    /// Makes bytes of the device-specific area writable (and W1C where asked).
    public func setDeviceMask(offset: Int, writable: UInt8, writeOneToClear: UInt8 = 0) {
        precondition(offset >= 0x40 && offset < PCIConfigSpace.size)
        writeMask[offset] = writable
        clearMask[offset] = writeOneToClear
    }

    /// Device-side write that ignores the masks (for registers the device
    /// itself updates, such as capability state or error status).
    public func deviceWrite(offset: Int, byte: UInt8) {
        guard offset >= 0, offset < PCIConfigSpace.size else { return }
        data[offset] = byte
    }

    /// Records a DMA failure the way a bus master reports it: Received
    /// Master Abort in the status register.
    public func reportMasterAbort() {
        data[PCIConfigRegister.status + 1] |= UInt8(PCIStatus.receivedMasterAbort.rawValue >> 8)
    }

    // MARK: Guest access

    /// A configuration read. Accesses outside 0..<256 or crossing its end
    /// read as all-ones.
    public func read(offset: Int, width: AccessWidth) -> UInt32 {
        let w = min(width.rawValue, 4)
        guard offset >= 0, offset + w <= PCIConfigSpace.size else { return UInt32(truncatingIfNeeded: width.mask) }
        onRead?(offset, width)
        var v: UInt32 = 0
        for i in 0..<w { v |= UInt32(data[offset + i]) << (8 * UInt32(i)) }
        return v
    }

    /// A configuration write through the masks. Out-of-range writes are dropped.
    public func write(offset: Int, width: AccessWidth, value: UInt32) {
        let w = min(width.rawValue, 4)
        guard offset >= 0, offset + w <= PCIConfigSpace.size else { return }
        for i in 0..<w {
            let o = offset + i
            let b = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))
            let wm = writeMask[o]
            var nb = (data[o] & ~wm) | (b & wm)
            nb &= ~(b & clearMask[o])
            data[o] = nb
        }
        let end = offset + w
        func touches(_ lo: Int, _ hi: Int) -> Bool { offset < hi && end > lo }
        if touches(PCIConfigRegister.command, PCIConfigRegister.command + 2) {
            forwardInterrupt()
        }
        if touches(PCIConfigRegister.command, PCIConfigRegister.command + 2)
            || touches(PCIConfigRegister.bar0, PCIConfigRegister.bar0 + 24)
            || touches(PCIConfigRegister.expansionROM, PCIConfigRegister.expansionROM + 4)
        {
            onDecodeChange?()
        }
        onWrite?(offset, width)
    }

    // MARK: Decoded state

    public var command: PCICommand { PCICommand(rawValue: u16(PCIConfigRegister.command)) }
    public var status: PCIStatus { PCIStatus(rawValue: u16(PCIConfigRegister.status)) }
    public var ioSpaceEnabled: Bool { command.contains(.ioSpace) }
    public var memorySpaceEnabled: Bool { command.contains(.memorySpace) }
    public var busMasterEnabled: Bool { command.contains(.busMaster) }
    public var interruptDisabled: Bool { command.contains(.interruptDisable) }
    /// The Interrupt Line register: the IRQ number firmware wrote there.
    public var interruptLineRegister: UInt8 { data[PCIConfigRegister.interruptLine] }

    /// The base address programmed into BAR `index`, without the type bits.
    public func barAddress(_ index: Int) -> UInt64? {
        guard (0..<6).contains(index), let bar = bars[index] else { return nil }
        let raw = UInt64(u32(PCIConfigRegister.bar0 + 4 * index))
        switch bar {
        case .io: return raw & ~0x3
        case .memory32: return raw & ~0xF
        case .memory64:
            let high = UInt64(u32(PCIConfigRegister.bar0 + 4 * index + 4))
            return (high << 32) | (raw & ~0xF)
        }
    }

    /// The expansion ROM address when the ROM BAR's enable bit is set.
    public var expansionROMAddress: UInt64? {
        guard expansionROMSize > 0 else { return nil }
        let raw = u32(PCIConfigRegister.expansionROM)
        guard raw & 1 != 0 else { return nil }
        return UInt64(raw & ~(expansionROMSize - 1))
    }

    // MARK: INTx

    public func set(asserted: Bool) {
        interruptLevel = asserted
        let s = PCIConfigRegister.status
        if asserted { data[s] |= UInt8(PCIStatus.interruptStatus.rawValue) } else { data[s] &= ~UInt8(PCIStatus.interruptStatus.rawValue) }
        forwardInterrupt()
    }

    func forwardInterrupt() {
        let level = interruptLevel && !interruptDisabled
        guard level != forwardedLevel else { return }
        forwardedLevel = level
        upstream?.set(asserted: level)
    }

    // MARK: Byte helpers

    private func u16(_ o: Int) -> UInt16 { data.le16(at: o) }
    private func u32(_ o: Int) -> UInt32 { data.le32(at: o) }
    private func putU16(_ o: Int, _ v: UInt16) {
        data[o] = UInt8(truncatingIfNeeded: v)
        data[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
    }
    private func putU32(_ o: Int, _ v: UInt32) {
        putU16(o, UInt16(truncatingIfNeeded: v))
        putU16(o + 2, UInt16(truncatingIfNeeded: v >> 16))
    }
    private func putMask(_ o: Int, _ v: UInt16) {
        writeMask[o] = UInt8(truncatingIfNeeded: v)
        writeMask[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
    }
    private func putMask32(_ o: Int, _ v: UInt32) {
        putMask(o, UInt16(truncatingIfNeeded: v))
        putMask(o + 2, UInt16(truncatingIfNeeded: v >> 16))
    }
}

/// A device that sits on a PCI bus: its configuration space, the register
/// blocks behind its BARs, and its expansion ROM image if any.
public protocol PCIFunction: AnyObject {
    var config: PCIConfigSpace { get }
    /// The registers decoded by BAR `index` (nil for the upper half of a
    /// 64-bit BAR or an unused slot).
    func registers(forBAR index: Int) -> RegisterBlock?
    /// The bytes the expansion ROM BAR exposes, if any.
    var expansionROMImage: [UInt8]? { get }
}

extension PCIFunction {
    public var expansionROMImage: [UInt8]? { nil }
}
