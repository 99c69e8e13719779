import Board
import BootServer
import Bridge
import Foundation
import Machine
import NE2000
import NICCore
import OptionROM
import RTL8139
import VirtioNet
import Wire
import XCTest

/// Target 3 of the machine, on a network: Debian's real iPXE option ROMs
/// run on our device models with the NIC on a `VirtualSwitch` beside the
/// embedded `BootServer` (as `nicsim rom run --serve DIR` wires them).
/// iPXE's own driver sends DHCPDISCOVER, takes the OFFER from our receive
/// path, REQUESTs, takes the ACK, and prints the address it configured
/// ("net0: 10.0.2.100/255.255.255.0"): that line only appears when the
/// exchange worked in both directions on our registers.
///
/// iPXE configures IPv6 beside IPv4 and ends its configuration step only
/// when router discovery ends. The server answers its first Router
/// Solicitation with a Router Advertisement (no prefix, M and O clear), so
/// discovery ends at once and the lease line shows right after the ACK,
/// under 3 s of virtual time (the 2 s "Press Ctrl-B" prompt comes first).
/// Without the advertisement iPXE solicits 1, 2, 4 and 8 s apart and the
/// line shows only at about 18.4 s.
final class IPXEDHCPTests: XCTestCase {
    static let mac = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
    static let slot = PCIAddress(device: 3)
    /// The first address of the server's pool, as iPXE prints it.
    static let leased = "net0: 10.0.2.100/255.255.255.0"
    /// What the script the server hands out prints when iPXE runs it.
    static let scriptOutput = "nicsim tftp ok"

    struct Run {
        let console: String
        let stop: MachineStop
        let server: BootServer
        /// Virtual time when the run stopped.
        let elapsed: UInt64
    }

    /// Boots `romName` on the NIC `make` builds, on a switch with a boot
    /// server leasing 10.0.2.100-10.0.2.199 from 10.0.2.2 and serving the
    /// iPXE script `boot.ipxe`; runs until the console shows `text`.
    func boot(_ romName: String, until text: String, timeout: UInt64 = 10 * VirtualClock.second,
              _ make: (Board) -> (PCIFunction, FramePort)) throws -> Run {
        let path = "/usr/lib/ipxe/qemu/\(romName)"
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path), "\(path) missing: apt install ipxe-qemu")
        let rom = try ExpansionROM(bytes: [UInt8](data))
        let board = Board(memorySize: 64 << 20)
        let (nic, port) = make(board)
        board.attach(nic, at: Self.slot)
        board.add(port: port)

        let network = try EmbeddedNetwork(board: board, port: port, files: ["boot.ipxe": Array("#!ipxe\necho \(Self.scriptOutput)\n".utf8)],
                                          bootFile: "boot.ipxe")
        let server = network.server
        board.assignResources()

        let m = try Machine(board: board)
        var shadowed = try m.shadow(rom, for: Self.slot)
        XCTAssertEqual(try m.initialize(&shadowed), .returned)
        let stop = try m.bootstrap(shadowed, until: m.consoleShows(text), timeout: timeout)
        return Run(console: m.bios.console, stop: stop, server: server, elapsed: board.clock.now)
    }

    /// The server answered iPXE's Router Solicitation, so the address was
    /// configured within 3 s of virtual time instead of after the ~16 s of
    /// unanswered solicitations.
    func assertRouterDiscoveryEndedEarly(_ r: Run, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThanOrEqual(r.server.counters.routerAdvertisements, 1, file: file, line: line)
        XCTAssertLessThan(r.elapsed, 3 * VirtualClock.second, "lease line at \(Double(r.elapsed) / 1e9) s", file: file, line: line)
    }

    static func rtl8139(_ b: Board) -> (PCIFunction, FramePort) {
        let nic = RTL8139(macAddress: mac, memory: b.memory, clock: b.clock)
        return (nic, nic.port)
    }

    /// pxe-rtl8139.rom on our RTL8139: iPXE's rtl8139 driver takes the
    /// OFFER and ACK from the receive ring (RBSTART, the 4-byte packet
    /// header, CAPR 16 bytes behind the read pointer, ISR ROK
    /// write-1-to-clear) and configures the leased address.
    func testRTL8139ROMLeasesAnAddress() throws {
        let r = try boot("pxe-rtl8139.rom", until: Self.leased, Self.rtl8139)
        XCTAssertEqual(r.stop, .condition, r.console)
        XCTAssertTrue(r.console.contains(Self.leased), r.console)
        XCTAssertEqual(r.server.counters.dhcpReplies, 2, "one OFFER, one ACK")
        assertRouterDiscoveryEndedEarly(r)
    }

    /// pxe-ne2k_pci.rom on our RTL8029: iPXE's ns8390 driver takes the
    /// OFFER and ACK out of the DP8390 receive ring by remote DMA (BNRY and
    /// CURR, the 4-byte receive status header) and configures the address.
    func testNE2000ROMLeasesAnAddress() throws {
        let r = try boot("pxe-ne2k_pci.rom", until: Self.leased) { _ in
            let nic = RTL8029(macAddress: Self.mac)
            return (nic, nic.port)
        }
        XCTAssertEqual(r.stop, .condition, r.console)
        XCTAssertTrue(r.console.contains(Self.leased), r.console)
        XCTAssertEqual(r.server.counters.dhcpReplies, 2, "one OFFER, one ACK")
        assertRouterDiscoveryEndedEarly(r)
    }

    /// pxe-virtio.rom on our transitional virtio-net: iPXE's driver takes
    /// the OFFER and ACK through the receive virtqueue (used ring, the
    /// virtio-net header before each frame) and configures the address.
    func testVirtioROMLeasesAnAddress() throws {
        let r = try boot("pxe-virtio.rom", until: Self.leased) { b in
            let config = VirtioNetConfiguration(macAddress: Self.mac, variant: .transitional)
            let nic = VirtioNet(configuration: config, memory: b.memory, clock: b.clock)
            return (nic, nic.port)
        }
        XCTAssertEqual(r.stop, .condition, r.console)
        XCTAssertTrue(r.console.contains(Self.leased), r.console)
        XCTAssertEqual(r.server.counters.dhcpReplies, 2, "one OFFER, one ACK")
        assertRouterDiscoveryEndedEarly(r)
    }

    /// After the lease, iPXE boots the DHCP filename: it resolves the
    /// server by ARP, reads boot.ipxe over TFTP (RFC 1350 with the blksize
    /// option), recognises the "#!ipxe" script and runs it, so the
    /// script's echo reaches our console.
    func testRTL8139ROMFetchesAndRunsAScriptOverTFTP() throws {
        let r = try boot("pxe-rtl8139.rom", until: Self.scriptOutput, Self.rtl8139)
        XCTAssertEqual(r.stop, .condition, r.console)
        XCTAssertTrue(r.console.contains("tftp://10.0.2.2/boot.ipxe"), r.console)
        XCTAssertTrue(r.console.contains("boot.ipxe : 27 bytes [script]"), r.console)
        XCTAssertEqual(r.server.tftp?.counters.completed, 1)
    }

    /// The same on our RTL8029: ARP, the TFTP read and the script all go
    /// through the DP8390 transmit page and receive ring.
    func testNE2000ROMFetchesAndRunsAScriptOverTFTP() throws {
        let r = try boot("pxe-ne2k_pci.rom", until: Self.scriptOutput) { _ in
            let nic = RTL8029(macAddress: Self.mac)
            return (nic, nic.port)
        }
        XCTAssertEqual(r.stop, .condition, r.console)
        XCTAssertTrue(r.console.contains("boot.ipxe : 27 bytes [script]"), r.console)
        XCTAssertEqual(r.server.tftp?.counters.completed, 1)
    }

    /// The same on our transitional virtio-net, through its virtqueues.
    func testVirtioROMFetchesAndRunsAScriptOverTFTP() throws {
        let r = try boot("pxe-virtio.rom", until: Self.scriptOutput) { b in
            let config = VirtioNetConfiguration(macAddress: Self.mac, variant: .transitional)
            let nic = VirtioNet(configuration: config, memory: b.memory, clock: b.clock)
            return (nic, nic.port)
        }
        XCTAssertEqual(r.stop, .condition, r.console)
        XCTAssertTrue(r.console.contains("boot.ipxe : 27 bytes [script]"), r.console)
        XCTAssertEqual(r.server.tftp?.counters.completed, 1)
    }
}
