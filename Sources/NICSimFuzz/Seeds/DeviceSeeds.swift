import Board
import NICCore
import RTL8139
import UNDI
import VirtioNet

#if canImport(Glibc)
import Glibc
#endif

/// Seeds for the device targets: real driver sessions. nicsim's UNDI
/// driver for the card probes, opens, sends and receives on a `DeviceFuzz`
/// rig while a recorder between the board and the card writes down what
/// the stream would have to say to do the same: each register access, the
/// guest memory the driver wrote before it, the command register it
/// changed, and the virtual time that passed; frames from the wire are
/// recorded as they are offered.
enum DeviceSeeds {
    /// Writes a driver session as a `DeviceFuzz` op stream.
    final class Recorder {
        var writer = FuzzInputWriter()
        var recording = false
        var rig: DeviceFuzz.Rig!
        /// BAR index to window index in the stream.
        var windowOf: [Int: Int] = [:]
        private var memory: [UInt8] = []
        private var command: UInt16 = 0
        private var time: UInt64 = 0
        /// Only the driver's DMA area (the upper half of RAM) is compared.
        private let watched = (DeviceFuzz.ramSize / 2)..<DeviceFuzz.ramSize

        func start() {
            for (i, w) in rig.windows.enumerated() { windowOf[w.bar ?? -1] = i }
            absorb()
            recording = true
        }

        /// The state the stream has reached: nothing to write for it.
        private func absorb() {
            let ram = UnsafeRawBufferPointer(start: watchedRAM, count: watched.count)
            if memory.count != watched.count { memory = Array(ram) } else { memory.withUnsafeMutableBytes { $0.copyMemory(from: ram) } }
            command = rig.function?.config.command.rawValue ?? 0
            time = rig.board.clock.now
        }

        private var watchedRAM: UnsafeMutableRawPointer { rig.board.memory.unsafeBaseAddress + watched.lowerBound }

        private func op(_ op: DeviceFuzz.Op) { writer.u8(op.rawValue) }

        /// Writes what changed since the last op: time, the driver's memory, the command register.
        private func catchUp() {
            let now = rig.board.clock.now
            var gap = now - time
            while gap > 0 {
                let step = min(gap, 0x3FFF_FFFF)
                op(.advance)
                writer.u32(UInt32(step))
                gap -= step
            }
            let current = UnsafeRawBufferPointer(start: watchedRAM, count: watched.count)
            let same = memory.withUnsafeBytes { memcmp($0.baseAddress!, current.baseAddress!, current.count) == 0 }
            var i = same ? current.count : 0
            while i < current.count {
                guard current[i] != memory[i] else { i += 1; continue }
                var end = i + 1
                // Runs of changes, joined across gaps of a few unchanged bytes.
                var quiet = 0
                while end < current.count, end - i < 4096, quiet < 8 {
                    quiet = current[end] == memory[end] ? quiet + 1 : 0
                    end += 1
                }
                end -= quiet
                op(.memoryWrite)
                writer.u32(UInt32(watched.lowerBound + i))
                writer.u16(UInt16(end - i))
                writer.append(current[i..<end])
                i = end
            }
            if let config = rig.function?.config, config.command.rawValue != command {
                op(.configWrite)
                writer.u8(1 << 3)
                writer.u8(UInt8(PCIConfigRegister.command))
                writer.u32(UInt32(config.command.rawValue))
            }
        }

        func access(bar: Int, write: Bool, offset: UInt64, width: AccessWidth, value: UInt64) {
            guard recording, let window = windowOf[bar] else { return }
            catchUp()
            let widthBits = UInt8([1: 0, 2: 1, 4: 2, 8: 3][width.rawValue]!) << 3
            op(write ? .write : .read)
            writer.u8(UInt8(window) | widthBits)
            writer.u16(UInt16(offset))
            if write {
                for i in 0..<width.rawValue { writer.u8(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
            }
        }

        func accessed() {
            if recording { absorb() }
        }

        /// A frame arrives from the wire.
        func offer(_ frame: [UInt8]) {
            catchUp()
            op(.frame)
            writer.u8(0)
            writer.u16(UInt16(frame.count))
            writer.append(frame)
            frame.withUnsafeBytes { rig.offer($0) }
            absorb()
        }

        /// A configuration cycle made by the session itself (the driver's
        /// own go through the recorder's register windows).
        func config(offset: Int, width: AccessWidth, value: UInt32) {
            catchUp()
            op(.configWrite)
            writer.u8(UInt8([1: 0, 2: 1, 4: 2][width.rawValue]!) << 3)
            writer.u8(UInt8(offset))
            writer.u32(value)
            rig.config(write: true, offset: offset, width: width, value: value)
            absorb()
        }

        func loopback() {
            catchUp()
            op(.loopback)
            if rig.framesSent > 0 { Array(rig.lastSent.bytes).withUnsafeBytes { rig.offer($0) } }
            absorb()
        }
    }

    /// A register window that reports each access to the recorder.
    final class RecordingBlock: RegisterBlock {
        let inner: RegisterBlock
        let bar: Int
        unowned let recorder: Recorder
        init(_ inner: RegisterBlock, bar: Int, recorder: Recorder) {
            self.inner = inner
            self.bar = bar
            self.recorder = recorder
        }
        var size: UInt64 { inner.size }
        func read(offset: UInt64, width: AccessWidth) -> UInt64 {
            recorder.access(bar: bar, write: false, offset: offset, width: width, value: 0)
            defer { recorder.accessed() }
            return inner.read(offset: offset, width: width)
        }
        func write(offset: UInt64, width: AccessWidth, value: UInt64) {
            recorder.access(bar: bar, write: true, offset: offset, width: width, value: value)
            inner.write(offset: offset, width: width, value: value)
            recorder.accessed()
        }
    }

    /// The card, seen through recording register windows.
    final class RecordingFunction: PCIFunction {
        let inner: PCIFunction
        unowned let recorder: Recorder
        private var blocks: [Int: RecordingBlock] = [:]
        init(_ inner: PCIFunction, recorder: Recorder) {
            self.inner = inner
            self.recorder = recorder
        }
        var config: PCIConfigSpace { inner.config }
        var expansionROMImage: [UInt8]? { inner.expansionROMImage }
        func registers(forBAR index: Int) -> RegisterBlock? {
            if let b = blocks[index] { return b }
            guard let block = inner.registers(forBAR: index) else { return nil }
            let b = RecordingBlock(block, bar: index, recorder: recorder)
            blocks[index] = b
            return b
        }
    }

    /// Records `session` (a driver's work on the rig) as a stream for `model`.
    static func record(_ model: DeviceFuzz.Model, _ session: (DeviceFuzz.Rig, Recorder, DriverBus) throws -> Void) -> [UInt8] {
        let recorder = Recorder()
        var wrapped: [AnyObject] = []
        let rig = DeviceFuzz.Rig(model, wrap: { f in
            let r = RecordingFunction(f, recorder: recorder)
            wrapped.append(r)
            return r
        }, wrapISA: { block in
            let r = RecordingBlock(block, bar: -1, recorder: recorder)
            wrapped.append(r)
            return r
        })
        recorder.rig = rig
        recorder.start()
        let succeeded = (try? session(rig, recorder, DriverBus(board: rig.board))) != nil
        withExtendedLifetime(wrapped) {}
        recorder.rig = nil
        // A session whose driver failed is no seed: FuzzSeedTests refuses empty ones.
        return succeeded ? recorder.writer.bytes : []
    }

    static func frame(to destination: MACAddress, length: Int, type: UInt16 = 0x0800, seed: UInt8 = 0) -> [UInt8] {
        var f = destination.bytes + [0x02, 0, 0, 0, 0, 0x01, UInt8(type >> 8), UInt8(truncatingIfNeeded: type)]
        while f.count < length { f.append(UInt8(truncatingIfNeeded: f.count) &+ seed) }
        return f
    }

    static func driver(_ model: DeviceFuzz.Model, _ bus: DriverBus, variant: Int) -> NICDriver {
        switch model {
        case .ne2000PCI: return NE2000Driver(bus: bus, location: .pci(DeviceFuzz.slot))
        case .ne2000ISA: return NE2000Driver(bus: bus, location: .isa(ioBase: 0x300, irq: 9))
        case .rtl8139: return RTL8139Driver(bus: bus, address: DeviceFuzz.slot, mode: .classic, access: variant == 1 ? .portIO : .memoryMapped)
        case .rtl8139CPlus: return RTL8139Driver(bus: bus, address: DeviceFuzz.slot, mode: .automatic, access: variant == 1 ? .portIO : .memoryMapped)
        case .virtioNetLegacy, .virtioNetModern:
            var options = VirtioNetDriver.Options()
            options.preferModern = model == .virtioNetModern
            options.maxQueueSize = 16
            if variant == 1 {
                options.mergeableBuffers = false
                options.eventIndex = false
            }
            if variant == 2 { options.eventIndex = false }
            return VirtioNetDriver(bus: bus, address: DeviceFuzz.slot, options: options)
        }
    }

    static func seeds(_ model: DeviceFuzz.Model) -> [(String, [UInt8])] {
        let mac = DeviceFuzz.mac
        let open = record(model) { rig, recorder, bus in
            let d = driver(model, bus, variant: 0)
            try d.probe()
            try d.open(filter: [.directed, .broadcast], multicast: [])
            d.setInterruptsEnabled(true)
            _ = d.interruptPending()
            d.close()
            d.shutdown()
        }
        let traffic = record(model) { rig, recorder, bus in
            let d = driver(model, bus, variant: 1)
            try d.probe()
            try d.open(filter: [.directed, .broadcast], multicast: [MACAddress(0x01, 0x00, 0x5E, 0x00, 0x00, 0x01)])
            d.setInterruptsEnabled(true)
            for length in [60, 200] {
                try frame(to: .broadcast, length: length, seed: 1).withUnsafeBytes { try d.transmit($0) }
            }
            recorder.loopback()
            recorder.offer(frame(to: mac, length: 120, seed: 2))
            recorder.offer(frame(to: .broadcast, length: 60, type: 0x0806, seed: 3))
            recorder.offer(frame(to: MACAddress(0x01, 0x00, 0x5E, 0x00, 0x00, 0x01), length: 300, seed: 4))
            var buffer = [UInt8](repeating: 0, count: 2048)
            while buffer.withUnsafeMutableBytes({ d.receive(into: $0) }) != nil {}
            d.acknowledgeInterrupts()
            d.clearStatistics()
        }
        let busy = record(model) { rig, recorder, bus in
            let d = driver(model, bus, variant: 2)
            try d.probe()
            try d.open(filter: [.directed, .broadcast, .promiscuous], multicast: [])
            for n in 0..<12 { recorder.offer(frame(to: mac, length: 60 + 16 * n, seed: UInt8(n))) }
            var buffer = [UInt8](repeating: 0, count: 2048)
            while buffer.withUnsafeMutableBytes({ d.receive(into: $0) }) != nil {}
            try d.setStationAddress(MACAddress(0x02, 0x00, 0x00, 0x00, 0x00, 0x42))
            try d.setReceiveFilter([.directed], multicast: [])
            recorder.offer(frame(to: MACAddress(0x02, 0x00, 0x00, 0x00, 0x00, 0x42), length: 100))
            _ = buffer.withUnsafeMutableBytes { d.receive(into: $0) }
            try frame(to: mac, length: 90).withUnsafeBytes { try d.transmit($0) }
            d.shutdown()
        }
        var seeds = [("driver-open-close", open), ("driver-send-receive", traffic), ("driver-busy-ring", busy)]
        switch model {
        case .rtl8139CPlus: seeds.append(("offloads-large-send-checksums-vlan", cPlusOffloads()))
        case .virtioNetModern: seeds.append(("packed-ring-msix-checksum", virtioPackedRing()))
        default: break
        }
        return seeds
    }

    /// Buffers the hand-driven sessions use: the top of RAM, above what a
    /// driver allocates (inside the region the recorder watches).
    static let scratch = UInt64(DeviceFuzz.ramSize - 0x4000)

    /// A TCP/IPv4 frame of `payload` bytes to `destination` (checksums left to the card).
    static func tcpFrame(to destination: MACAddress, payload: Int) -> [UInt8] {
        let ipLength = 20 + 20 + payload
        var f = destination.bytes + [0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00]
        f += [0x45, 0, UInt8(ipLength >> 8), UInt8(ipLength & 0xFF), 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 2, 100, 10, 0, 2, 2]
        f += [0x04, 0x00, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xFF, 0xFF, 0, 0, 0, 0]
        while f.count < 14 + ipLength { f.append(UInt8(truncatingIfNeeded: f.count)) }
        return f
    }

    /// The RTL8139's C+ offloads, which no UNDI driver uses: after the
    /// driver opens the card in C+ mode, a large send (MSS 536) of a TCP
    /// frame, then a UDP frame with IP and UDP checksums and a VLAN tag
    /// inserted; then receive checksumming and VLAN stripping on.
    static func cPlusOffloads() -> [UInt8] {
        record(.rtl8139CPlus) { rig, recorder, bus in
            let d = driver(.rtl8139CPlus, bus, variant: 0)
            try d.probe()
            try d.open(filter: [.directed, .broadcast], multicast: [])
            let memory = rig.board.memory
            let ring = rig.access(write: false, window: 0, offset: UInt64(0x20), width: .dword)
            let tcp = tcpFrame(to: .broadcast, payload: 2000)
            var udp = tcpFrame(to: .broadcast, payload: 100)
            udp[23] = 17
            udp.replaceSubrange(34..<42, with: [0x04, 0x00, 0x00, 0x45, 0x00, UInt8(8 + 100 + 12), 0, 0])
            try memory.write(at: scratch, bytes: tcp)
            try memory.write(at: scratch + 0x1000, bytes: udp)
            typealias D = DescriptorBits
            let largeSend = D.own | D.fs | D.ls | D.largeSend | 536 << D.mssShift | UInt32(tcp.count)
            let checksums = D.own | D.eor | D.fs | D.ls | D.ipcs | D.udpcs | UInt32(udp.count)
            for (i, (command, vlan, buffer)) in [(largeSend, UInt32(0), scratch), (checksums, D.tagc | 0x0500, scratch + 0x1000)].enumerated() {
                let at = ring + UInt64(16 * i)
                try memory.writeU32(at, command)
                try memory.writeU32(at + 4, vlan)
                try memory.writeU64(at + 8, buffer)
            }
            rig.access(write: true, window: 0, offset: UInt64(RTL8139Register.tppoll), width: .byte, value: UInt64(TransmitPollBits.npq))
            let cpcr = rig.access(write: false, window: 0, offset: UInt64(RTL8139Register.cpcr), width: .word)
            rig.access(write: true, window: 0, offset: UInt64(RTL8139Register.cpcr), width: .word,
                       value: cpcr | UInt64(CPlusCommandBits.rxChecksum | CPlusCommandBits.rxVLAN))
            var tagged = tcpFrame(to: DeviceFuzz.mac, payload: 60)
            tagged.insert(contentsOf: [0x81, 0x00, 0x00, 0x07], at: 12)
            recorder.offer(tagged)
            var buffer = [UInt8](repeating: 0, count: 2048)
            while buffer.withUnsafeMutableBytes({ d.receive(into: $0) }) != nil {}
        }
    }

    /// virtio 1.x with the packed ring and MSI-X, which nicsim's UNDI
    /// driver does not use: features VERSION_1 | RING_PACKED with MAC,
    /// CSUM, MRG_RXBUF, INDIRECT_DESC and EVENT_IDX; MSI-X enabled with
    /// the queues on vector 1; four receive buffers and two frames from the
    /// wire; one frame sent with a checksum to complete (NEEDS_CSUM).
    static func virtioPackedRing() -> [UInt8] {
        record(.virtioNetModern) { rig, recorder, bus in
            let memory = rig.board.memory
            guard let common = rig.windows.firstIndex(where: { $0.bar == VirtioNet.BARIndex.modern }),
                  let table = rig.windows.firstIndex(where: { $0.bar == VirtioNet.BARIndex.msix }) else { throw DriverError.unsupported("BARs") }
            typealias C = VirtioCommonConfig
            func w8(_ o: Int, _ v: UInt64) { rig.access(write: true, window: common, offset: UInt64(o), width: .byte, value: v) }
            func w16(_ o: Int, _ v: UInt64) { rig.access(write: true, window: common, offset: UInt64(o), width: .word, value: v) }
            func w32(_ o: Int, _ v: UInt64) { rig.access(write: true, window: common, offset: UInt64(o), width: .dword, value: v) }
            func w64(_ o: Int, _ v: UInt64) { rig.access(write: true, window: common, offset: UInt64(o), width: .qword, value: v) }
            w8(C.deviceStatus, 0)
            w8(C.deviceStatus, 1)
            w8(C.deviceStatus, 3)
            w32(C.deviceFeatureSelect, 1)
            _ = rig.access(write: false, window: common, offset: UInt64(C.deviceFeature), width: .dword)
            w32(C.driverFeatureSelect, 0)
            w32(C.driverFeature, 1 << 0 | 1 << 5 | 1 << 15 | 1 << 28 | 1 << 29)
            w32(C.driverFeatureSelect, 1)
            w32(C.driverFeature, 1 << 0 | 1 << 2)
            w8(C.deviceStatus, 11)
            // MSI-X: the capability's Message Control (found through the
            // capability list), Enable on; two table entries unmasked.
            var capability = Int(rig.config(write: false, offset: 0x34, width: .byte))
            while capability != 0, rig.config(write: false, offset: capability, width: .byte) != UInt32(MSIXTable.capabilityID) {
                capability = Int(rig.config(write: false, offset: capability + 1, width: .byte))
            }
            guard capability != 0 else { throw DriverError.unsupported("MSI-X capability") }
            recorder.config(offset: capability + 2, width: .word, value: 0x8000)
            for vector in 0..<2 {
                for (i, v) in [UInt64(0xFEE0_0000), 0, UInt64(0x40 + vector), 0].enumerated() {
                    rig.access(write: true, window: table, offset: UInt64(16 * vector + 4 * i), width: .dword, value: v)
                }
            }
            w16(C.msixConfig, 0)
            let rings: [(queue: UInt64, descriptors: UInt64, events: UInt64)] = [(0, scratch, scratch + 0x200), (1, scratch + 0x400, scratch + 0x600)]
            for r in rings {
                w16(C.queueSelect, r.queue)
                w16(C.queueSize, 8)
                w16(C.queueMSIXVector, 1)
                w64(C.queueDesc, r.descriptors)
                w64(C.queueDriver, r.events)
                w64(C.queueDevice, r.events + 4)
                w16(C.queueEnable, 1)
            }
            w8(C.deviceStatus, 15)
            // Receive: four device-writable buffers, available in the first round.
            let avail = UInt16(1 << 7), write = UInt16(2), next = UInt16(1)
            for i in 0..<4 {
                let at = rings[0].descriptors + UInt64(16 * i)
                try memory.writeU64(at, scratch + 0x1000 + UInt64(0x600 * i))
                try memory.writeU32(at + 8, 0x600)
                try memory.writeU16(at + 12, UInt16(i))
                try memory.writeU16(at + 14, avail | write)
            }
            w32(0x3000, 0)
            recorder.offer(frame(to: DeviceFuzz.mac, length: 120, seed: 7))
            recorder.offer(frame(to: .broadcast, length: 1400, seed: 8))
            _ = rig.access(write: false, window: common, offset: 0x1000, width: .byte)
            // Transmit: the header (NEEDS_CSUM over the UDP datagram) and the frame, chained.
            var udp = tcpFrame(to: .broadcast, payload: 64)
            udp[23] = 17
            udp.replaceSubrange(34..<42, with: [0x04, 0x00, 0x00, 0x45, 0x00, UInt8(8 + 64 + 12), 0, 0])
            let header: [UInt8] = [1, 0, 0, 0, 0, 0, 34, 0, 6, 0, 0, 0]
            try memory.write(at: scratch + 0x3000, bytes: header)
            try memory.write(at: scratch + 0x3100, bytes: udp)
            let tx = rings[1].descriptors
            try memory.writeU64(tx, scratch + 0x3000)
            try memory.writeU32(tx + 8, UInt32(header.count))
            try memory.writeU16(tx + 12, 0)
            try memory.writeU16(tx + 14, avail | next)
            try memory.writeU64(tx + 16, scratch + 0x3100)
            try memory.writeU32(tx + 24, UInt32(udp.count))
            try memory.writeU16(tx + 28, 0)
            try memory.writeU16(tx + 30, avail)
            w32(0x3004, 1)
            _ = rig.access(write: false, window: common, offset: 0x1000, width: .byte)
        }
    }
}
