import NICCore

/// Messages (MSI/MSI-X) that reached the local APIC window, 0xFEE00000 to
/// 0xFEEFFFFF. The board has no APIC: it counts them and tells whoever
/// listens (the Machine, qtest, a test).
public final class MessageLog {
    /// The local APIC's message window on a PC (Intel SDM 10.11.1).
    public static let apicWindow: ClosedRange<UInt64> = 0xFEE0_0000...0xFEEF_FFFF
    @exclusivity(unchecked)
    public private(set) var count = 0
    @exclusivity(unchecked)
    public private(set) var last: (address: UInt64, data: UInt32)?
    /// Called for every message to the APIC window.
    @exclusivity(unchecked)
    public var onMessage: ((_ address: UInt64, _ data: UInt32) -> Void)?

    func record(address: UInt64, data: UInt32) {
        count += 1
        last = (address, data)
        onMessage?(address, data)
    }
}

extension Board {
    /// Delivers a function's message as the PCI bus does: a DWORD write by
    /// the function as bus master (dropped while Bus Master Enable is
    /// clear). Into guest RAM when the address is RAM (QEMU's qtest
    /// harness points vectors at RAM and polls it; so does a guest that
    /// wants it); to the `messages` log in the APIC window; anything else
    /// is an unclaimed write and is dropped.
    func deliverMessage(address: UInt64, data: UInt32, busMaster: Bool) {
        guard busMaster else { return }
        if memory.contains(address: address, length: 4) {
            // In range: checked just above, so the write cannot fail.
            try? memory.writeU32(address, data)
        } else if MessageLog.apicWindow.contains(address) {
            messages.record(address: address, data: data)
        }
    }
}
