import NICCore
import VirtioNet
import XCTest

/// Register-level corner cases of both interfaces: odd widths, bad values,
/// writes at the wrong time.
final class VirtioNetRegisterTests: XCTestCase {
    /// 4.1.4.3: device_feature shows the 32 bits device_feature_select
    /// names; selectors past 1 read 0.
    func testFeatureSelectWindows() {
        let g = VirtioTestGuest()
        g.setCommon(VirtioCommonConfig.deviceFeatureSelect, .dword, 1)
        XCTAssertEqual(g.common(VirtioCommonConfig.deviceFeature, .dword), 1, "VERSION_1 is bit 32")
        g.setCommon(VirtioCommonConfig.deviceFeatureSelect, .dword, 2)
        XCTAssertEqual(g.common(VirtioCommonConfig.deviceFeature, .dword), 0)
    }

    /// queue_size takes 1...maximum; 0 or more than the maximum is ignored.
    func testQueueSizeWriteIsBounded() {
        let g = VirtioTestGuest()
        g.setCommon(VirtioCommonConfig.queueSelect, .word, 1)
        g.setCommon(VirtioCommonConfig.queueSize, .word, 0)
        XCTAssertEqual(g.common(VirtioCommonConfig.queueSize, .word), 256)
        g.setCommon(VirtioCommonConfig.queueSize, .word, 4096)
        XCTAssertEqual(g.common(VirtioCommonConfig.queueSize, .word), 256)
        g.setCommon(VirtioCommonConfig.queueSize, .word, 64)
        XCTAssertEqual(g.common(VirtioCommonConfig.queueSize, .word), 64)
    }

    /// 4.1.4.3.2: once a queue is enabled its size and addresses are fixed
    /// until reset.
    func testQueueSetupFrozenOnceEnabled() {
        let g = VirtioTestGuest()
        g.start(features: [.version1, .mac])
        g.setCommon(VirtioCommonConfig.queueSelect, .word, 1)
        let desc = g.common(VirtioCommonConfig.queueDesc, .qword)
        g.setCommon(VirtioCommonConfig.queueDesc, .qword, 0x1234_0000)
        g.setCommon(VirtioCommonConfig.queueSize, .word, 8)
        XCTAssertEqual(g.common(VirtioCommonConfig.queueDesc, .qword), desc)
        XCTAssertEqual(g.common(VirtioCommonConfig.queueSize, .word), 16)
    }

    /// 64-bit queue addresses written as two 32-bit halves (4.1.3.1) read
    /// back whole; a byte write merges into the field.
    func testSixtyFourBitFieldsTakeHalvesAndBytes() {
        let g = VirtioTestGuest()
        g.setCommon(VirtioCommonConfig.queueSelect, .word, 0)
        g.setCommon(VirtioCommonConfig.queueDriver, .dword, 0x8765_4320)
        g.setCommon(VirtioCommonConfig.queueDriver + 4, .dword, 0x1)
        XCTAssertEqual(g.common(VirtioCommonConfig.queueDriver, .qword), 0x1_8765_4320)
        g.setCommon(VirtioCommonConfig.queueDriver + 1, .byte, 0xAB)
        XCTAssertEqual(g.common(VirtioCommonConfig.queueDriver, .qword), 0x1_8765_AB20)
        XCTAssertEqual(g.common(VirtioCommonConfig.queueDriver + 4, .dword), 1)
    }

    /// Read-only fields ignore writes: device_feature, num_queues,
    /// config_generation, queue_notify_off.
    func testReadOnlyCommonFieldsIgnoreWrites() {
        let g = VirtioTestGuest()
        g.setCommon(VirtioCommonConfig.deviceFeature, .dword, 0)
        g.setCommon(VirtioCommonConfig.numQueues, .word, 9)
        g.setCommon(VirtioCommonConfig.queueSelect, .word, 2)
        g.setCommon(VirtioCommonConfig.queueNotifyOff, .word, 0)
        XCTAssertNotEqual(g.common(VirtioCommonConfig.deviceFeature, .dword), 0)
        XCTAssertEqual(g.common(VirtioCommonConfig.numQueues, .word), 3)
        XCTAssertEqual(g.common(VirtioCommonConfig.queueNotifyOff, .word), 2)
    }

    /// 5.1.4.2: the modern device config is read-only; a legacy driver
    /// without CTRL_MAC_ADDR may write the MAC (how Linux sets it there).
    func testMACWritableOnlyThroughLegacyInterface() {
        let g = VirtioTestGuest()
        g.modern?.write(offset: 0x2000, width: .byte, value: 0x02)
        XCTAssertEqual(g.device.currentMAC, VirtioTestGuest.mac)
        g.legacyWrite(0x14, .byte, 0x02)
        XCTAssertEqual(g.device.currentMAC[0], 0x02)
        g.legacyWrite(0x14 + 6, .word, 0)
        XCTAssertEqual(g.legacyRead(0x14 + 6, .word), 1, "status is read-only")
    }

    /// Legacy: the PFN of a queue reads back; 0 releases the queue; the
    /// ring layout follows from it (4.1.5.1 legacy note).
    func testLegacyQueuePFNLayout() {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, variant: .legacy, queueSize: 16))
        g.legacyWrite(VirtioLegacyRegister.queueSelect, .word, 1)
        XCTAssertEqual(g.legacyRead(VirtioLegacyRegister.queueSize, .word), 16)
        XCTAssertEqual(g.legacyRead(VirtioLegacyRegister.queueAddress, .dword), 0)
        g.legacyWrite(VirtioLegacyRegister.queueAddress, .dword, 0x40)
        let q = g.device.queues[1]
        XCTAssertEqual(q.descriptorTable, 0x4_0000)
        XCTAssertEqual(q.availableRing, 0x4_0100)
        XCTAssertEqual(q.usedRing, 0x4_1000)
        XCTAssertEqual(g.legacyRead(VirtioLegacyRegister.queueAddress, .dword), 0x40)
        g.legacyWrite(VirtioLegacyRegister.queueAddress, .dword, 0)
        XCTAssertFalse(q.isEnabled)
        g.legacyWrite(VirtioLegacyRegister.queueSelect, .word, 5)
        XCTAssertEqual(g.legacyRead(VirtioLegacyRegister.queueSize, .word), 0)
    }

    /// Reading the ISR with a wide access covering it still clears it once.
    func testWideLegacyReadClearsISR() {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, variant: .legacy, queueSize: 16))
        g.start(features: [.mac])
        g.rx.setDescriptor(0, address: VirtioTestGuest.dataBase, length: 2048, flags: MockVirtQueue.write)
        g.rx.publish(0)
        g.offer(VirtioTestGuest.frame())
        let v = g.legacyRead(0x10, .dword)
        XCTAssertEqual(v >> 24, 1)
        XCTAssertEqual(v >> 16 & 0xFF, 7)
        XCTAssertFalse(g.intx.isAsserted)
        XCTAssertEqual(g.legacyRead(VirtioLegacyRegister.isrStatus, .byte), 0)
    }

    /// PCI 6.8.2: the MSI-X table takes dword accesses; other widths and
    /// the read-only PBA are ignored.
    func testMSIXTableAccessWidths() throws {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, msixVectors: 2))
        let table = try XCTUnwrap(g.device.registers(forBAR: 1))
        XCTAssertEqual(table.read(offset: 12, width: .dword), 1, "vectors start masked")
        table.write(offset: 8, width: .byte, value: 0x55)
        XCTAssertEqual(table.read(offset: 8, width: .dword), 0)
        table.write(offset: 0, width: .qword, value: 0x1_FEE0_1000)
        XCTAssertEqual(table.read(offset: 4, width: .dword), 1)
        table.write(offset: 0x800, width: .dword, value: 3)
        XCTAssertEqual(table.read(offset: 0x800, width: .dword), 0)
    }

    /// The control queue refuses commands too short to carry class and
    /// command, or longer than the device reads, with VIRTIO_NET_ERR.
    func testControlCommandLengthLimits() {
        let g = VirtioTestGuest()
        g.start(features: VirtioTestGuest.modernFeatures)
        let base = VirtioTestGuest.dataBase
        g.put([0], at: base)
        g.put([0xFF], at: base + 0x100)
        g.ctrl.setDescriptor(0, address: base, length: 1, flags: MockVirtQueue.next, next: 1)
        g.ctrl.setDescriptor(1, address: base + 0x100, length: 1, flags: MockVirtQueue.write)
        g.ctrl.publish(0)
        g.kick(2)
        XCTAssertEqual(g.bytes(at: base + 0x100, 1), [1])
        g.put([0xFF], at: base + 0x100)
        g.ctrl.setDescriptor(2, address: base + 0x1000, length: 8192, flags: MockVirtQueue.next, next: 1)
        g.ctrl.publish(2)
        g.kick(2)
        XCTAssertEqual(g.bytes(at: base + 0x100, 1), [1])
        XCTAssertEqual(g.device.counters.controlErrors, 2)
        XCTAssertNil(g.device.lastError)
    }
}

final class VirtioNetDirectAccessTests: XCTestCase {
    /// Hosts that call register blocks directly with offsets past the end
    /// (the bus never does) get nothing back and change nothing.
    func testOutOfRangeDirectAccessesAreHarmless() throws {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, msixVectors: 1))
        for bar in [0, 1, 4] {
            let block = try XCTUnwrap(g.device.registers(forBAR: bar))
            for offset in [block.size, block.size - 1, UInt64.max, UInt64.max - 3] {
                for width in AccessWidth.allCases {
                    XCTAssertEqual(block.read(offset: offset, width: width), 0)
                    block.write(offset: offset, width: width, value: ~0)
                }
            }
        }
        XCTAssertEqual(g.device.status, [])
    }

    /// The largest MTU gives the largest frames without overrunning the
    /// device's transmit buffer.
    func testLargestMTUTransmit() {
        let g = VirtioTestGuest(VirtioNetConfiguration(macAddress: VirtioTestGuest.mac, mtu: 65535))
        g.start(features: [.version1, .mac, .mtu])
        let length = 65535 + 18
        g.put([UInt8](repeating: 0, count: 12) + VirtioTestGuest.frame(length: length), at: VirtioTestGuest.dataBase)
        g.tx.setDescriptor(0, address: VirtioTestGuest.dataBase, length: UInt32(12 + length))
        g.tx.publish(0)
        g.kick(1)
        XCTAssertEqual(g.sink.frames.first?.count, length)
    }
}
