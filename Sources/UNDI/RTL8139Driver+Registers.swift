import Board
import NICCore

/// The RTL8139C+ registers and bits the driver uses, from the datasheet.
/// (The driver knows the card only from its datasheet, never from the
/// model's code.)
enum RTL8139Reg {
    static let idr0 = 0x00
    static let mar0 = 0x08
    static let tsd0 = 0x10
    static let tsad0 = 0x20
    static let tnpds = 0x20
    static let rbstart = 0x30
    static let cr = 0x37
    static let capr = 0x38
    static let cbr = 0x3A
    static let imr = 0x3C
    static let isr = 0x3E
    static let tcr = 0x40
    static let rcr = 0x44
    static let mpc = 0x4C
    static let cr9346 = 0x50
    static let msr = 0x58
    static let tppoll = 0xD9
    static let rms = 0xDA
    static let cpcr = 0xE0
    static let rdsar = 0xE4

    // CR
    static let crRST: UInt8 = 0x10
    static let crRE: UInt8 = 0x08
    static let crTE: UInt8 = 0x04
    static let crBUFE: UInt8 = 0x01
    // ISR / IMR
    static let isrROK: UInt16 = 0x0001
    static let isrRER: UInt16 = 0x0002
    static let isrTOK: UInt16 = 0x0004
    static let isrTER: UInt16 = 0x0008
    static let isrRXOVW: UInt16 = 0x0010
    static let isrLinkChg: UInt16 = 0x0020
    static let isrFOVW: UInt16 = 0x0040
    static let isrSERR: UInt16 = 0x8000
    static let interruptCauses: UInt16 = isrROK | isrRER | isrTOK | isrTER | isrRXOVW | isrLinkChg | isrFOVW | isrSERR
    // TSD
    static let tsdOWN: UInt32 = 1 << 13
    static let tsdTOK: UInt32 = 1 << 15
    static let tsdTABT: UInt32 = 1 << 30
    /// ERTXTH: start sending after 256 bytes are in the FIFO (8 x 32).
    static let tsdEarlyThreshold: UInt32 = 8 << 16
    // TCR
    static let tcrMXDMAMask: UInt32 = 0x7 << 8
    static let tcrMXDMA1024: UInt32 = 0x6 << 8
    static let tcrIFG96: UInt32 = 0x3 << 24
    // RCR
    static let rcrAAP: UInt32 = 1 << 0
    static let rcrAPM: UInt32 = 1 << 1
    static let rcrAM: UInt32 = 1 << 2
    static let rcrAB: UInt32 = 1 << 3
    static let rcr9356: UInt32 = 1 << 6
    static let rcrWRAP: UInt32 = 1 << 7
    static let rcrMXDMAUnlimited: UInt32 = 0x7 << 8
    static let rcrRBLEN32K: UInt32 = 0x2 << 11
    static let rcrRXFTHNone: UInt32 = 0x7 << 13
    // RX header
    static let rxROK: UInt32 = 0x0001
    static let rxCRC: UInt32 = 0x0004
    // 9346CR
    static let eeProgram: UInt8 = 0x80
    static let eeConfigWrite: UInt8 = 0xC0
    static let eeCS: UInt8 = 0x08
    static let eeSK: UInt8 = 0x04
    static let eeDI: UInt8 = 0x02
    static let eeDO: UInt8 = 0x01
    // MSR
    static let msrLINKB: UInt8 = 0x04
    // TPPoll
    static let tppollNPQ: UInt8 = 0x40
    // CPCR
    static let cpcrTxEnable: UInt16 = 1 << 0
    static let cpcrRxEnable: UInt16 = 1 << 1
    static let cpcrMULRW: UInt16 = 1 << 3
    static let cpcrRxVLAN: UInt16 = 1 << 6
    // C+ descriptors
    static let descOWN: UInt32 = 1 << 31
    static let descEOR: UInt32 = 1 << 30
    static let descFS: UInt32 = 1 << 29
    static let descLS: UInt32 = 1 << 28
    static let descRxSizeMask: UInt32 = 0x1FFF
}

/// How the driver reaches the register window: MMIO through BAR1 (as iPXE
/// does) or port I/O through BAR0 (as 8139too can).
enum RTL8139Window {
    case mmio(UInt64)
    case io(UInt16)
}

extension RTL8139Driver {
    func r8(_ o: Int) -> UInt8 {
        switch window {
        case .mmio(let b): bus.readb(b + UInt64(o))
        case .io(let p): bus.inb(p &+ UInt16(o))
        }
    }

    func r16(_ o: Int) -> UInt16 {
        switch window {
        case .mmio(let b): bus.readw(b + UInt64(o))
        case .io(let p): bus.inw(p &+ UInt16(o))
        }
    }

    func r32(_ o: Int) -> UInt32 {
        switch window {
        case .mmio(let b): bus.readl(b + UInt64(o))
        case .io(let p): bus.inl(p &+ UInt16(o))
        }
    }

    func w8(_ o: Int, _ v: UInt8) {
        switch window {
        case .mmio(let b): bus.writeb(b + UInt64(o), v)
        case .io(let p): bus.outb(p &+ UInt16(o), v)
        }
    }

    func w16(_ o: Int, _ v: UInt16) {
        switch window {
        case .mmio(let b): bus.writew(b + UInt64(o), v)
        case .io(let p): bus.outw(p &+ UInt16(o), v)
        }
    }

    func w32(_ o: Int, _ v: UInt32) {
        switch window {
        case .mmio(let b): bus.writel(b + UInt64(o), v)
        case .io(let p): bus.outl(p &+ UInt16(o), v)
        }
    }
}
