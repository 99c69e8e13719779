import Board
import NICCore

/// A register window that remembers the last write and answers reads with
/// a marker, so tests can see which block an access reached.
final class ScratchRegisters: RegisterBlock {
    let size: UInt64
    let marker: UInt64
    var lastWrite: (offset: UInt64, width: AccessWidth, value: UInt64)?

    init(size: UInt64, marker: UInt64) {
        self.size = size
        self.marker = marker
    }

    func read(offset: UInt64, width: AccessWidth) -> UInt64 { (marker &+ offset) & width.mask }
    func write(offset: UInt64, width: AccessWidth, value: UInt64) { lastWrite = (offset, width, value) }
}

/// A PCI function with an I/O BAR0, a memory BAR1 and a 2 KiB expansion ROM.
final class TestFunction: PCIFunction {
    let config = PCIConfigSpace(identity: PCIIdentity(vendorID: 0x1234, deviceID: 0x5678, classCode: 0x02_00_00))
    let ioRegisters = ScratchRegisters(size: 32, marker: 0x1000)
    let memRegisters = ScratchRegisters(size: 256, marker: 0x2000)
    let expansionROMImage: [UInt8]? = [0x55, 0xAA, 0x04]

    init() {
        config.declareBAR(0, .io(size: 32))
        config.declareBAR(1, .memory32(size: 256))
        config.declareExpansionROM(size: 2048)
    }

    func registers(forBAR index: Int) -> RegisterBlock? {
        switch index {
        case 0: ioRegisters
        case 1: memRegisters
        default: nil
        }
    }
}
