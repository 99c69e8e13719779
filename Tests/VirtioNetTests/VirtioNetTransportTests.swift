import NICCore
import VirtioNet
import XCTest

final class VirtioNetTransportTests: XCTestCase {
    /// virtio 1.x 4.1.2.1: transitional devices use 1af4:1000-103f with the
    /// device type (1, network) in the subsystem ID and revision 0.
    func testTransitionalIdentityAndBARs() {
        let g = VirtioTestGuest()
        let c = g.device.config
        XCTAssertEqual(c.read(offset: 0, width: .dword), 0x1000_1AF4)
        XCTAssertEqual(c.read(offset: PCIConfigRegister.subsystemID, width: .word), 1)
        XCTAssertEqual(c.read(offset: PCIConfigRegister.revisionID, width: .byte), 0)
        XCTAssertEqual(c.read(offset: 0x08, width: .dword) >> 8, 0x02_0000)
        // Legacy block: 20 bytes of registers and 12 of config, 32 in all.
        XCTAssertEqual(c.bars[0], .io(size: 32))
        let withMSIX = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, msixVectors: 2))
        XCTAssertEqual(withMSIX.device.config.bars[0], .io(size: 64), "24 + 12 bytes round up to 64")
        XCTAssertEqual(c.bars[4], .memory64(size: 0x4000, prefetchable: true))
    }

    /// virtio 1.x 4.1.2.1: a modern-only device is 0x1040 + type (0x1041)
    /// with revision 1 or more, and needs no legacy I/O BAR (disable-legacy).
    func testModernOnlyIdentityHasNoIOBAR() {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, variant: .modern))
        let c = g.device.config
        XCTAssertEqual(c.read(offset: 0, width: .dword), 0x1041_1AF4)
        XCTAssertEqual(c.read(offset: PCIConfigRegister.revisionID, width: .byte), 1)
        XCTAssertNil(c.bars[0])
        XCTAssertNil(g.device.registers(forBAR: 0))
        XCTAssertNotNil(g.device.registers(forBAR: 4))
    }

    /// disable-modern: a legacy-only device has the I/O BAR and no capability list.
    func testLegacyOnlyHasNoCapabilities() {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, variant: .legacy))
        XCTAssertEqual(g.device.config.status.contains(.capabilitiesList), false)
        XCTAssertNil(g.device.registers(forBAR: 4))
        XCTAssertFalse(g.device.offeredFeatures.contains(.version1))
        XCTAssertEqual(VirtioPCIVariant(disableLegacy: false, disableModern: true), .legacy)
        XCTAssertEqual(VirtioPCIVariant(disableLegacy: true, disableModern: false), .modern)
        XCTAssertEqual(VirtioPCIVariant(disableLegacy: false, disableModern: false), .transitional)
    }

    /// virtio 1.x 4.1.4: vendor capabilities (ID 0x09) name the common,
    /// notify, ISR and device structures by BAR, offset and length; the
    /// notify one carries notify_off_multiplier.
    func testVendorCapabilitiesLocateStructures() {
        let g = VirtioTestGuest()
        let c = g.device.config
        var found: [UInt8: (bar: UInt32, offset: UInt32, length: UInt32)] = [:]
        var multiplier: UInt32 = 0
        var p = Int(c.read(offset: 0x34, width: .byte))
        var steps = 0
        while p != 0 && steps < 16 {
            steps += 1
            if c.read(offset: p, width: .byte) == 0x09 {
                let type = UInt8(c.read(offset: p + 3, width: .byte))
                found[type] = (c.read(offset: p + 4, width: .byte), c.read(offset: p + 8, width: .dword), c.read(offset: p + 12, width: .dword))
                // cap_len: 16, plus notify_off_multiplier or pci_cfg_data.
                XCTAssertEqual(c.read(offset: p + 2, width: .byte), type == 2 || type == 5 ? 20 : 16)
                if type == 2 { multiplier = c.read(offset: p + 16, width: .dword) }
            }
            p = Int(c.read(offset: p + 1, width: .byte))
        }
        XCTAssertEqual(found[1]?.bar, 4)
        XCTAssertEqual(found[1]?.offset, 0)
        XCTAssertEqual(found[2]?.offset, 0x3000)
        XCTAssertEqual(found[3]?.offset, 0x1000)
        XCTAssertEqual(found[4]?.offset, 0x2000)
        XCTAssertEqual(multiplier, 4)
    }

    /// 5.1.4: mac, status (LINK_UP) and mtu are in the device config, read
    /// through the modern device structure and at 0x14 of the legacy BAR.
    func testDeviceConfigCarriesMACStatusAndMTU() {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, mtu: 1400))
        let m = (0..<6).map { UInt8(g.modern?.read(offset: 0x2000 + UInt64($0), width: .byte) ?? 0) }
        XCTAssertEqual(m, VirtioTestGuest.mac.bytes)
        XCTAssertEqual(g.modern?.read(offset: 0x2006, width: .word), 1)
        XCTAssertEqual(g.modern?.read(offset: 0x200A, width: .word), 1400)
        XCTAssertEqual(g.legacyRead(0x14, .byte), 0x52)
        XCTAssertEqual(g.legacyRead(0x14 + 5, .byte), 0x56)
        XCTAssertTrue(g.device.offeredFeatures.contains(.mtu))
    }

    /// 2.2: the features offered depend on what the backend supports.
    func testOfferedFeaturesFollowTheBackend() {
        let plain = VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, controlQueue: false, mergeableReceiveBuffers: false,
                                           checksumOffload: false, indirectDescriptors: false, eventIndex: false).offeredFeatures
        XCTAssertEqual(plain, [.mac, .status, .anyLayout, .version1])
        let full = VirtioNetConfiguration(macAddress: VirtioTestGuest.mac).offeredFeatures
        XCTAssertTrue(full.isSuperset(of: [.csum, .guestCsum, .mrgRxbuf, .ctrlVQ, .ctrlRx, .ctrlVLAN, .indirectDesc, .eventIdx]))
        XCTAssertEqual(VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, controlQueue: false)).common(0x12, .word), 2)
        XCTAssertEqual(VirtioTestGuest().common(0x12, .word), 3)
    }

    /// 2.2.1 / 3.1.1: accepting a feature the device did not offer makes
    /// FEATURES_OK fail to stick.
    func testFeaturesOKRefusedForUnofferedFeature() {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, controlQueue: false))
        let status = g.start(features: [.version1, .mac, .ctrlVQ])
        XCTAssertEqual(status & 8, 0)
        XCTAssertEqual(g.device.negotiatedFeatures, [])
    }

    /// A modern-only device refuses a driver that does not accept VERSION_1.
    func testFeaturesOKRefusedWithoutVersion1OnModernDevice() {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, variant: .modern))
        XCTAssertEqual(g.start(features: [.mac]) & 8, 0)
    }

    /// An offered subset is accepted; FEATURES_OK and then DRIVER_OK stick.
    func testFeaturesOKSticksForOfferedSubset() {
        let g = VirtioTestGuest()
        XCTAssertEqual(g.start(features: [.version1, .mac, .mrgRxbuf]), 0xF)
        XCTAssertEqual(g.device.negotiatedFeatures, [.version1, .mac, .mrgRxbuf])
        XCTAssertEqual(g.device.headerLength, 12)
    }

    /// 2.2.2: the device must not accept new features after FEATURES_OK.
    func testDriverFeaturesIgnoredAfterFeaturesOK() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac])
        g.writeDriverFeatures([.version1, .mac, .mrgRxbuf])
        XCTAssertEqual(g.device.driverFeatures, [.version1, .mac])
        XCTAssertEqual(g.device.headerLength, 12)
    }

    /// Legacy drivers have no FEATURES_OK: the Guest Features write takes
    /// effect, bits never offered are dropped, the header is 10 bytes.
    func testLegacyGuestFeaturesDropUnofferedBits() {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, variant: .legacy, queueSize: 16, controlQueue: false))
        XCTAssertEqual(g.deviceFeatures.contains(.version1), false)
        g.start(features: [.mac, .ctrlVQ])
        XCTAssertEqual(g.status, 7)
        XCTAssertEqual(g.device.negotiatedFeatures, [.mac])
        XCTAssertEqual(g.device.headerLength, 10)
    }

    /// 2.1.2 / 4.1.4.3.2: writing 0 to device status resets the device:
    /// status, features and queues back to their initial state.
    func testWritingZeroStatusResetsDevice() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac])
        XCTAssertTrue(g.device.queues[0].isEnabled)
        g.setStatus(0)
        XCTAssertEqual(g.status, 0)
        XCTAssertEqual(g.device.negotiatedFeatures, [])
        XCTAssertFalse(g.device.queues[0].isEnabled)
        g.setCommon(VirtioCommonConfig.queueSelect, .word, 0)
        XCTAssertEqual(g.common(VirtioCommonConfig.queueSize, .word), 256)
        XCTAssertEqual(g.common(VirtioCommonConfig.queueEnable, .word), 0)
    }

    /// 4.1.4.3: a queue past num_queues reads queue_size 0.
    func testNonexistentQueueReadsSizeZero() {
        let g = VirtioTestGuest()
        g.setCommon(VirtioCommonConfig.queueSelect, .word, 7)
        XCTAssertEqual(g.common(VirtioCommonConfig.queueSize, .word), 0)
        g.setCommon(VirtioCommonConfig.queueEnable, .word, 1)
        XCTAssertEqual(g.common(VirtioCommonConfig.queueEnable, .word), 0)
    }

    /// 4.1.4.5: ISR bit 0 follows used buffers; INTx is asserted until
    /// the driver reads ISR, which clears it.
    func testINTxAssertedUntilISRRead() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac])
        g.rx.setDescriptor(0, address: VirtioTestGuest.dataBase, length: 2048, flags: MockVirtQueue.write)
        g.rx.publish(0)
        XCTAssertEqual(g.offer(VirtioTestGuest.frame()), .delivered)
        XCTAssertTrue(g.intx.isAsserted)
        XCTAssertEqual(g.readISR(), 1)
        XCTAssertFalse(g.intx.isAsserted)
        XCTAssertEqual(g.readISR(), 0)
    }

    /// 5.1.4.2 / 4.1.4.5: with STATUS negotiated a link change is a
    /// configuration change: ISR bit 1 and a new config_generation.
    func testLinkChangeRaisesConfigInterrupt() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac, .status])
        let generation = g.common(VirtioCommonConfig.configGeneration, .byte)
        g.device.port.setLink(up: false)
        XCTAssertEqual(g.modern?.read(offset: 0x2006, width: .word), 0)
        XCTAssertNotEqual(g.common(VirtioCommonConfig.configGeneration, .byte), generation)
        XCTAssertEqual(g.readISR(), 2)
    }

    /// PCI 6.8.2: the MSI-X table starts masked; a queue interrupt goes to
    /// the queue's vector as the programmed message once unmasked, and
    /// INTx stays quiet while MSI-X is enabled.
    func testMSIXDeliversQueueVectorAndRecordsIt() throws {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, msixVectors: 3))
        let table = try XCTUnwrap(g.device.registers(forBAR: 1))
        let cap = Int(g.device.config.read(offset: 0x34, width: .byte))
        XCTAssertEqual(g.device.config.read(offset: cap, width: .byte), 0x11)
        XCTAssertEqual(g.device.config.read(offset: cap + 2, width: .word) & 0x7FF, 2)
        g.device.config.write(offset: cap + 2, width: .word, value: 0x8000)
        XCTAssertTrue(g.device.msixEnabled)
        table.write(offset: 16 + 0, width: .dword, value: 0xFEE0_0000)
        table.write(offset: 16 + 8, width: .dword, value: 0x41)
        g.start(features: [.version1, .mac])
        g.setCommon(VirtioCommonConfig.queueSelect, .word, 0)
        XCTAssertEqual(g.device.queues[0].isEnabled, true)
        // Vectors are set before enabling in real drivers; the device keeps any it has.
        g.setCommon(VirtioCommonConfig.queueMSIXVector, .word, 1)
        XCTAssertEqual(g.common(VirtioCommonConfig.queueMSIXVector, .word), 1)
        g.setCommon(VirtioCommonConfig.queueMSIXVector, .word, 9)
        XCTAssertEqual(g.common(VirtioCommonConfig.queueMSIXVector, .word), 0xFFFF, "a vector past the table reads back NO_VECTOR")
        g.setCommon(VirtioCommonConfig.queueMSIXVector, .word, 1)
        g.rx.setDescriptor(0, address: VirtioTestGuest.dataBase, length: 2048, flags: MockVirtQueue.write)
        g.rx.publish(0)
        g.offer(VirtioTestGuest.frame())
        XCTAssertEqual(g.device.msix?.deliveries[1], 0, "masked vector: pending, not sent")
        XCTAssertEqual(table.read(offset: 0x800, width: .dword), 0b10)
        table.write(offset: 16 + 12, width: .dword, value: 0)
        XCTAssertEqual(g.device.msix?.deliveries[1], 1)
        XCTAssertEqual(g.device.msix?.lastMessage?.address, 0xFEE0_0000)
        XCTAssertEqual(g.device.msix?.lastMessage?.data, 0x41)
        XCTAssertFalse(g.intx.isAsserted)
    }

    /// A device with an MSI-X table still uses INTx while the driver leaves
    /// MSI-X disabled (how iPXE drives it).
    func testINTxUsedWhileMSIXDisabled() {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, msixVectors: 3))
        g.start(features: [.version1, .mac])
        g.rx.setDescriptor(0, address: VirtioTestGuest.dataBase, length: 2048, flags: MockVirtQueue.write)
        g.rx.publish(0)
        g.offer(VirtioTestGuest.frame())
        XCTAssertFalse(g.device.msixEnabled)
        XCTAssertTrue(g.intx.isAsserted)
        XCTAssertEqual(g.device.msix?.deliveries.reduce(0, +), 0)
    }

    /// Legacy layout with MSI-X enabled: vectors at 0x14/0x16, device config moves to 0x18.
    func testLegacyConfigMovesWhenMSIXEnabled() {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, variant: .legacy, msixVectors: 2))
        XCTAssertEqual(g.legacyRead(0x14, .byte), 0x52)
        let cap = Int(g.device.config.read(offset: 0x34, width: .byte))
        g.device.config.write(offset: cap + 2, width: .word, value: 0x8000)
        XCTAssertEqual(g.legacyRead(0x18, .byte), 0x52)
        XCTAssertEqual(g.legacyRead(0x14, .word), 0xFFFF)
        g.legacyWrite(0x14, .word, 1)
        XCTAssertEqual(g.device.msixConfigVector, 1)
    }
}

final class VirtioNetConfigWindowTests: XCTestCase {
    private func windowOffset(_ g: VirtioTestGuest) -> Int? {
        let c = g.device.config
        var p = Int(c.read(offset: 0x34, width: .byte))
        var steps = 0
        while p != 0 && steps < 16 {
            steps += 1
            if c.read(offset: p, width: .byte) == 0x09 && c.read(offset: p + 3, width: .byte) == 5 { return p }
            p = Int(c.read(offset: p + 1, width: .byte))
        }
        return nil
    }

    /// 4.1.4.9: the device presents VIRTIO_PCI_CAP_PCI_CFG (iPXE refuses a
    /// modern device without it); cap_len is 20.
    func testPCIConfigAccessCapabilityIsPresent() throws {
        let g = VirtioTestGuest()
        let cap = try XCTUnwrap(windowOffset(g))
        XCTAssertEqual(g.device.config.read(offset: cap + 2, width: .byte), 20)
    }

    /// 4.1.4.9.1: with bar, offset and length set, reading pci_cfg_data
    /// reads the BAR and writing it writes the BAR, through config cycles only.
    func testPCIConfigWindowReachesCommonConfig() throws {
        let g = VirtioTestGuest()
        let cap = try XCTUnwrap(windowOffset(g))
        let c = g.device.config
        c.write(offset: cap + 4, width: .byte, value: 4)
        c.write(offset: cap + 12, width: .dword, value: 4)
        c.write(offset: cap + 8, width: .dword, value: UInt32(VirtioCommonConfig.deviceFeature))
        XCTAssertEqual(c.read(offset: cap + 16, width: .dword), UInt32(truncatingIfNeeded: g.device.offeredFeatures.rawValue))
        c.write(offset: cap + 12, width: .dword, value: 1)
        c.write(offset: cap + 8, width: .dword, value: UInt32(VirtioCommonConfig.deviceStatus))
        c.write(offset: cap + 16, width: .byte, value: 1)
        XCTAssertEqual(g.device.status, .acknowledge)
        XCTAssertEqual(c.read(offset: cap + 16, width: .byte), 1)
    }

    /// A length other than 1, 2 or 4, or an offset not aligned to it, is ignored.
    func testPCIConfigWindowIgnoresBadLengthAndAlignment() throws {
        let g = VirtioTestGuest()
        let cap = try XCTUnwrap(windowOffset(g))
        let c = g.device.config
        c.write(offset: cap + 4, width: .byte, value: 4)
        c.write(offset: cap + 12, width: .dword, value: 3)
        c.write(offset: cap + 8, width: .dword, value: UInt32(VirtioCommonConfig.deviceStatus))
        c.write(offset: cap + 16, width: .byte, value: 1)
        XCTAssertEqual(g.device.status, [])
        c.write(offset: cap + 12, width: .dword, value: 2)
        c.write(offset: cap + 8, width: .dword, value: 0x15)
        c.write(offset: cap + 16, width: .word, value: 1)
        XCTAssertEqual(g.device.status, [])
        c.write(offset: cap + 4, width: .byte, value: 9)
        c.write(offset: cap + 12, width: .dword, value: 1)
        c.write(offset: cap + 8, width: .dword, value: UInt32(VirtioCommonConfig.deviceStatus))
        c.write(offset: cap + 16, width: .byte, value: 1)
        XCTAssertEqual(g.device.status, [], "there is no BAR 9")
    }
}
