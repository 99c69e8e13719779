import Board
import Foundation
import Machine
import NE2000
import NICCore
import OptionROM
import RTL8139
import VirtioNet
import XCTest

/// Records what a NIC puts on the wire.
final class WireTap: FrameTransmitter {
    private(set) var frames: [[UInt8]] = []
    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        frames.append(Array(frame))
    }

    /// A DHCPDISCOVER: IPv4, UDP 68 -> 67, BOOTREQUEST, option 53 = 1.
    var sawDHCPDiscover: Bool { dhcpDiscoverCount > 0 }

    /// DHCPDISCOVERs on the wire so far (first one and retransmissions).
    var dhcpDiscoverCount: Int {
        frames.count(where: { f in
            guard f.count > 282, f[12] == 0x08, f[13] == 0x00, f[23] == 17 else { return false }
            let ihl = Int(f[14] & 0x0F) * 4
            let udp = 14 + ihl
            guard f.count > udp + 8 + 240, f[udp + 2] == 0, f[udp + 3] == 67, f[udp + 8] == 1 else { return false }
            var o = udp + 8 + 240  // options after the magic cookie
            while o + 2 < f.count, f[o] != 0xFF {
                if f[o] == 0 { o += 1; continue }
                if f[o] == 53 { return f[o + 2] == 1 }
                o += 2 + Int(f[o + 1])
            }
            return false
        })
    }
}

/// Target 3 of the machine: Debian's real iPXE option ROMs (ipxe-qemu) run
/// on our device models the way a PC BIOS runs them (shadow, INIT with
/// the $PnP installation check, BEV). iPXE's own drivers then probe the
/// card by PCI BIOS calls, drive our registers, print the MAC they read
/// from our EEPROM/PROM/config space, and send DHCPDISCOVER through our
/// transmit path. These are the strongest evidence that the models behave
/// like the hardware.
final class IPXEROMTests: XCTestCase {
    static let mac = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
    static let slot = PCIAddress(device: 3)

    func rom(_ name: String) throws -> ExpansionROM {
        let path = "/usr/lib/ipxe/qemu/\(name)"
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path), "\(path) missing: apt install ipxe-qemu")
        return try ExpansionROM(bytes: [UInt8](data))
    }

    /// A 64 MiB PC with `nic` at 00:03.0, resources assigned as POST does,
    /// and a tap on the NIC's wire.
    func machine(_ make: (Board) -> (PCIFunction, FramePort)) throws -> (Machine, WireTap) {
        let board = Board(memorySize: 64 << 20)
        let (nic, port) = make(board)
        board.attach(nic, at: Self.slot)
        board.add(port: port)
        let tap = WireTap()
        port.transmitter = tap
        board.assignResources()
        return (try Machine(board: board), tap)
    }

    /// POST + BEV until the ROM's driver has sent DHCPDISCOVER; returns the console.
    func boot(_ romName: String, _ make: (Board) -> (PCIFunction, FramePort)) throws -> (String, WireTap, MachineStop) {
        let (m, tap) = try machine(make)
        var shadowed = try m.shadow(try rom(romName), for: Self.slot)
        XCTAssertEqual(try m.initialize(&shadowed), .returned)
        XCTAssertNotNil(shadowed.bev)
        let stop = try m.bootstrap(shadowed, until: { tap.sawDHCPDiscover }, timeout: 20 * VirtualClock.second)
        return (m.bios.console, tap, stop)
    }

    /// INIT prints iPXE's banner with the PCI address it was given in AX,
    /// the PCI BIOS version from INT 1Ah B101h, PnP (our $PnP
    /// installation check) and PMM (our $PMM allocation), and returns.
    func testRTL8139ROMInitFindsPCIBIOSPnPAndPMM() throws {
        let (m, _) = try machine { b in
            let nic = RTL8139(macAddress: Self.mac, memory: b.memory, clock: b.clock)
            return (nic, nic.port)
        }
        var shadowed = try m.shadow(try rom("pxe-rtl8139.rom"), for: Self.slot)
        XCTAssertEqual(try m.initialize(&shadowed), .returned)
        let console = m.bios.console
        XCTAssertTrue(console.contains("iPXE (http://ipxe.org) 00:03.0 C000 PCI2.10 PnP PMM+"), console)
        XCTAssertNotNil(shadowed.bev)
    }

    /// pxe-rtl8139.rom: iPXE's rtl8139 driver opens our RTL8139, reads the
    /// MAC from our 93C46 EEPROM, sees link up, and transmits DHCPDISCOVER.
    func testRTL8139ROMDrivesOurRTL8139() throws {
        let (console, tap, stop) = try boot("pxe-rtl8139.rom") { b in
            let nic = RTL8139(macAddress: Self.mac, memory: b.memory, clock: b.clock)
            return (nic, nic.port)
        }
        XCTAssertTrue(console.contains("net0: 52:54:00:12:34:56 using rtl8139 on 0000:00:03.0 (open)"), console)
        XCTAssertTrue(console.contains("[Link:up"), console)
        XCTAssertEqual(stop, .condition, console)
        XCTAssertTrue(tap.sawDHCPDiscover)
    }

    /// pxe-virtio.rom on our virtio-net with `variant`: iPXE's driver
    /// resets and negotiates, sets up its virtqueues in guest RAM, reads the
    /// MAC from the device config and transmits DHCPDISCOVER through the
    /// transmit virtqueue.
    func bootVirtio(_ variant: VirtioPCIVariant) throws {
        let (console, tap, stop) = try boot("pxe-virtio.rom") { b in
            let config = VirtioNetConfiguration(macAddress: Self.mac, variant: variant)
            let nic = VirtioNet(configuration: config, memory: b.memory, clock: b.clock)
            return (nic, nic.port)
        }
        XCTAssertTrue(console.contains("net0: 52:54:00:12:34:56 using virtio-net on 0000:00:03.0 (open)"), console)
        XCTAssertEqual(stop, .condition, console)
        XCTAssertTrue(tap.sawDHCPDiscover)
    }

    /// Legacy (1AF4:1000 revision 0): the I/O BAR register interface.
    func testVirtioROMDrivesOurLegacyVirtioNet() throws {
        try bootVirtio(.legacy)
    }

    /// Transitional (QEMU's default): iPXE finds the virtio 1.x capabilities
    /// (including VIRTIO_PCI_CAP_PCI_CFG, which it requires) and takes the
    /// modern interface over the memory BAR.
    func testVirtioROMDrivesOurTransitionalVirtioNet() throws {
        try bootVirtio(.transitional)
    }

    /// Modern only (1AF4:1041): the ROM's own PCIR IDs.
    func testVirtioROMDrivesOurModernVirtioNet() throws {
        try bootVirtio(.modern)
    }

    /// pxe-ne2k_pci.rom: iPXE's ns8390 driver finds our RTL8029 (10EC:8029),
    /// reads the station address from the PROM by remote DMA, and transmits
    /// DHCPDISCOVER through the DP8390's transmit page.
    func testNE2000ROMDrivesOurRTL8029() throws {
        let (console, tap, stop) = try boot("pxe-ne2k_pci.rom") { _ in
            let nic = RTL8029(macAddress: Self.mac)
            return (nic, nic.port)
        }
        XCTAssertTrue(console.contains("net0: 52:54:00:12:34:56 using"), console)
        XCTAssertTrue(console.contains("on 0000:00:03.0 (open)"), console)
        XCTAssertEqual(stop, .condition, console)
        XCTAssertTrue(tap.sawDHCPDiscover)
    }

    /// With no server answering, iPXE retransmits DHCPDISCOVER on its
    /// timer (RFC 2131 §4.1 backoff; iPXE waits 1 s, then 2 s, ...). Its
    /// BIOS timer reads the BDA tick count from 32-bit protected mode
    /// after STI; NOP; NOP; CLI, so this only works when the machine takes
    /// IRQ 0 in that two-instruction window: without it the tick count
    /// never moves and iPXE polls the NIC forever after the first DISCOVER.
    func testRTL8139ROMRetransmitsDHCPDiscoverOnItsTimer() throws {
        let (m, tap) = try machine { b in
            let nic = RTL8139(macAddress: Self.mac, memory: b.memory, clock: b.clock)
            return (nic, nic.port)
        }
        var shadowed = try m.shadow(try rom("pxe-rtl8139.rom"), for: Self.slot)
        XCTAssertEqual(try m.initialize(&shadowed), .returned)
        var framesSeen = 0, discovers = 0
        let stop = try m.bootstrap(shadowed, until: {
            if tap.frames.count != framesSeen {
                framesSeen = tap.frames.count
                discovers = tap.dhcpDiscoverCount
            }
            return discovers >= 3
        }, timeout: 12 * VirtualClock.second)
        XCTAssertEqual(stop, .condition, m.bios.console)
        XCTAssertGreaterThanOrEqual(tap.dhcpDiscoverCount, 3)
    }

    /// Two boots of the same ROM on the same model end at the same virtual
    /// instant after the same number of instructions with the same console
    /// and the same frames on the wire: real firmware runs deterministically.
    func testIPXEBootIsDeterministic() throws {
        func once() throws -> (UInt64, UInt64, String, [[UInt8]]) {
            let (m, tap) = try machine { b in
                let nic = RTL8139(macAddress: Self.mac, memory: b.memory, clock: b.clock)
                return (nic, nic.port)
            }
            var shadowed = try m.shadow(try rom("pxe-rtl8139.rom"), for: Self.slot)
            try m.initialize(&shadowed)
            try m.bootstrap(shadowed, until: { tap.sawDHCPDiscover }, timeout: 20 * VirtualClock.second)
            return (m.board.clock.now, m.instructionsExecuted, m.bios.console, tap.frames)
        }
        let a = try once(), b = try once()
        XCTAssertEqual(a.0, b.0)
        XCTAssertEqual(a.1, b.1)
        XCTAssertEqual(a.2, b.2)
        XCTAssertEqual(a.3, b.3)
    }
}
