import NICCore
@testable import Wire

/// Runs `body` over `bytes` as a raw buffer.
func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try bytes.withUnsafeBytes(body)
}

/// Bytes of a frame buffer, copied (tests only).
func contents(_ buffer: FrameBuffer) -> [UInt8] { Array(buffer.bytes) }

let clientMAC = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
let serverMAC = MACAddress(0x02, 0x00, 0x00, 0x00, 0x00, 0x01)
