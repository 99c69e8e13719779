import Board
import Machine
import NICCore
import OptionROM
import PXE
import RTL8139
import UNDI
import XCTest

/// The software PXE ROM's image and its 16-bit stubs: what `nicsim rom
/// build` writes and what the machine runs before any NBP.
final class SoftwareROMImageTests: XCTestCase {
    private typealias H = MachineHarness
    static let slot = PCIAddress(device: 3)

    /// A 16 MiB PC with an RTL8139 at 00:03.0 (no network) and the ROM.
    private func rig() throws -> (Machine, SoftwarePXEROM) {
        let board = Board(memorySize: 16 << 20)
        let nic = RTL8139(macAddress: MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56), memory: board.memory, clock: board.clock)
        board.attach(nic, at: Self.slot)
        board.add(port: nic.port)
        board.assignResources()
        let m = try Machine(board: board)
        let rom = try SoftwarePXEROM(machine: m, driver: RTL8139Driver(bus: DriverBus(board: board)), at: Self.slot)
        return (m, rom)
    }

    func testImageIsAValidLegacyPXEROM() throws {
        // PCI Firmware 3.0 §5.1: 55AA, size, checksum 0, PCIR with the IDs,
        // class 020000 and the last-image bit; PnP 1.0A: $PnP with a BEV;
        // PXE 2.1 §4.4.1: the UNDI ROM ID on a PCI bus.
        let bytes = try SoftwarePXEROM.image(vendorID: 0x10EC, deviceID: 0x8139)
        let rom = try ExpansionROM(bytes: bytes)
        XCTAssertEqual(rom.issues, [])
        XCTAssertEqual(bytes.count % 512, 0)
        XCTAssertEqual(bytes.reduce(0, &+), 0)
        let image = try XCTUnwrap(rom.legacyImage)
        XCTAssertEqual(image.pcir.vendorID, 0x10EC)
        XCTAssertEqual(image.pcir.deviceID, 0x8139)
        XCTAssertEqual(image.pcir.classCode, 0x02_0000)
        XCTAssertTrue(image.pcir.isLastImage)
        XCTAssertNotNil(image.bev)
        XCTAssertNil(image.bcv)
        let undi = try XCTUnwrap(image.undi)
        XCTAssertTrue(undi.checksumOK)
        XCTAssertEqual(undi.busType, "PCIR")
        XCTAssertEqual(undi.undiRevision.major, 2)
        XCTAssertEqual(undi.undiRevision.minor, 1)
        XCTAssertEqual(undi.codeSize, PXELayout.undiCodeSize)
    }

    func testBuilderRefusesAnEntryOutsideTheCode() {
        let builder = LegacyROMBuilder(vendorID: 1, deviceID: 2, manufacturer: "m", product: "p", code: [0xCB], initEntry: 5)
        XCTAssertThrowsError(try builder.build()) { XCTAssertEqual($0 as? ROMBuildError, .entryOutsideCode("INIT", 5)) }
    }

    func testInitPrintsTheBannerAndReturns() throws {
        let (m, rom) = try rig()
        let bytes = try SoftwarePXEROM.image(vendorID: 0x10EC, deviceID: 0x8139)
        var shadowed = try m.shadow(try ExpansionROM(bytes: bytes), for: Self.slot)
        XCTAssertEqual(try m.initialize(&shadowed), .returned)
        XCTAssertTrue(m.bios.console.contains("nicsim PXE ROM 2.1, UNDI for RTL8139 at PCI 00:03.0"), m.bios.console)
        XCTAssertFalse(rom.installed)
    }

    func testInstallationCheckFindsPXENVOnlyOnceInstalled() throws {
        // PXE 2.1 §2.4.2.1: INT 1Ah AX=5650h → AX=564Eh, ES:BX = PXENV+, CF clear.
        let (m, rom) = try rig()
        XCTAssertEqual(try H.int(m, 0x1A, [.eax: 0x5650]), .returned)
        XCTAssertTrue(H.carry(m))
        try rom.install()
        XCTAssertEqual(try H.int(m, 0x1A, [.eax: 0x5650]), .returned)
        XCTAssertFalse(H.carry(m))
        XCTAssertEqual(m[.eax] & 0xFFFF, 0x564E)
        let pxenv = SoftwarePXEROM.layout.pxenvAddress
        XCTAssertEqual(m[.es], UInt32(pxenv.segment))
        XCTAssertEqual(m[.ebx] & 0xFFFF, UInt32(pxenv.offset))
        // BDA 40:13 no longer covers the UNDI.
        XCTAssertEqual(try H.int(m, 0x12, [:]), .returned)
        XCTAssertEqual(UInt64(m[.eax] & 0xFFFF) << 10, UInt64(SoftwarePXEROM.layout.undiCodeSegment) << 4)
    }

    func testPXENVEntryReturnsTheExitCodeInAXAndCarry() throws {
        // RMEntry: opcode in BX, block at ES:DI; AX = PXENV_EXIT_*, CF on failure.
        let (m, rom) = try rig()
        try rom.install()
        let entry = SoftwarePXEROM.layout.pxenvEntry
        let block: UInt64 = 0x8000
        try m.board.memory.fill(at: block, count: 16, with: 0)
        // An opcode PXE does not define: PXENV_STATUS_UNSUPPORTED (3).
        XCTAssertEqual(try m.call(segment: entry.segment, offset: entry.offset,
                                  registers: [.ebx: 0x00FF, .es: 0x0800, .edi: 0, .eflags: 0x0202], timeout: VirtualClock.second), .returned)
        XCTAssertEqual(m[.eax] & 0xFFFF, 1)
        XCTAssertTrue(H.carry(m))
        XCTAssertEqual(try m.board.memory.readU16(block), 0x0003)
        // PXENV_START_UNDI: probes the card, succeeds.
        XCTAssertEqual(try m.call(segment: entry.segment, offset: entry.offset,
                                  registers: [.ebx: 0x0000, .es: 0x0800, .edi: 0], timeout: VirtualClock.second), .returned)
        XCTAssertEqual(m[.eax] & 0xFFFF, 0)
        XCTAssertFalse(H.carry(m))
        XCTAssertEqual(try m.board.memory.readU16(block), 0x0000)
    }

    func testBangPXEEntryTakesItsArgumentsFromTheStack() throws {
        // EntryPointSP: push segment, offset, opcode; far call; SP+4 = opcode.
        //   push $0x0800; push $0x0000; push $0x0000 (START_UNDI)
        //   lcall $undiCode, $0x0010; add $6, %sp; retf
        let (m, rom) = try rig()
        try rom.install()
        let entry = SoftwarePXEROM.layout.bangPXEEntry
        try m.board.memory.fill(at: 0x8000, count: 16, with: 0)
        try m.board.memory.writeU16(0x8000, 0xEEEE)  // the status word, overwritten by the call
        let code: [UInt8] = [0x68, 0x00, 0x08, 0x68, 0x00, 0x00, 0x68, 0x00, 0x00,
                             0x9A, UInt8(entry.offset & 0xFF), UInt8(entry.offset >> 8), UInt8(entry.segment & 0xFF), UInt8(entry.segment >> 8),
                             0x83, 0xC4, 0x06, 0xCB]
        XCTAssertEqual(try H.run(m, code), .returned)
        XCTAssertEqual(m[.eax] & 0xFFFF, 0)
        XCTAssertFalse(H.carry(m))
        XCTAssertEqual(try m.board.memory.readU16(0x8000), 0x0000)
        XCTAssertEqual(rom.client.api.callLog.last?.opcode, 0x0000)
    }

    func testNoDHCPServerPrintsPXEE51AndFailsTheBoot() throws {
        // Nothing on the wire: DHCP gives up, the ROM says so and INT 18h.
        let (m, rom) = try rig()
        let stop = try rom.boot(timeout: 120 * VirtualClock.second)
        XCTAssertEqual(stop, .bootFailed)
        XCTAssertTrue(m.bios.console.contains("PXE-E51"), m.bios.console)
        XCTAssertNil(rom.nbp)
    }

    func testRomBootWithoutHostFirmwareFailsCleanly() throws {
        // The image on a machine with no firmware behind its host calls:
        // the boot says why and fails over to the next device (INT 18h).
        let board = Board(memorySize: 16 << 20)
        let m = try Machine(board: board)
        let rom = try ExpansionROM(bytes: try SoftwarePXEROM.image(vendorID: 0x10EC, deviceID: 0x8139))
        var shadowed = try m.shadow(rom, for: nil)
        XCTAssertEqual(try m.initialize(&shadowed), .returned)
        XCTAssertEqual(try m.bootstrap(shadowed, timeout: VirtualClock.second), .bootFailed)
        XCTAssertTrue(m.bios.console.contains("no host firmware"), m.bios.console)
    }
}
