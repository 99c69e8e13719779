import NE2000
import NICCatalogue
import NICCore
import RTL8139
import VirtioNet
import XCTest

/// The catalogue: one entry per card, found by either of its names.
final class NICCatalogueTests: XCTestCase {
    private func resources() -> NICHostResources {
        NICHostResources(memory: FlatMemory(size: 1 << 20), clock: VirtualClock())
    }

    func testEveryModelAnswersToItsNicsimAndQEMUName() {
        let names = [("rtl8139", "rtl8139"), ("ne2000", "ne2k_pci"), ("ne2000-isa", "ne2k_isa"), ("virtio-net", "virtio-net-pci")]
        for (nicsim, qemu) in names {
            XCTAssertEqual(NICCatalogue.entry(named: nicsim)?.qemuName, qemu)
            XCTAssertEqual(NICCatalogue.entry(named: qemu)?.name, nicsim)
        }
        XCTAssertNil(NICCatalogue.entry(named: "e1000"))
    }

    func testEntriesAreFoundByPCIIdentity() {
        XCTAssertEqual(NICCatalogue.entry(vendor: 0x10EC, device: 0x8139)?.name, "rtl8139")
        XCTAssertEqual(NICCatalogue.entry(vendor: 0x10EC, device: 0x8029)?.name, "ne2000")
        XCTAssertEqual(NICCatalogue.entry(vendor: 0x1AF4, device: 0x1041)?.name, "virtio-net")
    }

    /// UNDI's nominal speeds: 10 Mb/s NE2000, 100 Mb/s RTL8139, 1 Gb/s virtio-net.
    /// A bad value that carries a newline (from a C string) still makes a
    /// one-line reason: the fuzzer's `options-with-newline-in-reason`.
    func testAReasonQuotingControlCharactersStaysOneLine() {
        XCTAssertThrowsError(try NICOptions(parsing: "vectors=99\u{7}\n1").integer("vectors", in: 0...32)) { error in
            let line = (error as? NICCatalogueError)?.description ?? ""
            XCTAssertFalse(line.contains("\n"), line)
            XCTAssertTrue(line.contains("\\n"), line)
        }
    }

    func testLinkSpeeds() {
        XCTAssertEqual(NICCatalogue.ne2kPCI.linkSpeed, 10_000_000)
        XCTAssertEqual(NICCatalogue.rtl8139.linkSpeed, 100_000_000)
        XCTAssertEqual(NICCatalogue.virtioNetPCI.linkSpeed, 1_000_000_000)
    }

    func testBuiltCardsShowTheirPCIIdentity() throws {
        for entry in NICCatalogue.all where entry.bus == .pci {
            let card = try entry.build(resources: resources())
            let config = try XCTUnwrap(card.pci?.config)
            XCTAssertTrue(entry.pciIDs.contains { $0.vendor == config.identity.vendorID && $0.device == config.identity.deviceID }, entry.name)
            XCTAssertEqual(card.device.macAddress, NICCatalogueEntry.defaultMAC)
        }
    }

    /// QEMU's disable-legacy=on makes the modern-only function, 1af4:1041.
    func testVirtioVariantsFromOptions() throws {
        let modern = try NICCatalogue.build(model: "virtio-net-pci", options: "disable-legacy=on,vectors=3", resources: resources())
        XCTAssertEqual(modern.pci?.config.identity.deviceID, 0x1041)
        XCTAssertEqual((modern.device as? VirtioNet)?.msix?.vectorCount, 3)
        XCTAssertTrue(modern.hasMessageSignaledInterrupts)
        let legacy = try NICCatalogue.build(model: "virtio-net", options: "disable-modern=on,vectors=0", resources: resources())
        XCTAssertEqual(legacy.pci?.config.identity.deviceID, 0x1000)
        XCTAssertFalse(legacy.hasMessageSignaledInterrupts)
    }

    func testISAOptions() throws {
        let card = try NICCatalogue.build(model: "ne2k_isa", options: "iobase=0x320,irq=10,mac=02:00:00:00:00:01", resources: resources())
        XCTAssertEqual(card.isaResources?.ioBase, 0x320)
        XCTAssertEqual(card.isaResources?.irq, 10)
        XCTAssertEqual(card.device.macAddress, MACAddress(2, 0, 0, 0, 0, 1))
        XCTAssertNotNil(card.registers(forBAR: 0))
        XCTAssertNil(card.registers(forBAR: 1))
    }

    func testBadNamesAndOptionsEndInOneLine() {
        let cases: [(String, String, String)] = [
            ("e1000", "", "unknown model 'e1000'"),
            ("rtl8139", "iobase=0x300", "rtl8139: unknown option 'iobase'"),
            ("rtl8139", "mac=zz", "mac=zz: expected a MAC address"),
            ("virtio-net-pci", "disable-legacy=maybe", "disable-legacy=maybe: expected on or off"),
            ("virtio-net-pci", "vectors=65", "vectors=65: expected an integer in 0...64"),
            ("virtio-net-pci", "disable-legacy=on,disable-modern=on", "leave no interface"),
            ("ne2k_isa", "irq=16", "irq=16"),
        ]
        for (model, options, expected) in cases {
            XCTAssertThrowsError(try NICCatalogue.build(model: model, options: options, resources: resources())) { error in
                let text = (error as? NICCatalogueError)?.description ?? ""
                XCTAssertTrue(text.contains(expected), "\(model) \(options): \(text)")
                XCTAssertFalse(text.contains("\n"))
            }
        }
    }

    func testOptionsSplitLikeQEMU() throws {
        let o = try NICOptions(parsing: "mac=52:54:00:00:00:01,disable-legacy,id=a,,b")
        XCTAssertEqual(o.value("disable-legacy"), "on")
        XCTAssertEqual(o.value("id"), "a,b")
        XCTAssertEqual(try NICOptions(parsing: "").pairs.count, 0)
    }
}
