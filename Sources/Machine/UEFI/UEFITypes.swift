import NICCore

/// A GUID as UEFI lays it out in memory (16 bytes, the first three fields little-endian).
public struct EFIGUID: Hashable, Sendable, CustomStringConvertible {
    public var low: UInt64
    public var high: UInt64

    public init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// From the textual form's fields, e.g. 0x5B1B31A1, 0x9562, 0x11D2, [0x8E, 0x3F, ...].
    public init(_ a: UInt32, _ b: UInt16, _ c: UInt16, _ d: [UInt8]) {
        low = UInt64(a) | UInt64(b) << 32 | UInt64(c) << 48
        var h: UInt64 = 0
        for (i, byte) in d.prefix(8).enumerated() { h |= UInt64(byte) << (8 * UInt64(i)) }
        high = h
    }

    public var description: String {
        let a = UInt32(truncatingIfNeeded: low), b = UInt16(truncatingIfNeeded: low >> 32), c = UInt16(truncatingIfNeeded: low >> 48)
        let d = (0..<8).map { UInt8(truncatingIfNeeded: high >> (8 * UInt64($0))) }
        func hex<T: BinaryInteger>(_ v: T, _ n: Int) -> String {
            let s = String(v, radix: 16, uppercase: true)
            return String(repeating: "0", count: max(n - s.count, 0)) + s
        }
        return "\(hex(a, 8))-\(hex(b, 4))-\(hex(c, 4))-\(d[0..<2].map { hex($0, 2) }.joined())-\(d[2...].map { hex($0, 2) }.joined())"
    }

    static let loadedImage = EFIGUID(0x5B1B_31A1, 0x9562, 0x11D2, [0x8E, 0x3F, 0x00, 0xA0, 0xC9, 0x69, 0x72, 0x3B])
    static let loadedImageDevicePath = EFIGUID(0xBC62_157E, 0x3E33, 0x4FEC, [0x99, 0x20, 0x2D, 0x3B, 0x36, 0xD7, 0x50, 0xDF])
    static let devicePath = EFIGUID(0x0957_6E91, 0x6D3F, 0x11D2, [0x8E, 0x39, 0x00, 0xA0, 0xC9, 0x69, 0x72, 0x3B])
    static let simpleTextOutput = EFIGUID(0x3875_74C7, 0x0B4A, 0x11D2, [0x8E, 0x3F, 0x00, 0xA0, 0xC9, 0x69, 0x72, 0x3B])
    static let simpleTextInput = EFIGUID(0x3874_77C1, 0x69C7, 0x11D2, [0x8E, 0x39, 0x00, 0xA0, 0xC9, 0x69, 0x72, 0x3B])
    static let simpleNetwork = EFIGUID(0xA198_32B9, 0xAC25, 0x11D3, [0x9A, 0x2D, 0x00, 0x90, 0x27, 0x3F, 0xC1, 0x4D])
    static let driverBinding = EFIGUID(0x18A0_31AB, 0xB443, 0x4D1A, [0xA5, 0xC0, 0x0C, 0x09, 0x26, 0x1E, 0x9F, 0x71])
    static let pciRootBridgeIO = EFIGUID(0x2F70_7EBB, 0x4A1A, 0x11D4, [0x9A, 0x38, 0x00, 0x90, 0x27, 0x3F, 0xC1, 0x4D])
    static let pciIO = EFIGUID(0x4CF5_B200, 0x68B8, 0x4CA5, [0x9E, 0xEC, 0xB2, 0x3E, 0x3F, 0x50, 0x02, 0x9A])
}

/// EFI_STATUS values (UEFI 2.x appendix D): errors have the top bit set.
enum EFIStatus {
    static let success: UInt64 = 0
    static let error: UInt64 = 1 << 63
    static let loadError = error | 1
    static let invalidParameter = error | 2
    static let unsupported = error | 3
    static let badBufferSize = error | 4
    static let bufferTooSmall = error | 5
    static let notReady = error | 6
    static let deviceError = error | 7
    static let outOfResources = error | 9
    static let notFound = error | 14
    static let accessDenied = error | 15
    static let timeout = error | 18
    static let notStarted = error | 19
    static let alreadyStarted = error | 20
    static let aborted = error | 21
}

/// Task priority levels.
enum EFITPL {
    static let application: UInt64 = 4
    static let callback: UInt64 = 8
    static let notify: UInt64 = 16
    static let highLevel: UInt64 = 31
}

/// EFI_MEMORY_TYPE values the firmware uses.
enum EFIMemoryType: UInt32 {
    case reserved = 0, loaderCode, loaderData, bootServicesCode, bootServicesData, runtimeServicesCode,
         runtimeServicesData, conventional, unusable, acpiReclaim, acpiNVS, mmio, mmioPort, palCode, persistent
}

/// A protocol instance on a handle, and who opened it (OpenProtocol's records).
struct UEFIProtocol {
    let guid: EFIGUID
    var interface: UInt64
    var opens: [(agent: UInt64, controller: UInt64, attributes: UInt32)] = []
}

/// One handle in the handle database: its protocols in the order installed.
final class UEFIHandle {
    let address: UInt64
    var protocols: [UEFIProtocol] = []
    init(address: UInt64) { self.address = address }

    func index(of guid: EFIGUID) -> Int? { protocols.firstIndex { $0.guid == guid } }
}

/// An event (CreateEvent/CreateEventEx), with its timer on the board's clock.
final class UEFIEvent {
    let address: UInt64
    let type: UInt32
    let notifyTPL: UInt64
    let notifyFunction: UInt64
    let notifyContext: UInt64
    let group: EFIGUID?
    var signaled = false
    var timer: TimerID?
    /// A firmware event whose state comes from Swift (SNP's WaitForPacket).
    var poll: (() -> Bool)?

    static let timerType: UInt32 = 0x8000_0000
    static let notifyWait: UInt32 = 0x100
    static let notifySignal: UInt32 = 0x200
    static let exitBootServices: UInt32 = 0x201

    init(address: UInt64, type: UInt32, notifyTPL: UInt64, notifyFunction: UInt64, notifyContext: UInt64, group: EFIGUID?) {
        self.address = address
        self.type = type
        self.notifyTPL = notifyTPL
        self.notifyFunction = notifyFunction
        self.notifyContext = notifyContext
        self.group = group
    }
}

/// A variable's name and vendor GUID.
struct UEFIVariableKey: Hashable {
    let name: [UInt16]
    let vendor: EFIGUID
}

/// An image loaded by LoadImage (or by the host): where it is and how it runs.
struct UEFILoadedImage {
    let handle: UInt64
    let base: UInt64
    let pages: UInt64
    let entry: UInt64
    let isApplication: Bool
    var started = false
}
