import Board
import NICCore
import UNDI

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
        return [("driver-open-close", open), ("driver-send-receive", traffic), ("driver-busy-ring", busy)]
    }
}
