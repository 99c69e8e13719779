import NICCore
import UNDI

/// How an NBP finds the PXE API, for an x86 host to hand over.
extension PXEAPI {
    /// The answer to INT 1Ah with AX=5650h (the PXE installation check):
    /// AX=564Eh ("VN"), carry clear, ES:BX pointing at PXENV+.
    public struct InstallationCheck: Sendable, Equatable {
        public var ax: UInt16
        public var es: UInt16
        public var bx: UInt16
        public var carry: Bool
    }

    public func installationCheck() -> InstallationCheck {
        let pxenv = layout.pxenvAddress
        return InstallationCheck(ax: 0x564E, es: pxenv.segment, bx: pxenv.offset, carry: false)
    }

    /// The machine state a ROM leaves for the NBP at 0000:7C00: ES:BX at
    /// PXENV+, and on the stack (at `stack`, which becomes SS:SP) the far
    /// return into the ROM followed by the far pointer to !PXE at SS:SP+4.
    public func prepareNBPEntry(stack: RealModeAddress, returnAddress: RealModeAddress = .null) throws(DMAError) -> (es: UInt16, bx: UInt16) {
        try memory.writeU32(stack.linear, returnAddress.packed)
        try memory.writeU32(stack.advanced(by: 4).linear, layout.bangPXEAddress.packed)
        let pxenv = layout.pxenvAddress
        return (pxenv.segment, pxenv.offset)
    }
}
