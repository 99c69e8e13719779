/// The internal PHY as the 8139 maps it into its own registers (BMCR,
/// BMSR, ANAR, ANLPAR, ANER at 0x62-0x6B), with MSR and CSCR. The backend's
/// carrier drives link status; a change raises PUN/LinkChg.
extension RTL8139 {
    static let bmsrBase: UInt16 = 0x7809 | 0x0020     // 100/10 full/half, AN able, AN complete, extended
    static let bmsrLinkStatus: UInt16 = 0x0004
    static let partnerAbility: UInt16 = 0x45E1        // what a 100BASE-TX full-duplex partner advertises
    static let cscrLinkOK: UInt16 = 0x0400

    func resetPHY() {
        bmcr = 0x3100        // 100 Mbps, auto-negotiation on, full duplex
        anar = 0x05E1
        aner = 0x0001
        cscr = 0x0340
        applyLink()
    }

    func applyLink() {
        bmsr = RTL8139.bmsrBase | (linkUp ? RTL8139.bmsrLinkStatus : 0)
        anlpar = linkUp ? RTL8139.partnerAbility : 0
    }

    /// BMCR: Reset (bit 15) and Restart Auto-Negotiation (bit 9) act at
    /// once and read back 0.
    func writeBasicModeControl(_ value: UInt16) {
        if value & 0x8000 != 0 {
            resetPHY()
            return
        }
        bmcr = value & ~0x8200
        applyLink()
    }

    /// MSR (RTL8139C(+) datasheet; docs/deviations.md RTL8139-MSR): TXFCE
    /// (bit 7) as the driver wrote it; RXFCE (bit 6) when auto-negotiation
    /// has settled on full duplex with PAUSE (ANAR/ANLPAR bit 10) on both
    /// sides; Aux_Status (bit 4) 0, no auxiliary power on this board;
    /// SPEED_10 (bit 3) when BMCR forces 10 Mbps (auto-negotiation off,
    /// speed bit clear; auto-negotiation with our partner settles on 100
    /// Mbps); LINKB (bit 2) while the link is down; no pause frames are
    /// sent or received (TXPF, RXPF 0).
    var mediaStatus: UInt8 {
        let forced10 = bmcr & 0x1000 == 0 && bmcr & 0x2000 == 0
        let common = anar & anlpar
        let negotiated = linkUp && bmcr & 0x1000 != 0
        let rxFlowControl = negotiated && common & 0x0400 != 0 && common & 0x0140 != 0  // PAUSE, and 100 or 10 full duplex
        return (txFlowControl ? MediaStatusBits.txfce : 0) | (rxFlowControl ? MediaStatusBits.rxfce : 0)
            | (linkUp ? 0x00 : MediaStatusBits.linkb) | (forced10 ? MediaStatusBits.speed10 : 0x00)
    }

    /// CSCR with its link-OK bit.
    var chipStatus: UInt16 {
        (cscr & ~RTL8139.cscrLinkOK) | (linkUp ? RTL8139.cscrLinkOK : 0)
    }

    func setLink(up: Bool) {
        guard up != linkUp else { return }
        linkUp = up
        applyLink()
        raise(InterruptBits.punLinkChg)
    }
}
