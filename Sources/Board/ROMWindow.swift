import NICCore

/// A read-only window onto an expansion ROM image, decoded by a function's
/// expansion ROM BAR. Bytes past the image read as 0xFF; writes are dropped.
final class ROMWindow: RegisterBlock {
    let image: [UInt8]
    let size: UInt64

    init(image: [UInt8], size: UInt64) {
        self.image = image
        self.size = size
    }

    func read(offset: UInt64, width: AccessWidth) -> UInt64 {
        splitRead(offset: offset, width: width) { o in o < UInt64(image.count) ? image[Int(o)] : 0xFF }
    }

    func write(offset: UInt64, width: AccessWidth, value: UInt64) {}
}
