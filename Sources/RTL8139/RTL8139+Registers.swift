/// The RTL8139C+ register map: byte offsets into the 256-byte window that
/// both BAR0 (I/O) and BAR1 (MMIO) decode. Names and offsets follow the
/// RTL8139C(L)+ datasheet, section 5 ("Register Descriptions").
public enum RTL8139Register {
    /// IDR0-5: station address. The datasheet allows writes only as dwords.
    public static let idr0 = 0x00
    /// MAR0-7: 64-bit multicast hash filter.
    public static let mar0 = 0x08
    /// TSD0-3: transmit status of descriptors 0-3 (classic mode).
    /// In C+ mode 0x10-0x17 is DTCCR, the tally counter dump command.
    public static let tsd0 = 0x10
    /// DTCCR (C+): dump tally counters, 64-bit address with the Cmd bit.
    public static let dtccr = 0x10
    /// TSAD0-3: transmit start addresses of descriptors 0-3 (classic mode).
    public static let tsad0 = 0x20
    /// TNPDS (C+): 64-bit base of the normal-priority transmit ring.
    public static let tnpds = 0x20
    /// THPDS (C+): 64-bit base of the high-priority transmit ring.
    public static let thpds = 0x28
    /// RBSTART: receive buffer start (classic ring).
    public static let rbstart = 0x30
    /// ERBCR: early receive byte count.
    public static let erbcr = 0x34
    /// ERSR: early receive status.
    public static let ersr = 0x36
    /// CR: command register (RST, RE, TE, BUFE).
    public static let cr = 0x37
    /// CAPR: current address of packet read (reads and writes are offset by 16).
    public static let capr = 0x38
    /// CBR: current buffer address (the receiver's write pointer).
    public static let cbr = 0x3A
    /// IMR: interrupt mask.
    public static let imr = 0x3C
    /// ISR: interrupt status, write 1 to clear.
    public static let isr = 0x3E
    /// TCR: transmit configuration (holds the hardware version bits).
    public static let tcr = 0x40
    /// RCR: receive configuration.
    public static let rcr = 0x44
    /// TCTR: timer count, 33 MHz; any write resets it to 0.
    public static let tctr = 0x48
    /// MPC: missed packet counter (24 bits); any write clears it.
    public static let mpc = 0x4C
    /// 9346CR: EEPROM command and configuration-write unlock.
    public static let cr9346 = 0x50
    public static let config0 = 0x51
    public static let config1 = 0x52
    /// TimerInt: TimeOut is raised when TCTR reaches this value (0 = off).
    public static let timerInt = 0x54
    /// MSR: media status (link, speed, flow control).
    public static let msr = 0x58
    public static let config3 = 0x59
    public static let config4 = 0x5A
    /// HLTCLK: 'R' runs the chip clock, 'H' halts it.
    public static let hltclk = 0x5B
    /// MULINT: multiple interrupt select.
    public static let mulint = 0x5C
    /// RERID: PCI revision ID, readable from the register window.
    public static let rerid = 0x5E
    /// TSAD: transmit status of all descriptors (summary).
    public static let tsadSummary = 0x60
    /// BMCR: basic mode control (MII register 0).
    public static let bmcr = 0x62
    /// BMSR: basic mode status (MII register 1).
    public static let bmsr = 0x64
    /// ANAR: auto-negotiation advertisement (MII register 4).
    public static let anar = 0x66
    /// ANLPAR: auto-negotiation link partner ability (MII register 5).
    public static let anlpar = 0x68
    /// ANER: auto-negotiation expansion (MII register 6).
    public static let aner = 0x6A
    /// DIS: disconnect counter.
    public static let dis = 0x6C
    /// FCSC: false carrier sense counter.
    public static let fcsc = 0x6E
    /// NWAYTR: N-way test register.
    public static let nwaytr = 0x70
    /// REC: RX_ER counter.
    public static let rec = 0x72
    /// CSCR: chip status and configuration.
    public static let cscr = 0x74
    public static let config5 = 0xD8
    /// TPPoll (C+): transmit priority polling.
    public static let tppoll = 0xD9
    /// RMS: receive maximum size. Present on the RTL8169 only; on the
    /// 8139C+ it reads as zero, which is how drivers tell the chips apart.
    public static let rms = 0xDA
    /// CPCR (C+): C+ command register.
    public static let cpcr = 0xE0
    /// IntrMitigate (C+): interrupt mitigation (accepted, reads as 0).
    public static let intrMitigate = 0xE2
    /// RDSAR (C+): 64-bit base of the receive descriptor ring.
    public static let rdsar = 0xE4
    /// ETTh (C+): early transmit threshold.
    public static let etth = 0xEC
}

/// CR bits.
enum CommandBits {
    static let rst: UInt8 = 0x10
    static let re: UInt8 = 0x08
    static let te: UInt8 = 0x04
    static let bufe: UInt8 = 0x01
}

/// ISR and IMR bits. Bit 4 is RXOVW in classic mode and RDU (receive
/// descriptor unavailable) in C+ mode; bit 5 is PUN/LinkChg.
public enum InterruptBits {
    public static let rok: UInt16 = 1 << 0
    public static let rer: UInt16 = 1 << 1
    public static let tok: UInt16 = 1 << 2
    public static let ter: UInt16 = 1 << 3
    public static let rxovw: UInt16 = 1 << 4
    public static let punLinkChg: UInt16 = 1 << 5
    public static let fovw: UInt16 = 1 << 6
    /// C+: transmit descriptor unavailable (the ring ran dry).
    public static let tdu: UInt16 = 1 << 7
    /// C+: software interrupt from TPPoll.FSWInt.
    public static let swInt: UInt16 = 1 << 8
    public static let lenChg: UInt16 = 1 << 13
    public static let timeOut: UInt16 = 1 << 14
    public static let serr: UInt16 = 1 << 15
    /// Bits IMR and ISR hold.
    static let implemented: UInt16 = 0xE1FF
}

/// TSD bits (classic transmit status).
public enum TransmitStatusBits {
    /// SIZE: bytes to send, bits 12-0.
    public static let sizeMask: UInt32 = 0x1FFF
    /// OWN: 1 when the DMA of the buffer to the FIFO is done; the driver
    /// writes 0 to start a transmission.
    public static let own: UInt32 = 1 << 13
    public static let tun: UInt32 = 1 << 14
    public static let tok: UInt32 = 1 << 15
    /// ERTXTH: early transmit threshold, bits 21-16, in 32-byte units.
    public static let earlyThresholdMask: UInt32 = 0x3F << 16
    public static let owc: UInt32 = 1 << 29
    public static let tabt: UInt32 = 1 << 30
    public static let crs: UInt32 = 1 << 31
}

/// TCR bits.
public enum TransmitConfigBits {
    /// LBK1-0: 11 = internal loopback.
    public static let loopbackMask: UInt32 = 0x3 << 17
    public static let crcDisable: UInt32 = 1 << 16
    /// Hardware version bits 30-26 and 23-22: 1110 1 10 for the RTL8139C+.
    public static let versionMask: UInt32 = 0x7CC0_0000
    public static let version8139CPlus: UInt32 = 0x7480_0000
    /// Bits a driver may change: IFG, LBK, CRC, MXDMA, TXRR.
    static let writable: UInt32 = 0x0307_07F0
}

/// RCR bits.
public enum ReceiveConfigBits {
    public static let aap: UInt32 = 1 << 0
    public static let apm: UInt32 = 1 << 1
    public static let am: UInt32 = 1 << 2
    public static let ab: UInt32 = 1 << 3
    public static let ar: UInt32 = 1 << 4
    public static let aer: UInt32 = 1 << 5
    /// 9356SEL: the EEPROM is a 93C56 (read-only; ours is a 93C46).
    public static let eeprom9356: UInt32 = 1 << 6
    public static let wrap: UInt32 = 1 << 7
    /// RBLEN: bits 12-11 select 8K << n.
    public static let rblenShift: UInt32 = 11
    public static let rblenMask: UInt32 = 0x3 << 11
    static let writable: UInt32 = 0x0F03_FFBF
}

/// The status word of the classic receive-ring packet header.
public enum ReceiveStatusBits {
    public static let rok: UInt16 = 1 << 0
    public static let fae: UInt16 = 1 << 1
    public static let crc: UInt16 = 1 << 2
    public static let long: UInt16 = 1 << 3
    public static let runt: UInt16 = 1 << 4
    public static let ise: UInt16 = 1 << 5
    public static let bar: UInt16 = 1 << 13
    public static let pam: UInt16 = 1 << 14
    public static let mar: UInt16 = 1 << 15
}

/// 9346CR fields.
enum EEPROMCommandBits {
    static let modeMask: UInt8 = 0xC0
    static let modeNormal: UInt8 = 0x00
    static let modeAutoLoad: UInt8 = 0x40
    static let modeProgram: UInt8 = 0x80
    static let modeConfigWrite: UInt8 = 0xC0
    static let eecs: UInt8 = 0x08
    static let eesk: UInt8 = 0x04
    static let eedi: UInt8 = 0x02
    static let eedo: UInt8 = 0x01
}

/// CPCR bits (C+ command register).
public enum CPlusCommandBits {
    public static let txEnable: UInt16 = 1 << 0
    public static let rxEnable: UInt16 = 1 << 1
    public static let mulrw: UInt16 = 1 << 3
    public static let dac: UInt16 = 1 << 4
    public static let rxChecksum: UInt16 = 1 << 5
    public static let rxVLAN: UInt16 = 1 << 6
    static let writable: UInt16 = 0x007B
}

/// TPPoll bits (C+).
public enum TransmitPollBits {
    public static let hpq: UInt8 = 1 << 7
    public static let npq: UInt8 = 1 << 6
    public static let fswInt: UInt8 = 1 << 0
}

/// C+ descriptor bits (16-byte descriptors: dword0 command/status,
/// dword1 VLAN, dwords 2-3 the 64-bit buffer address).
public enum DescriptorBits {
    public static let own: UInt32 = 1 << 31
    public static let eor: UInt32 = 1 << 30
    public static let fs: UInt32 = 1 << 29
    public static let ls: UInt32 = 1 << 28
    // Transmit dword0
    public static let largeSend: UInt32 = 1 << 27
    /// MSS for large send, bits 26-16.
    public static let mssShift: UInt32 = 16
    public static let mssMask: UInt32 = 0x7FF
    public static let ipcs: UInt32 = 1 << 18
    public static let udpcs: UInt32 = 1 << 17
    public static let tcpcs: UInt32 = 1 << 16
    public static let txSizeMask: UInt32 = 0xFFFF
    /// Transmit status written back: FIFO underrun, error summary.
    public static let txUnderrun: UInt32 = 1 << 25
    public static let txErrorSummary: UInt32 = 1 << 23
    /// Transmit status: link failure during the transmission.
    public static let txLinkFailure: UInt32 = 1 << 21
    // Transmit dword1
    public static let tagc: UInt32 = 1 << 17
    // Receive dword0
    public static let rxMulticast: UInt32 = 1 << 26
    public static let rxPhysical: UInt32 = 1 << 25
    public static let rxBroadcast: UInt32 = 1 << 24
    /// Protocol ID, bits 17-16: 1 TCP/IP, 2 UDP/IP, 3 other IP.
    public static let rxProtocolShift: UInt32 = 16
    public static let rxIPChecksumFail: UInt32 = 1 << 15
    public static let rxUDPChecksumFail: UInt32 = 1 << 14
    public static let rxTCPChecksumFail: UInt32 = 1 << 13
    public static let rxSizeMask: UInt32 = 0x1FFF
    // Receive dword1
    /// TAVA: a VLAN tag was stripped; the TCI is in bits 15-0, byte-swapped.
    public static let tava: UInt32 = 1 << 16
}

/// MSR bits (RTL8139C(+) datasheet, Media Status Register, 58h).
public enum MediaStatusBits {
    /// Tx flow control enable (read/write).
    public static let txfce: UInt8 = 0x80
    /// Rx flow control enable (read only, from auto-negotiation).
    public static let rxfce: UInt8 = 0x40
    /// Auxiliary power present (read only).
    public static let auxStatus: UInt8 = 0x10
    /// 10 Mbps (read only).
    public static let speed10: UInt8 = 0x08
    /// Link down (read only): the inverse of the link status.
    public static let linkb: UInt8 = 0x04
    /// A pause frame was sent (TXPF) or received (RXPF).
    public static let txpf: UInt8 = 0x02
    public static let rxpf: UInt8 = 0x01
}
