import NICCore
import UNDI

/// The preboot calls: START_UNDI, STOP_UNDI, START_BASE, STOP_BASE and
/// UNLOAD_STACK.
extension PXEAPI {
    /// START_UNDI: AX 2 (PCI bus:dev.fn), BX 4, DX 6, DI 8, ES 10. The
    /// registers an option ROM's init routine got; AX must name our card
    /// when it is a PCI card (0xFFFF or 0 means "any").
    func startUNDI(_ b: GuestBlock) throws(PXEStatus) {
        let ax = try b.u16(2)
        if case .pci(let address) = undi.driver.info.bus, ax != 0, ax != 0xFFFF, ax != address.bdf {
            throw .undiInvalidParameter
        }
        try check(undi.startUNDI())
    }

    /// STOP_UNDI: the UNDI must be shut down first.
    func stopUNDI(_ b: GuestBlock) throws(PXEStatus) {
        try check(undi.stopUNDI())
    }

    /// START_BASE: restarts a stopped base code (an unloaded one is gone).
    func startBase(_ b: GuestBlock) throws(PXEStatus) {
        guard baseCode.state != .unloaded else { throw .badFunction }
        baseCode.state = .running
    }

    /// STOP_BASE: ends transfers; base-code calls fail until START_BASE.
    func stopBase(_ b: GuestBlock) throws(PXEStatus) {
        guard baseCode.state != .unloaded else { throw .badFunction }
        baseCode.tftp.close()
        baseCode.udpOpen = false
        baseCode.state = .stopped
    }

    /// UNLOAD_STACK (reserved[10] at 2): removes the base code for good;
    /// the UNDI stays (an NBP stops it with STOP_UNDI).
    func unloadStack(_ b: GuestBlock) throws(PXEStatus) {
        baseCode.tftp.close()
        baseCode.udpOpen = false
        baseCode.state = .unloaded
    }
}
