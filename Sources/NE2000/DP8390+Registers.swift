// The DP8390 register map (National Semiconductor DP8390D datasheet,
// section 11 "Register Descriptions"; Realtek RTL8029AS datasheet, section
// 5 for the page-3 and ID additions). Sixteen byte-wide registers per page;
// CR is at offset 0 on every page and PS1-PS0 in it select the page.

extension DP8390 {
    /// Page 0 as read (DP8390D table "Page 0 Address Assignments", RD).
    public enum Page0Read {
        /// CR: Command Register.
        public static let command = 0x0
        /// CLDA0: Current Local DMA Address, low byte.
        public static let currentLocalDMA0 = 0x1
        /// CLDA1: Current Local DMA Address, high byte.
        public static let currentLocalDMA1 = 0x2
        /// BNRY: Boundary Pointer.
        public static let boundary = 0x3
        /// TSR: Transmit Status Register.
        public static let transmitStatus = 0x4
        /// NCR: Number of Collisions Register.
        public static let collisions = 0x5
        /// FIFO: last byte through the FIFO (loopback diagnostics).
        public static let fifo = 0x6
        /// ISR: Interrupt Status Register.
        public static let interruptStatus = 0x7
        /// CRDA0: Current Remote DMA Address, low byte.
        public static let currentRemoteDMA0 = 0x8
        /// CRDA1: Current Remote DMA Address, high byte.
        public static let currentRemoteDMA1 = 0x9
        /// 8029ID0 (RTL8029AS): reads 0x50, 'P'. Reserved on the DP8390.
        public static let realtekID0 = 0xA
        /// 8029ID1 (RTL8029AS): reads 0x43, 'C'. Reserved on the DP8390.
        public static let realtekID1 = 0xB
        /// RSR: Receive Status Register.
        public static let receiveStatus = 0xC
        /// CNTR0: Frame Alignment Error Tally Counter (cleared by reading).
        public static let tally0 = 0xD
        /// CNTR1: CRC Error Tally Counter (cleared by reading).
        public static let tally1 = 0xE
        /// CNTR2: Missed Packet Tally Counter (cleared by reading).
        public static let tally2 = 0xF
    }

    /// Page 0 as written (DP8390D table "Page 0 Address Assignments", WR).
    public enum Page0Write {
        /// CR: Command Register.
        public static let command = 0x0
        /// PSTART: Page Start Register, first page of the receive ring.
        public static let pageStart = 0x1
        /// PSTOP: Page Stop Register, one past the last page of the ring.
        public static let pageStop = 0x2
        /// BNRY: Boundary Pointer, the last page the host has freed.
        public static let boundary = 0x3
        /// TPSR: Transmit Page Start Address.
        public static let transmitPageStart = 0x4
        /// TBCR0: Transmit Byte Count, low byte.
        public static let transmitByteCount0 = 0x5
        /// TBCR1: Transmit Byte Count, high byte.
        public static let transmitByteCount1 = 0x6
        /// ISR: Interrupt Status Register (write 1 to clear).
        public static let interruptStatus = 0x7
        /// RSAR0: Remote Start Address, low byte.
        public static let remoteStartAddress0 = 0x8
        /// RSAR1: Remote Start Address, high byte.
        public static let remoteStartAddress1 = 0x9
        /// RBCR0: Remote Byte Count, low byte.
        public static let remoteByteCount0 = 0xA
        /// RBCR1: Remote Byte Count, high byte.
        public static let remoteByteCount1 = 0xB
        /// RCR: Receive Configuration Register.
        public static let receiveConfiguration = 0xC
        /// TCR: Transmit Configuration Register.
        public static let transmitConfiguration = 0xD
        /// DCR: Data Configuration Register.
        public static let dataConfiguration = 0xE
        /// IMR: Interrupt Mask Register.
        public static let interruptMask = 0xF
    }

    /// Page 1, read and written alike (DP8390D "Page 1 Address Assignments").
    public enum Page1 {
        /// PAR0-PAR5: Physical Address Registers at offsets 1-6.
        public static let physicalAddress0 = 0x1
        /// CURR: Current Page Register, where the next packet goes.
        public static let currentPage = 0x7
        /// MAR0-MAR7: Multicast Address Registers at offsets 8-15.
        public static let multicastAddress0 = 0x8
    }

    /// Page 2: reads back the page-0 write-only registers (DP8390D "Page 2
    /// Address Assignments"; for diagnostics only).
    public enum Page2 {
        /// PSTART (read); CLDA0 (write).
        public static let pageStart = 0x1
        /// PSTOP (read); CLDA1 (write).
        public static let pageStop = 0x2
        /// Remote Next Packet Pointer.
        public static let remoteNextPacket = 0x3
        /// TPSR (read).
        public static let transmitPageStart = 0x4
        /// Local Next Packet Pointer.
        public static let localNextPacket = 0x5
        /// Address Counter (upper).
        public static let addressCounterUpper = 0x6
        /// Address Counter (lower).
        public static let addressCounterLower = 0x7
        /// RCR (read).
        public static let receiveConfiguration = 0xC
        /// TCR (read).
        public static let transmitConfiguration = 0xD
        /// DCR (read).
        public static let dataConfiguration = 0xE
        /// IMR (read).
        public static let interruptMask = 0xF
    }

    /// Page 3 of the RTL8029AS: its configuration registers (RTL8029AS
    /// datasheet, "Page 3 registers").
    public enum Page3 {
        /// 9346CR: EEPROM command register; EEM1-EEM0 = 11 enables writes
        /// to CONFIG2 and CONFIG3.
        public static let eepromCommand = 0x1
        /// CONFIG0 (read only): medium and version bits.
        public static let config0 = 0x3
        /// CONFIG2: PL1-PL0 medium select, boot ROM size.
        public static let config2 = 0x5
        /// CONFIG3: FUDUP full duplex, LED mode, power-down.
        public static let config3 = 0x6
        /// 8029ASID0 (read only): 0x29.
        public static let chipID0 = 0xE
        /// 8029ASID1 (read only): 0x80.
        public static let chipID1 = 0xF
    }

    /// CR bits (DP8390D "Command Register").
    public enum Command {
        /// STP: stop; puts the NIC in its reset state.
        public static let stop: UInt8 = 0x01
        /// STA: start; activates the NIC after STP.
        public static let start: UInt8 = 0x02
        /// TXP: transmit the packet at TPSR/TBCR; cleared when done.
        public static let transmitPacket: UInt8 = 0x04
        /// RD2-RD0: remote DMA command.
        public static let remoteDMAMask: UInt8 = 0x38
        /// RD = 001: remote read.
        public static let remoteRead: UInt8 = 0x08
        /// RD = 010: remote write.
        public static let remoteWrite: UInt8 = 0x10
        /// RD = 011: send packet (remote read of the packet at BNRY).
        public static let sendPacket: UInt8 = 0x18
        /// RD = 1xx: abort or complete remote DMA.
        public static let abortDMA: UInt8 = 0x20
        /// PS1-PS0: register page select.
        public static let pageMask: UInt8 = 0xC0
    }

    /// ISR and IMR bits (DP8390D "Interrupt Status Register").
    public enum Interrupt {
        /// PRX: packet received with no errors.
        public static let packetReceived: UInt8 = 0x01
        /// PTX: packet transmitted with no errors.
        public static let packetTransmitted: UInt8 = 0x02
        /// RXE: receive error.
        public static let receiveError: UInt8 = 0x04
        /// TXE: transmit aborted.
        public static let transmitError: UInt8 = 0x08
        /// OVW: receive buffer ring overwrite warning.
        public static let overwrite: UInt8 = 0x10
        /// CNT: the MSB of a tally counter is set.
        public static let counterOverflow: UInt8 = 0x20
        /// RDC: remote DMA complete.
        public static let remoteDMAComplete: UInt8 = 0x40
        /// RST: NIC in reset state (stopped) or ring overflow; not maskable,
        /// not cleared by writing.
        public static let reset: UInt8 = 0x80
    }

    /// RCR bits (DP8390D "Receive Configuration Register").
    public enum ReceiveConfig {
        /// SEP: save errored packets.
        public static let saveErrors: UInt8 = 0x01
        /// AR: accept runt packets.
        public static let acceptRunts: UInt8 = 0x02
        /// AB: accept broadcast.
        public static let acceptBroadcast: UInt8 = 0x04
        /// AM: accept multicast that hashes to a set MAR bit.
        public static let acceptMulticast: UInt8 = 0x08
        /// PRO: promiscuous physical, every unicast destination.
        public static let promiscuous: UInt8 = 0x10
        /// MON: monitor mode, check and count but never buffer.
        public static let monitor: UInt8 = 0x20
    }

    /// RSR bits (DP8390D "Receive Status Register").
    public enum ReceiveStatus {
        /// PRX: packet received intact.
        public static let packetReceived: UInt8 = 0x01
        /// MPA: missed packet.
        public static let missedPacket: UInt8 = 0x10
        /// PHY: the destination was multicast or broadcast.
        public static let multicast: UInt8 = 0x20
        /// DIS: receiver disabled (monitor mode).
        public static let receiverDisabled: UInt8 = 0x40
    }

    /// TSR bits (DP8390D "Transmit Status Register").
    public enum TransmitStatus {
        /// PTX: packet transmitted.
        public static let packetTransmitted: UInt8 = 0x01
        /// Bit 1: always reads 1 on the RTL8029AS.
        public static let realtekAlwaysOne: UInt8 = 0x02
        /// ABT: transmit aborted.
        public static let aborted: UInt8 = 0x08
        /// CRS: carrier sense lost.
        public static let carrierLost: UInt8 = 0x10
    }

    /// TCR bits (DP8390D "Transmit Configuration Register").
    public enum TransmitConfig {
        /// LB1-LB0: 00 normal, 01 internal loopback, 10 loopback through
        /// the encoder/decoder, 11 external loopback.
        public static let loopbackMask: UInt8 = 0x06
        public static let internalLoopback: UInt8 = 0x02
    }

    /// DCR bits (DP8390D "Data Configuration Register").
    public enum DataConfig {
        /// WTS: word-wide remote DMA transfers.
        public static let wordTransfer: UInt8 = 0x01
        /// BOS: big-endian byte order within words.
        public static let byteOrder: UInt8 = 0x02
        /// LAS: long address select; set by reset.
        public static let longAddress: UInt8 = 0x04
    }
}
