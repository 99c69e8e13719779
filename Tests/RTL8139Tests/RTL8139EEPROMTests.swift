import NICCore
import XCTest

@testable import RTL8139

/// Bit-bangs the 93C46 through 9346CR as 8139too does.
struct EEPROMBitBang {
    let rig: Rig
    static let enable: UInt8 = 0x80 | 0x08
    static let clk: UInt8 = 0x04
    static let di: UInt8 = 0x02

    func shiftOut(_ value: UInt32, bits: Int) {
        for i in stride(from: bits - 1, through: 0, by: -1) {
            let d: UInt8 = value & (1 << UInt32(i)) != 0 ? EEPROMBitBang.di : 0
            rig.w8(RTL8139Register.cr9346, EEPROMBitBang.enable | d)
            rig.w8(RTL8139Register.cr9346, EEPROMBitBang.enable | d | EEPROMBitBang.clk)
        }
        rig.w8(RTL8139Register.cr9346, EEPROMBitBang.enable)
    }

    func read(_ address: Int) -> UInt16 {
        rig.w8(RTL8139Register.cr9346, 0x80)
        rig.w8(RTL8139Register.cr9346, EEPROMBitBang.enable)
        shiftOut(0b110 << 6 | UInt32(address), bits: 9)
        var v: UInt16 = 0
        for _ in 0..<16 {
            rig.w8(RTL8139Register.cr9346, EEPROMBitBang.enable | EEPROMBitBang.clk)
            v = v << 1 | UInt16(rig.r8(RTL8139Register.cr9346) & 1)
            rig.w8(RTL8139Register.cr9346, EEPROMBitBang.enable)
        }
        rig.w8(RTL8139Register.cr9346, 0)
        return v
    }

    func command(_ value: UInt32, bits: Int, data: UInt16? = nil) {
        rig.w8(RTL8139Register.cr9346, 0x80)
        rig.w8(RTL8139Register.cr9346, EEPROMBitBang.enable)
        shiftOut(value, bits: bits)
        if let data { shiftOut(UInt32(data), bits: 16) }
        rig.w8(RTL8139Register.cr9346, 0)
    }
}

final class RTL8139EEPROMTests: XCTestCase {
    /// Word 0 is the RTL8139 EEPROM ID 0x8129; words 1-2 vendor and device.
    func testEEPROMHeaderWords() {
        let ee = EEPROMBitBang(rig: Rig())
        XCTAssertEqual(ee.read(0), 0x8129)
        XCTAssertEqual(ee.read(1), 0x10EC)
        XCTAssertEqual(ee.read(2), 0x8139)
    }

    /// Words 7-9 hold the MAC, low byte first.
    func testEEPROMHoldsMACAtWords7To9() {
        let ee = EEPROMBitBang(rig: Rig())
        XCTAssertEqual(ee.read(7), 0x5452)
        XCTAssertEqual(ee.read(8), 0x1200)
        XCTAssertEqual(ee.read(9), 0x5634)
    }

    /// EEDO reads 0 outside programming mode.
    func testEEDOOnlyInProgrammingMode() {
        let rig = Rig()
        XCTAssertEqual(rig.r8(RTL8139Register.cr9346) & 1, 0)
    }

    /// WRITE needs EWEN first (93C46 datasheet); auto-load then reloads IDR
    /// from the new words.
    func testWriteNeedsEWENAndAutoLoadReloadsIDR() {
        let rig = Rig()
        let ee = EEPROMBitBang(rig: rig)
        ee.command(0b101 << 6 | 7, bits: 9, data: 0xBBAA)
        XCTAssertEqual(ee.read(7), 0x5452, "write without EWEN is ignored")
        ee.command(0b100_110000, bits: 9)
        ee.command(0b101 << 6 | 7, bits: 9, data: 0xBBAA)
        XCTAssertEqual(ee.read(7), 0xBBAA)
        rig.w8(RTL8139Register.cr9346, 0x40)
        XCTAssertEqual(rig.r8(RTL8139Register.cr9346) & 0xC0, 0, "auto-load returns to normal mode")
        XCTAssertEqual(rig.r8(RTL8139Register.idr0), 0xAA)
        XCTAssertEqual(rig.r8(RTL8139Register.idr0 + 1), 0xBB)
    }
}

final class RTL8139EEPROMSequenceTests: XCTestCase {
    /// iPXE's SPI bit-basher in three-wire mode: every pin change is a
    /// read-modify-write of 9346CR; MOSI is set while SK is low and MISO is
    /// sampled while SK is high. It must read the same words 8139too does,
    /// and DO must read 1 during the address bits and 0 (the dummy bit)
    /// after the last one.
    func testIPXEStyleBitBashReadsMAC() {
        let rig = Rig()
        func set(_ mask: UInt8, _ on: Bool) {
            var v = rig.r8(RTL8139Register.cr9346)
            v = on ? v | mask : v & ~mask
            rig.w8(RTL8139Register.cr9346, v)
        }
        func clockBits(_ value: UInt32, _ count: Int, detect: inout [UInt8]) -> UInt32 {
            var input: UInt32 = 0
            for i in stride(from: count - 1, through: 0, by: -1) {
                set(0x02, value & (1 << UInt32(i)) != 0)
                set(0x04, true)
                let bit = rig.r8(RTL8139Register.cr9346) & 1
                detect.append(bit)
                input = input << 1 | UInt32(bit)
                set(0x04, false)
            }
            return input
        }
        func read(_ word: Int) -> (UInt16, [UInt8]) {
            rig.w8(RTL8139Register.cr9346, 0x80)
            set(0x08, false)
            set(0x04, false)
            set(0x08, true)
            var detect: [UInt8] = []
            _ = clockBits(0b110, 3, detect: &detect)
            detect.removeAll()
            _ = clockBits(UInt32(word), 6, detect: &detect)
            var ignored: [UInt8] = []
            let data = clockBits(0, 16, detect: &ignored)
            set(0x08, false)
            rig.w8(RTL8139Register.cr9346, 0)
            return (UInt16(data), detect)
        }
        let (id, detect) = read(0)
        XCTAssertEqual(id, 0x8129)
        XCTAssertEqual(detect, [1, 1, 1, 1, 1, 0])
        XCTAssertEqual(read(7).0, 0x5452)
        XCTAssertEqual(read(9).0, 0x5634)
    }
}
