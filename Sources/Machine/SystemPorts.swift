import NICCore

/// Port 80h: the POST code latch. Firmware writes progress codes here;
/// the machine keeps the last one for diagnostics.
final class POSTCodePort: RegisterBlock {
    let size: UInt64 = 1
    @exclusivity(unchecked)
    private(set) var last: UInt8 = 0
    func read(offset: UInt64, width: AccessWidth) -> UInt64 { UInt64(last) }
    func write(offset: UInt64, width: AccessWidth, value: UInt64) { last = UInt8(truncatingIfNeeded: value) }
}

/// Port 92h: system control port A ("fast A20"). Bit 1 reads back as
/// written; the address line is always enabled on this machine.
final class SystemControlPortA: RegisterBlock {
    let size: UInt64 = 1
    @exclusivity(unchecked)
    private var bits: UInt8 = 0x02
    func read(offset: UInt64, width: AccessWidth) -> UInt64 { UInt64(bits | 0x02) }
    func write(offset: UInt64, width: AccessWidth, value: UInt64) { bits = UInt8(truncatingIfNeeded: value) & 0x02 }
}

/// Ports 60h/64h: an 8042 keyboard controller with no keyboard: the
/// status register says "input buffer empty, output buffer empty" so A20
/// and keyboard probes finish; commands are accepted and ignored.
final class KeyboardControllerPort: RegisterBlock {
    let size: UInt64 = 1
    let isStatus: Bool
    init(isStatus: Bool) { self.isStatus = isStatus }
    func read(offset: UInt64, width: AccessWidth) -> UInt64 { isStatus ? 0x1C : 0x00 }
    func write(offset: UInt64, width: AccessWidth, value: UInt64) {}
}
