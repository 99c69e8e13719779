import Board
import NICCore
@testable import QTest
import XCTest

final class QEMUOptionsTests: XCTestCase {
    private func parse(_ line: String) throws(QEMUOptionsError) -> QEMUOptions {
        try QEMUOptions.parse(line.split(separator: " ").map(String.init))
    }
    private func error(_ line: String) -> String? {
        do { _ = try parse(line); return nil } catch { return error.description }
    }

    /// The harness line QEMU itself takes is accepted whole.
    func testTypicalHarnessLine() throws {
        let o = try parse("-machine pc,accel=tcg -m 64M -display none -nodefaults -monitor none -serial none -bios /tmp/halt.bin -qtest stdio -qtest-log /dev/null -netdev socket,id=n0,fd=3 -device rtl8139,netdev=n0,addr=3,mac=52:54:00:aa:bb:cc")
        XCTAssertEqual(o.memorySize, 64 << 20)
        XCTAssertEqual(o.channel, .stdio)
        XCTAssertEqual(o.netdevs["n0"], .socketFD(3))
        XCTAssertEqual(o.devices.count, 1)
        XCTAssertEqual(o.devices[0].driver, .rtl8139)
        XCTAssertEqual(o.devices[0].netdev, "n0")
        XCTAssertEqual(o.devices[0].address?.slot, 3)
        XCTAssertEqual(o.devices[0].mac, MACAddress(0x52, 0x54, 0x00, 0xAA, 0xBB, 0xCC))
        XCTAssertEqual(o.ignored.count, 7)
    }

    /// QEMU reads addr= as hexadecimal SLOT[.FN].
    func testPCIAddressIsHex() throws {
        XCTAssertEqual(try parse("-device ne2k_pci,addr=0a").devices[0].address?.slot, 10)
        let a = try parse("-device ne2k_pci,addr=1f.2").devices[0].address
        XCTAssertEqual(a?.slot, 31)
        XCTAssertEqual(a?.function, 2)
        XCTAssertNotNil(error("-device ne2k_pci,addr=20"))
    }

    func testVirtioFlagsAndISAProperties() throws {
        let v = try parse("-device virtio-net-pci,disable-legacy=on,disable-modern=off").devices[0]
        XCTAssertEqual(v.disableLegacy, true)
        XCTAssertEqual(v.disableModern, false)
        let i = try parse("-device ne2k_isa,iobase=0x320,irq=10").devices[0]
        XCTAssertEqual(i.ioBase, 0x320)
        XCTAssertEqual(i.irq, 10)
        XCTAssertNotNil(error("-device rtl8139,disable-legacy=on"))
    }

    func testNetdevStreamForms() throws {
        XCTAssertEqual(try parse("-netdev stream,id=s,addr.type=unix,addr.path=/tmp/s.sock,server=on").netdevs["s"],
                       .streamUnix(path: "/tmp/s.sock", server: true))
        XCTAssertEqual(try parse("-netdev stream,id=s,addr.type=inet,addr.host=127.0.0.1,addr.port=5555").netdevs["s"],
                       .streamInet(host: "127.0.0.1", port: 5555, server: false))
    }

    /// -m takes MiB by default and K/M/G suffixes; RAM stays below the PCI hole.
    func testMemorySizes() throws {
        XCTAssertEqual(try parse("-m 32").memorySize, 32 << 20)
        XCTAssertEqual(try parse("-m 1G").memorySize, 1 << 30)
        XCTAssertEqual(try parse("-m size=16M").memorySize, 16 << 20)
        XCTAssertNotNil(error("-m 0"))
        XCTAssertNotNil(error("-m 512K"))
        XCTAssertEqual(try parse("-m 3G").memorySize, 3 << 30)
        XCTAssertEqual(error("-m 4G"), "-m 4G: nicsim's qtest board takes 1 MiB to 3 GiB of RAM")
        XCTAssertNotNil(error("-m 8X"))
    }

    func testQTestChannels() throws {
        XCTAssertEqual(try parse("-qtest unix:/tmp/q.sock").channel, .unix(path: "/tmp/q.sock", server: false))
        XCTAssertEqual(try parse("-qtest unix:/tmp/q.sock,server=on,wait=off").channel, .unix(path: "/tmp/q.sock", server: true))
        XCTAssertNotNil(error("-qtest tcp:localhost:4444"))
    }

    /// Mistakes end in one line naming the option.
    func testErrorsNameTheProblem() {
        XCTAssertEqual(error("-device e1000"), "-device e1000: unknown device; nicsim has rtl8139, ne2k_pci, ne2k_isa, virtio-net-pci")
        XCTAssertEqual(error("-device rtl8139,netdev=x"), "-device rtl8139: netdev 'x' not found")
        XCTAssertEqual(error("-netdev socket,id=n,fd=3 -device rtl8139,netdev=n -device ne2k_pci,netdev=n"),
                       "-device ne2k_pci: netdev 'n' is already used by another device")
        XCTAssertEqual(error("-netdev user,id=u"), "-netdev user: backend not supported; use socket,fd=N or stream")
        XCTAssertEqual(error("-device"), "-device needs a value")
        XCTAssertEqual(error("-cpu max"), "-cpu: option not supported by nicsim qtest")
        XCTAssertEqual(error("stray"), "stray: expected an option such as -device or -netdev")
        XCTAssertEqual(error("-netdev socket,id=a,fd=3 -netdev socket,id=a,fd=4"), "-netdev socket,id=a,fd=4: duplicate id 'a'")
    }

    /// The machine has the host bridge at 00:00.0 and PIIX3 at 00:01.0; -m sets RAM.
    func testMachineLayout() throws {
        let m = try QTestMachine(options: try parse("-m 16") as QEMUOptions)
        XCTAssertEqual(m.board.pci.addresses, [PCIAddress(device: 0), PCIAddress(device: 1)])
        XCTAssertEqual(m.board.memory.size, 16 << 20)
    }
}
