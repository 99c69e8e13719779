import NICCore
import XCTest

final class PCIConfigSpaceTests: XCTestCase {
    func makeConfig() -> PCIConfigSpace {
        let c = PCIConfigSpace(identity: PCIIdentity(vendorID: 0x10EC, deviceID: 0x8139, revisionID: 0x20, classCode: 0x02_00_00, subsystemVendorID: 0x1AF4, subsystemID: 0x1100))
        c.declareBAR(0, .io(size: 256))
        c.declareBAR(1, .memory32(size: 256))
        c.declareBAR(2, .memory64(size: 0x4000, prefetchable: true))
        c.declareExpansionROM(size: 0x10000)
        return c
    }

    func testIdentityFieldsReadBackLittleEndian() {
        let c = makeConfig()
        XCTAssertEqual(c.read(offset: 0, width: .dword), 0x8139_10EC)
        XCTAssertEqual(c.read(offset: 8, width: .dword), 0x0200_0020)
        XCTAssertEqual(c.read(offset: 0x2C, width: .dword), 0x1100_1AF4)
        XCTAssertEqual(c.read(offset: PCIConfigRegister.interruptPin, width: .byte), 1)
    }

    /// IDs, class, header type, interrupt pin and status bits are read-only.
    func testReadOnlyFieldsIgnoreWrites() {
        let c = makeConfig()
        for offset in [0x00, 0x08, 0x0C] { c.write(offset: offset, width: .dword, value: 0xFFFF_FFFF) }
        c.write(offset: PCIConfigRegister.interruptPin, width: .byte, value: 0x04)
        c.write(offset: PCIConfigRegister.status, width: .word, value: 0xFFFF)
        XCTAssertEqual(c.read(offset: 0, width: .dword), 0x8139_10EC)
        XCTAssertEqual(c.read(offset: 8, width: .dword), 0x0200_0020)
        XCTAssertEqual(c.read(offset: PCIConfigRegister.headerType, width: .byte), 0)
        XCTAssertEqual(c.read(offset: PCIConfigRegister.interruptPin, width: .byte), 1)
        XCTAssertEqual(c.read(offset: PCIConfigRegister.status, width: .word), 0)
        // Cache line size and latency timer are writable.
        XCTAssertEqual(c.read(offset: 0x0C, width: .word), 0xFFFF)
    }

    /// Command register: only the defined enable bits stick.
    func testCommandRegisterKeepsOnlyDefinedBits() {
        let c = makeConfig()
        c.write(offset: PCIConfigRegister.command, width: .word, value: 0xFFFF)
        XCTAssertEqual(c.read(offset: PCIConfigRegister.command, width: .word), 0x0547)
        XCTAssertTrue(c.ioSpaceEnabled && c.memorySpaceEnabled && c.busMasterEnabled && c.interruptDisabled)
    }

    /// Status error bits are write-one-to-clear.
    func testStatusErrorBitsAreWriteOneToClear() {
        let c = makeConfig()
        c.reportMasterAbort()
        XCTAssertTrue(c.status.contains(.receivedMasterAbort))
        c.write(offset: PCIConfigRegister.status, width: .word, value: 0)
        XCTAssertTrue(c.status.contains(.receivedMasterAbort))
        c.write(offset: PCIConfigRegister.status, width: .word, value: UInt32(PCIStatus.receivedMasterAbort.rawValue))
        XCTAssertFalse(c.status.contains(.receivedMasterAbort))
    }

    /// BAR sizing: write all-ones, read back the size mask with the type bits.
    func testBARSizingReturnsSizeMaskAndTypeBits() {
        let c = makeConfig()
        for i in 0..<6 { c.write(offset: 0x10 + 4 * i, width: .dword, value: 0xFFFF_FFFF) }
        XCTAssertEqual(c.read(offset: 0x10, width: .dword), 0xFFFF_FF01)  // 256 bytes of I/O
        XCTAssertEqual(c.read(offset: 0x14, width: .dword), 0xFFFF_FF00)  // 256 bytes of memory
        XCTAssertEqual(c.read(offset: 0x18, width: .dword), 0xFFFF_C00C)  // 16 KiB, 64-bit, prefetchable
        XCTAssertEqual(c.read(offset: 0x1C, width: .dword), 0xFFFF_FFFF)  // upper half of the 64-bit BAR
        XCTAssertEqual(c.read(offset: 0x20, width: .dword), 0)            // unimplemented
        c.write(offset: 0x30, width: .dword, value: 0xFFFF_FFFF)
        XCTAssertEqual(c.read(offset: 0x30, width: .dword), 0xFFFF_0001)  // 64 KiB ROM, enable bit
    }

    func testBARAddressesDecodeWithoutTypeBits() {
        let c = makeConfig()
        c.write(offset: 0x10, width: .dword, value: 0xC0FF)
        c.write(offset: 0x18, width: .dword, value: 0xFEB0_4000)
        c.write(offset: 0x1C, width: .dword, value: 0x1)
        XCTAssertEqual(c.barAddress(0), 0xC000)
        XCTAssertEqual(c.barAddress(2), 0x1_FEB0_4000)
        XCTAssertNil(c.barAddress(3))
        XCTAssertNil(c.expansionROMAddress)
        c.write(offset: 0x30, width: .dword, value: 0xFEC0_0001)
        XCTAssertEqual(c.expansionROMAddress, 0xFEC0_0000)
    }

    /// The capability list is linked from 0x34 and announced in status bit 4.
    func testCapabilityListIsLinked() {
        let c = makeConfig()
        let first = c.addCapability(id: 0x09, body: [0x10, 0x01, 0x02])
        let second = c.addCapability(id: 0x11, body: [0x00, 0x00], writable: [0x00, 0xC0])
        XCTAssertEqual(c.read(offset: 0x34, width: .byte), UInt32(first))
        XCTAssertTrue(c.status.contains(.capabilitiesList))
        XCTAssertEqual(c.read(offset: first, width: .byte), 0x09)
        XCTAssertEqual(c.read(offset: first + 1, width: .byte), UInt32(second))
        XCTAssertEqual(c.read(offset: second + 1, width: .byte), 0)
        XCTAssertEqual(second % 4, 0)
        c.write(offset: second + 2, width: .word, value: 0xFFFF)
        XCTAssertEqual(c.read(offset: second + 2, width: .word), 0xC000)
    }

    func testOutOfRangeAccessReadsAllOnes() {
        let c = makeConfig()
        XCTAssertEqual(c.read(offset: 254, width: .dword), 0xFFFF_FFFF)
        XCTAssertEqual(c.read(offset: -1, width: .byte), 0xFF)
        c.write(offset: 255, width: .dword, value: 0)  // dropped, no trap
    }

    /// INTx follows the device's level and the Interrupt Disable bit; status bit 3 tracks the device.
    func testInterruptDisableGatesINTx() {
        let c = makeConfig()
        let line = InterruptLatch()
        c.upstream = line
        c.set(asserted: true)
        XCTAssertTrue(line.isAsserted)
        XCTAssertTrue(c.status.contains(.interruptStatus))
        c.write(offset: PCIConfigRegister.command, width: .word, value: UInt32(PCICommand.interruptDisable.rawValue))
        XCTAssertFalse(line.isAsserted)
        XCTAssertTrue(c.status.contains(.interruptStatus))
        c.write(offset: PCIConfigRegister.command, width: .word, value: 0)
        XCTAssertTrue(line.isAsserted)
        c.set(asserted: false)
        XCTAssertFalse(line.isAsserted)
        XCTAssertFalse(c.status.contains(.interruptStatus))
    }
}
