import NICCore
import XCTest

@testable import RTL8139

final class RTL8139RegisterTests: XCTestCase {
    typealias R = RTL8139Register

    /// PCI identity: 10ec:8139, revision 0x20 (C+), Ethernet class, INTA,
    /// BAR0 I/O and BAR1 memory, each 256 bytes.
    func testPCIIdentityAndBARs() {
        let rig = Rig()
        let c = rig.nic.config
        XCTAssertEqual(c.read(offset: 0, width: .dword), 0x8139_10EC)
        XCTAssertEqual(c.read(offset: 8, width: .byte), 0x20)
        XCTAssertEqual(c.read(offset: 0x09, width: .byte) | c.read(offset: 0x0A, width: .word) << 8, 0x02_00_00)
        XCTAssertEqual(c.read(offset: 0x3D, width: .byte), 1)
        c.write(offset: 0x10, width: .dword, value: 0xFFFF_FFFF)
        XCTAssertEqual(c.read(offset: 0x10, width: .dword), 0xFFFF_FF01)
        c.write(offset: 0x14, width: .dword, value: 0xFFFF_FFFF)
        XCTAssertEqual(c.read(offset: 0x14, width: .dword), 0xFFFF_FF00)
    }

    /// Both BARs decode the same register file.
    func testIOAndMMIOWindowsShareRegisters() {
        let rig = Rig()
        let io = rig.nic.registers(forBAR: 0)!
        let mmio = rig.nic.registers(forBAR: 1)!
        io.write(offset: UInt64(R.mar0), width: .dword, value: 0xDEAD_BEEF)
        XCTAssertEqual(mmio.read(offset: UInt64(R.mar0), width: .dword), 0xDEAD_BEEF)
        XCTAssertEqual(io.size, 256)
        XCTAssertEqual(mmio.size, 256)
    }

    /// IDR0-5 come from EEPROM words 7-9 at power-on.
    func testStationAddressLoadedFromEEPROM() {
        let rig = Rig()
        XCTAssertEqual((0..<6).map { rig.r8(R.idr0 + $0) }, Rig.mac.bytes)
        XCTAssertEqual(rig.nic.macAddress, Rig.mac)
    }

    /// The datasheet permits IDR writes only as dwords; byte writes are ignored.
    func testIDRAcceptsOnlyDwordWrites() {
        let rig = Rig()
        rig.w8(R.idr0, 0xAA)
        XCTAssertEqual(rig.r8(R.idr0), 0x52)
        rig.w32(R.idr0, 0x4433_2211)
        rig.w32(R.idr0 + 4, 0x6655)
        XCTAssertEqual((0..<6).map { rig.r8(R.idr0 + $0) }, [0x11, 0x22, 0x33, 0x44, 0x55, 0x66])
    }

    /// A qword MMIO write to IDR is two dword writes: all six bytes change.
    func testQwordWriteToIDR() {
        let rig = Rig()
        rig.nic.registers(forBAR: 1)!.write(offset: 0, width: .qword, value: 0x0000_6655_4433_2211)
        XCTAssertEqual((0..<6).map { rig.r8(R.idr0 + $0) }, [0x11, 0x22, 0x33, 0x44, 0x55, 0x66])
    }

    /// TCR carries the RTL8139C+ hardware version bits (1110 1 10), which
    /// writes cannot change.
    func testTCRReportsCPlusVersionBits() {
        let rig = Rig()
        XCTAssertEqual(rig.r32(R.tcr) & TransmitConfigBits.versionMask, 0x7480_0000)
        rig.w8(R.cr, 0x04)  // TE: TCR takes writes only with the transmitter on
        rig.w32(R.tcr, 0)
        XCTAssertEqual(rig.r32(R.tcr) & TransmitConfigBits.versionMask, 0x7480_0000)
        rig.w32(R.tcr, 0x0300_0600)
        XCTAssertEqual(rig.r32(R.tcr), 0x7780_0600)
    }

    /// TCR takes writes only while the transmitter is enabled (CR.TE), as
    /// QEMU's model does and as drivers assume when they set TE before the
    /// transmit thresholds (docs/deviations.md RTL8139-TCR-TE).
    func testTCRWritesAreIgnoredWhileTheTransmitterIsOff() {
        let rig = Rig()
        rig.w32(R.tcr, 0x0300_0600)
        XCTAssertEqual(rig.r32(R.tcr), 0x7480_0000)
        rig.w8(R.cr, 0x04)
        rig.w32(R.tcr, 0x0300_0600)
        XCTAssertEqual(rig.r32(R.tcr), 0x7780_0600)
    }

    /// CR.RST resets the chip and reads back 0 once done; IMR, ISR and the
    /// transmit slots return to their reset values.
    func testResetClearsItselfAndRestoresState() {
        let rig = Rig()
        rig.w16(R.imr, 0xFFFF)
        rig.w8(R.cr, 0x0C)
        rig.w8(R.cr, CommandBits.rst)
        XCTAssertEqual(rig.r8(R.cr) & CommandBits.rst, 0)
        XCTAssertEqual(rig.r8(R.cr) & 0x0C, 0)
        XCTAssertEqual(rig.r16(R.imr), 0)
        XCTAssertEqual(rig.r32(R.tsd0) & TransmitStatusBits.own, TransmitStatusBits.own)
    }

    /// RE and TE are the writable CR bits; BUFE is read-only and set while
    /// the ring is empty.
    func testCommandRegisterBits() {
        let rig = Rig()
        rig.w8(R.cr, 0xFF & ~CommandBits.rst)
        XCTAssertEqual(rig.r8(R.cr), 0x0D)
    }

    /// ISR is write-1-to-clear; INTA follows ISR & IMR.
    func testISRWriteOneToClearDrivesINTA() {
        let rig = Rig()
        let latch = InterruptLatch()
        rig.nic.config.upstream = latch
        rig.nic.raise(InterruptBits.rok | InterruptBits.tok)
        XCTAssertFalse(latch.isAsserted)
        rig.w16(R.imr, InterruptBits.tok)
        XCTAssertTrue(latch.isAsserted)
        rig.w16(R.isr, InterruptBits.rok)
        XCTAssertEqual(rig.r16(R.isr), InterruptBits.tok)
        XCTAssertTrue(latch.isAsserted)
        rig.w16(R.isr, InterruptBits.tok)
        XCTAssertEqual(rig.r16(R.isr), 0)
        XCTAssertFalse(latch.isAsserted)
    }

    /// CAPR reads back what was written, and the receiver's read limit is
    /// that value plus 16: writing (offset - 16) frees the ring up to offset.
    func testCAPRIsWrittenValuePlus16() {
        let rig = Rig()
        XCTAssertEqual(rig.r16(R.capr), 0xFFF0)
        rig.w16(R.capr, 0x0100 - 16)
        XCTAssertEqual(rig.r16(R.capr), 0x00F0)
        XCTAssertEqual(rig.nic.readPointer, 0x0100)
    }

    /// CONFIG0-5 are write-protected unless 9346CR is in config-write mode (11).
    func testConfigRegistersNeedUnlock() {
        let rig = Rig()
        let before = rig.r8(R.config1)
        rig.w8(R.config1, 0x30)
        XCTAssertEqual(rig.r8(R.config1), before)
        rig.w8(R.cr9346, 0xC0)
        rig.w8(R.config1, 0x30 | before)
        XCTAssertEqual(rig.r8(R.config1), 0x30 | before)
        rig.w8(R.cr9346, 0x00)
        rig.w8(R.config1, before)
        XCTAssertEqual(rig.r8(R.config1), 0x30 | before)
    }

    /// MPC counts missed packets (24 bits); any write clears it.
    func testMPCClearsOnWrite() {
        let rig = Rig()
        rig.nic.missedPackets = 7
        XCTAssertEqual(rig.r32(R.mpc), 7)
        rig.w32(R.mpc, 0x1234)
        XCTAssertEqual(rig.r32(R.mpc), 0)
    }

    /// RERID reads the revision (0x20); MULINT keeps its 12 bits.
    func testRevisionAndMULINT() {
        let rig = Rig()
        XCTAssertEqual(rig.r8(R.rerid), 0x20)
        rig.w16(R.mulint, 0xFFFF)
        XCTAssertEqual(rig.r16(R.mulint), 0x0FFF)
    }

    /// HLTCLK: 'H' halts the clock (the receiver takes nothing), 'R' runs it.
    func testHLTCLKStopsAndRunsTheChip() {
        let rig = Rig()
        rig.startClassicReceiver()
        rig.w8(R.hltclk, UInt8(ascii: "H"))
        XCTAssertEqual(rig.offer(makeFrame()), .noRoom)
        rig.w8(R.hltclk, UInt8(ascii: "R"))
        XCTAssertEqual(rig.offer(makeFrame()), .accepted)
    }

    /// RCR: RBLEN selects the ring size; 9356SEL is read-only 0 (93C46).
    func testRCRSizesAndReadOnlyBits() {
        let rig = Rig()
        for (rblen, size) in [(0, 8192), (1, 16384), (2, 32768), (3, 65536)] {
            rig.w32(R.rcr, UInt32(rblen) << 11 | ReceiveConfigBits.eeprom9356)
            XCTAssertEqual(rig.nic.receiveRingSize, UInt32(size))
            XCTAssertEqual(rig.r32(R.rcr) & ReceiveConfigBits.eeprom9356, 0)
        }
    }

    /// RMS (0x DA) is an RTL8169 register; on the 8139C+ it reads 0, which
    /// is how iPXE tells the chips apart. CPCR's C+ bits read back.
    func testRMSAbsentAndCPCRReadsBack() {
        let rig = Rig()
        rig.w16(R.rms, 1536)
        XCTAssertEqual(rig.r16(R.rms), 0)
        let cpcr: UInt16 = CPlusCommandBits.mulrw | CPlusCommandBits.rxEnable | CPlusCommandBits.txEnable
        rig.w16(R.cpcr, cpcr)
        XCTAssertEqual(rig.r16(R.cpcr), cpcr)
    }

    /// Accesses split at register boundaries: one dword write at 0x3C sets
    /// IMR and clears ISR bits in one go.
    func testWideAccessSpansRegisters() {
        let rig = Rig()
        rig.nic.raise(InterruptBits.rok)
        rig.w32(R.imr, UInt32(InterruptBits.rok) << 16 | 0x0005)
        XCTAssertEqual(rig.r16(R.imr), 0x0005)
        XCTAssertEqual(rig.r16(R.isr), 0)
    }
}
