import Board
import Machine
import NICCore
import XCTest

/// The BIOS services one by one, each called with INT n from guest code.
final class BIOSServiceTests: XCTestCase {
    typealias H = MachineHarness

    // MARK: INT 10h

    /// INT 10h AH=0Eh prints AL as a teletype; the text is the console.
    func testTeletypeIsCapturedAsConsoleText() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x10, [.eax: 0x0E48])
        _ = try H.int(m, 0x10, [.eax: 0x0E69])
        _ = try H.int(m, 0x10, [.eax: 0x0E0D])
        _ = try H.int(m, 0x10, [.eax: 0x0E0A])
        XCTAssertEqual(m.bios.console, "Hi\n")
    }

    /// CR LF moves the cursor to the start of the next row; AH=03h reads it
    /// back in DH (row) and DL (column).
    func testTeletypeMovesTheCursor() throws {
        let m = try H.machine()
        for c: UInt32 in [0x41, 0x42, 0x0D, 0x0A, 0x43] { _ = try H.int(m, 0x10, [.eax: 0x0E00 | c]) }
        _ = try H.int(m, 0x10, [.eax: 0x0300, .ebx: 0])
        XCTAssertEqual(m[.edx] & 0xFFFF, 0x0101)
    }

    /// AH=09h writes a character and attribute without moving the cursor:
    /// not console text (iPXE follows it with AH=0Eh for the character).
    func testWriteCharacterAttributeIsNotConsoleText() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x10, [.eax: 0x0941, .ebx: 0x0007, .ecx: 1])
        XCTAssertEqual(m.bios.console, "")
    }

    /// The console keeps at most `consoleLimit` characters and counts the rest.
    func testConsoleIsBounded() throws {
        let m = try H.machine()
        m.bios.consoleLimit = 3
        for c: UInt32 in [0x61, 0x62, 0x63, 0x64, 0x65] { _ = try H.int(m, 0x10, [.eax: 0x0E00 | c]) }
        XCTAssertEqual(m.bios.console, "abc")
        XCTAssertEqual(m.bios.consoleDropped, 2)
    }

    /// AH=0Fh: mode 03h (80x25 text), 80 columns, page 0.
    func testGetVideoModeIsTextMode() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x10, [.eax: 0x0F00])
        XCTAssertEqual(m[.eax] & 0xFFFF, 0x5003)
    }

    /// AH=13h AL=01h writes CX characters at ES:BP and moves the cursor.
    func testWriteStringPrintsFromMemory() throws {
        let m = try H.machine()
        try m.board.memory.write(at: 0x600, bytes: Array("boot".utf8))
        _ = try H.int(m, 0x10, [.eax: 0x1301, .ebx: 0x0007, .ecx: 4, .edx: 0, .es: 0, .ebp: 0x600])
        XCTAssertEqual(m.bios.console, "boot")
    }

    /// A guest handler on INT 10h that counts and chains (far jump to the
    /// old vector) still gets the BIOS teletype: hooked vectors are honoured.
    ///
    ///     movl 0x40,%eax; movl %eax,old; movw $handler,0x40; movw $0,0x42
    ///     movw $0x0E41,%ax; int $0x10; movl old,%eax; movl %eax,0x40; lret
    ///     handler: incw %cs:0x700; ljmp *%cs:old
    func testGuestHookOnInt10ChainsToTheBIOS() throws {
        let m = try H.machine()
        try H.run(m, [
            0x66, 0xA1, 0x40, 0x00, 0x66, 0xA3, 0x2C, 0x7C, 0xC7, 0x06, 0x40, 0x00, 0x22, 0x7C, 0xC7, 0x06,
            0x42, 0x00, 0x00, 0x00, 0xB8, 0x41, 0x0E, 0xCD, 0x10, 0x66, 0xA1, 0x2C, 0x7C, 0x66, 0xA3, 0x40,
            0x00, 0xCB, 0x2E, 0xFF, 0x06, 0x00, 0x07, 0x2E, 0xFF, 0x2E, 0x2C, 0x7C, 0x00, 0x00, 0x00, 0x00,
        ])
        XCTAssertEqual(try m.board.memory.readU16(0x700), 1)
        XCTAssertEqual(m.bios.console, "A")
    }

    // MARK: INT 11h, 12h

    /// INT 12h: 639 KiB of conventional memory (the EBDA takes the last KiB).
    func testInt12ReportsConventionalMemory() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x12, [:])
        XCTAssertEqual(m[.eax] & 0xFFFF, 639)
        XCTAssertEqual(try m.board.memory.readU16(0x40E), 0x9FC0)
    }

    // MARK: INT 15h

    /// E820h with EBX=0 returns the first range (0, 9FC00h, usable) and EBX=1.
    func testE820FirstRangeIsConventionalMemory() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x15, [.eax: 0xE820, .ebx: 0, .ecx: 20, .edx: 0x534D_4150, .es: 0, .edi: 0x500])
        XCTAssertFalse(H.carry(m))
        XCTAssertEqual(m[.eax], 0x534D_4150)
        XCTAssertEqual(m[.ecx], 20)
        XCTAssertEqual(m[.ebx], 1)
        XCTAssertEqual(try m.board.memory.readU64(0x500), 0)
        XCTAssertEqual(try m.board.memory.readU64(0x508), 0x9_FC00)
        XCTAssertEqual(try m.board.memory.readU32(0x510), 1)
    }

    /// Walking E820h to EBX=0 covers extended memory up to the end of RAM.
    func testE820WalkEndsWithExtendedMemory() throws {
        let m = try H.machine()
        var ebx: UInt32 = 0
        var ranges: [(UInt64, UInt64, UInt32)] = []
        repeat {
            _ = try H.int(m, 0x15, [.eax: 0xE820, .ebx: ebx, .ecx: 24, .edx: 0x534D_4150, .es: 0, .edi: 0x500])
            XCTAssertFalse(H.carry(m))
            ranges.append((try m.board.memory.readU64(0x500), try m.board.memory.readU64(0x508), try m.board.memory.readU32(0x510)))
            ebx = m[.ebx]
        } while ebx != 0 && ranges.count < 16
        let last = try XCTUnwrap(ranges.last)
        XCTAssertEqual(last.0, 0x10_0000)
        XCTAssertEqual(last.0 + last.1, 16 << 20)
        XCTAssertEqual(last.2, 1)
    }

    /// RAM the host keeps for itself (a driver's rings) is a reserved hole
    /// in E820h's map, and E801h, 88h stop below it, so an NBP never loads
    /// a file there; ranges outside extended memory are ignored.
    func testReservedRAMIsAHoleInTheMemoryMap() throws {
        let m = try H.machine(ramMiB: 64)
        m.reservedRAM = [(48 << 20)..<(80 << 20), (16 << 20)..<(32 << 20), 0x8_0000..<0x9_0000, (20 << 20)..<(24 << 20)]
        var ebx: UInt32 = 0
        var ranges: [[UInt64]] = []
        repeat {
            _ = try H.int(m, 0x15, [.eax: 0xE820, .ebx: ebx, .ecx: 24, .edx: 0x534D_4150, .es: 0, .edi: 0x500])
            XCTAssertFalse(H.carry(m))
            ranges.append([try m.board.memory.readU64(0x500), try m.board.memory.readU64(0x508), UInt64(try m.board.memory.readU32(0x510))])
            ebx = m[.ebx]
        } while ebx != 0 && ranges.count < 16
        XCTAssertEqual(Array(ranges.suffix(4)), [[0x10_0000, 15 << 20, 1], [16 << 20, 16 << 20, 2],
                                                 [32 << 20, 16 << 20, 1], [48 << 20, 16 << 20, 2]])
        XCTAssertEqual(ranges.count, 7)
        _ = try H.int(m, 0x15, [.eax: 0xE801])
        XCTAssertEqual(m[.eax] & 0xFFFF, 15 * 1024)
        XCTAssertEqual(m[.ebx] & 0xFFFF, 0)
        _ = try H.int(m, 0x15, [.eax: 0x8800])
        XCTAssertEqual(m[.eax] & 0xFFFF, 15 * 1024)
    }

    /// E820h without "SMAP" in EDX fails with CF set.
    func testE820WithoutSignatureFails() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x15, [.eax: 0xE820, .ebx: 0, .ecx: 20, .edx: 0, .es: 0, .edi: 0x500])
        XCTAssertTrue(H.carry(m))
    }

    /// E801h on 16 MiB: 15 MiB between 1 and 16 MiB (3C00h KiB), none above.
    func testE801ReportsMemoryAboveOneMiB() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x15, [.eax: 0xE801])
        XCTAssertFalse(H.carry(m))
        XCTAssertEqual(m[.eax] & 0xFFFF, 0x3C00)
        XCTAssertEqual(m[.ecx] & 0xFFFF, 0x3C00)
        XCTAssertEqual(m[.ebx] & 0xFFFF, 0)
        let big = try H.machine(ramMiB: 64)
        _ = try H.int(big, 0x15, [.eax: 0xE801])
        XCTAssertEqual(big[.ebx] & 0xFFFF, 48 * 16)
    }

    /// AH=88h: KiB of extended memory above 1 MiB.
    func testInt15h88ReportsExtendedMemory() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x15, [.eax: 0x8800])
        XCTAssertFalse(H.carry(m))
        XCTAssertEqual(m[.eax] & 0xFFFF, 15 * 1024)
    }

    /// AX=2401h enables A20 (AH=0, CF clear); 2402h then reports it enabled.
    func testA20EnableAndStatus() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x15, [.eax: 0x2401])
        XCTAssertFalse(H.carry(m))
        XCTAssertEqual(m[.eax] & 0xFF00, 0)
        _ = try H.int(m, 0x15, [.eax: 0x2402])
        XCTAssertEqual(m[.eax] & 0xFF, 1)
    }

    /// An unknown INT 15h function: AH=86h, CF set.
    func testUnknownInt15FunctionIsUnsupported() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x15, [.eax: 0xC000])
        XCTAssertTrue(H.carry(m))
        XCTAssertEqual(m[.eax] & 0xFF00, 0x8600)
    }

    // MARK: INT 16h

    /// AH=01h with no key pressed: ZF set.
    func testInt16ReportsNoKey() throws {
        let m = try H.machine()
        _ = try H.int(m, 0x16, [.eax: 0x0100])
        XCTAssertTrue(H.zero(m))
    }

    /// AH=00h waits for a key with STI/HLT: with none, time passes until
    /// the run's budget ends, instead of spinning or returning garbage.
    func testInt16WaitForKeyWaitsInVirtualTime() throws {
        let m = try H.machine()
        XCTAssertEqual(try H.run(m, [0xB4, 0x00, 0xCD, 0x16, 0xCB], timeout: 500 * VirtualClock.millisecond), .timeout)
        XCTAssertGreaterThanOrEqual(try m.board.memory.readU32(0x46C), 9)
    }

    // MARK: INT 1Ah

    /// AH=00h returns the BDA tick count in CX:DX.
    func testInt1AReadsTheTickCount() throws {
        let m = try H.machine()
        try m.board.memory.writeU32(0x46C, 0x0001_2345)
        _ = try H.int(m, 0x1A, [.eax: 0x0000])
        XCTAssertEqual(m[.ecx] & 0xFFFF, 0x0001)
        XCTAssertEqual(m[.edx] & 0xFFFF, 0x2345)
    }

    // MARK: INT 18h, 19h

    /// INT 18h (boot failure) and INT 19h (bootstrap) end the run with their reasons.
    func testInt18AndInt19EndTheRun() throws {
        let m = try H.machine()
        XCTAssertEqual(try H.int(m, 0x18, [:]), .bootFailed)
        XCTAssertEqual(try H.int(m, 0x19, [:]), .bootstrap)
    }
}
