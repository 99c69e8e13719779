import CNICSim
import NICCatalogue
import NICCore

// The C ABI of include/nicsim.h. Each function here is the C function its
// @_cdecl names; the header documents them. A device pointer is an
// unmanaged, retained `ABIDevice`; NULL is answered as an absent device.

/// ABI version: (major << 16) | minor, as NICSIM_API_VERSION.
public let nicsimABIVersion: UInt32 = 0 << 16 | 1

@inline(__always)
private func device(_ p: OpaquePointer?) -> ABIDevice? {
    guard let p else { return nil }
    // SAFETY: every non-NULL pointer the ABI hands out is a retained ABIDevice
    // from nicsim_create; using one after nicsim_destroy is the caller's bug.
    return Unmanaged<ABIDevice>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

/// Copies `message` into `error` as a NUL-terminated, truncated C string.
private func report(_ message: String, into error: UnsafeMutablePointer<CChar>?, size: Int) {
    guard let error, size > 0 else { return }
    var n = 0
    for byte in message.utf8 where n < size - 1 {
        error[n] = CChar(bitPattern: byte)
        n += 1
    }
    error[n] = 0
}

@_cdecl("nicsim_version")
public func nicsimVersion() -> UInt32 { nicsimABIVersion }

@_cdecl("nicsim_create")
public func nicsimCreate(
    _ model: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?, _ host: UnsafePointer<nicsim_host>?,
    _ errorOut: UnsafeMutablePointer<CChar>?, _ errorSize: Int
) -> OpaquePointer? {
    guard let model else {
        report("model is NULL", into: errorOut, size: errorSize)
        return nil
    }
    guard let host else {
        report("host is NULL", into: errorOut, size: errorSize)
        return nil
    }
    do {
        let dev = try ABIDevice(model: String(cString: model), options: options.map { String(cString: $0) } ?? "", host: host.pointee)
        report("", into: errorOut, size: errorSize)
        return OpaquePointer(Unmanaged.passRetained(dev).toOpaque())
    } catch {
        report(error.description, into: errorOut, size: errorSize)
        return nil
    }
}

@_cdecl("nicsim_destroy")
public func nicsimDestroy(_ dev: OpaquePointer?) {
    guard let dev else { return }
    Unmanaged<ABIDevice>.fromOpaque(UnsafeRawPointer(dev)).release()
}

@_cdecl("nicsim_config_read")
public func nicsimConfigRead(_ dev: OpaquePointer?, _ offset: UInt32, _ width: UInt32) -> UInt32 {
    guard let d = device(dev) else { return ABIDevice.width(width, max: 4).map { UInt32(truncatingIfNeeded: $0.mask) } ?? ~0 }
    return d.configRead(offset: offset, width: width)
}

@_cdecl("nicsim_config_write")
public func nicsimConfigWrite(_ dev: OpaquePointer?, _ offset: UInt32, _ width: UInt32, _ value: UInt32) {
    device(dev)?.configWrite(offset: offset, width: width, value: value)
}

@_cdecl("nicsim_bar_read")
public func nicsimBarRead(_ dev: OpaquePointer?, _ bar: Int32, _ offset: UInt64, _ width: UInt32) -> UInt64 {
    guard let d = device(dev) else { return ABIDevice.width(width, max: 8)?.mask ?? ~0 }
    return d.barRead(bar: bar, offset: offset, width: width)
}

@_cdecl("nicsim_bar_write")
public func nicsimBarWrite(_ dev: OpaquePointer?, _ bar: Int32, _ offset: UInt64, _ width: UInt32, _ value: UInt64) {
    device(dev)?.barWrite(bar: bar, offset: offset, width: width, value: value)
}

@_cdecl("nicsim_receive")
public func nicsimReceive(_ dev: OpaquePointer?, _ frame: UnsafeRawPointer?, _ len: Int) -> Int32 {
    guard let d = device(dev), let frame, len > 0, len <= ABIDevice.maxFrame else { return 0 }
    return d.receive(UnsafeRawBufferPointer(start: frame, count: len))
}

@_cdecl("nicsim_can_receive")
public func nicsimCanReceive(_ dev: OpaquePointer?) -> Int32 {
    device(dev)?.canReceive == true ? 1 : 0
}

@_cdecl("nicsim_set_link")
public func nicsimSetLink(_ dev: OpaquePointer?, _ up: Int32) {
    device(dev)?.setLink(up: up != 0)
}

@_cdecl("nicsim_advance")
public func nicsimAdvance(_ dev: OpaquePointer?, _ now: Int64) -> Int64 {
    device(dev)?.advance(to: now) ?? -1
}

@_cdecl("nicsim_reset")
public func nicsimReset(_ dev: OpaquePointer?) {
    device(dev)?.reset()
}

@_cdecl("nicsim_save")
public func nicsimSave(_ dev: OpaquePointer?, _ buf: UnsafeMutableRawPointer?, _ size: Int) -> Int {
    guard let snapshot = device(dev)?.saveSnapshot() else { return 0 }
    if let buf, size >= snapshot.count {
        snapshot.withUnsafeBytes { buf.copyMemory(from: $0.baseAddress!, byteCount: snapshot.count) }
    }
    return snapshot.count
}

@_cdecl("nicsim_load")
public func nicsimLoad(_ dev: OpaquePointer?, _ buf: UnsafeRawPointer?, _ size: Int) -> Int32 {
    guard let d = device(dev), let buf, size > 0 else { return -1 }
    do {
        try d.loadSnapshot(UnsafeRawBufferPointer(start: buf, count: size))
        return 0
    } catch {
        return -1
    }
}

@_cdecl("nicsim_rom_image")
public func nicsimROMImage(_ dev: OpaquePointer?, _ size: UnsafeMutablePointer<Int>?) -> UnsafeRawPointer? {
    let image = device(dev)?.romImage
    size?.pointee = image?.count ?? 0
    return image?.baseAddress
}
