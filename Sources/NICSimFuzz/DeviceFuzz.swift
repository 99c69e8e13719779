import Board
import NE2000
import NICCore
import RTL8139
import VirtioNet

/// The device-model targets: one card on a fresh board, driven by an
/// op-coded stream as a hostile driver and a hostile wire would drive it.
/// Register accesses go through the board's buses to wherever the card's
/// BARs are decoded now, configuration cycles through 0xCF8/0xCFC, DMA
/// memory contents come from the input, and so do frames from the wire
/// and the passing of virtual time.
///
/// The card starts as firmware leaves it (BARs assigned; I/O, memory and
/// bus mastering on), with RAM small enough that addresses the input
/// chooses often land in it.
enum DeviceFuzz {
    enum Model: Sendable, CaseIterable {
        case ne2000PCI, ne2000ISA, rtl8139, rtl8139CPlus, virtioNetLegacy, virtioNetModern
    }

    /// Guest RAM: 256 KiB, so masked DMA addresses land in it.
    static let ramSize = 256 << 10
    static let slot = PCIAddress(device: 3)
    static let mac = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
    /// Ops per input, and virtual time per input.
    static let maxOps = 8192
    static let maxVirtualTime = 10 * VirtualClock.second
    /// The longest frame offered from the wire (past the FramePort's 9216).
    static let maxWireFrame = 10_000
    /// No model sends more than a 64 KiB C+ frame plus a VLAN tag.
    static let maxTransmittedFrame = 64 * 1024 + 4

    /// The stream's operations; the op byte is taken modulo their number,
    /// so every byte is a valid op.
    enum Op: UInt8, CaseIterable {
        /// sel u8 (window in bits 0-2, width 1/2/4/8 in bits 3-4, bit 5 keeps
        /// the value inside RAM), offset u16, value (as wide as the access).
        case write
        /// sel u8, offset u16.
        case read
        /// sel u8 (width in bits 3-4), offset u8, value u32: through 0xCF8/0xCFC.
        case configWrite
        /// sel u8 (width in bits 3-4), offset u8.
        case configRead
        /// address u32 (modulo RAM), length u16 (at most 4 KiB), bytes.
        case memoryWrite
        /// flags u8 (bit 0: to the card's address, bit 1: broadcast), length u16, bytes.
        case frame
        /// nanoseconds u32 (at most about a second).
        case advance
        /// bit 0 of a u8: carrier up or down.
        case link
        /// The event loop settles (held frames are offered again).
        case settle
        /// Power-on reset.
        case reset
        /// The last frame the card sent comes back from the wire.
        case loopback
        /// address u32 (modulo RAM), length u16 (at most 64 KiB), byte.
        case memoryFill
    }

    /// One register window: a BAR (or the ISA ports) and where it was first decoded.
    struct Window {
        var bar: Int?
        var isIO: Bool
        var base: UInt64
        var size: UInt64
    }

    /// A card on a fresh board, as the harness and the seed recorder build it.
    final class Rig: FrameTransmitter {
        let model: Model
        let board = Board(memorySize: DeviceFuzz.ramSize)
        let device: NetworkDevice
        let function: PCIFunction?
        private(set) var windows: [Window] = []
        let lastSent = FrameBuffer(capacity: DeviceFuzz.maxTransmittedFrame)
        private(set) var framesSent = 0

        /// `wrap` lets the seed recorder stand between the board and the card.
        init(_ model: Model, wrap: (PCIFunction) -> PCIFunction = { $0 }, wrapISA: (RegisterBlock) -> RegisterBlock = { $0 }) {
            self.model = model
            let memory = board.memory, clock = board.clock
            let port = FramePort(policy: .hold(capacity: 8))
            switch model {
            case .ne2000ISA:
                let card = NE2000ISA(macAddress: DeviceFuzz.mac, port: port)
                // The I/O bus is empty at 0x300 on a new board.
                card.interruptLine = try? board.attachISA(wrapISA(card), ioBase: card.ioBase, irq: card.irq, name: "ne2000")
                device = card
                function = nil
                windows = [Window(bar: nil, isIO: true, base: card.ioBase, size: card.size)]
            case .ne2000PCI:
                let card = RTL8029(macAddress: DeviceFuzz.mac, port: port)
                device = card
                function = card
            case .rtl8139, .rtl8139CPlus:
                let card = RTL8139(macAddress: DeviceFuzz.mac, memory: memory, clock: clock, port: port)
                device = card
                function = card
            case .virtioNetLegacy, .virtioNetModern:
                let legacy = model == .virtioNetLegacy
                let card = VirtioNet(configuration: VirtioNetConfiguration(
                    macAddress: DeviceFuzz.mac, variant: legacy ? .legacy : .modern, msixVectors: legacy ? 2 : 4,
                    queueSize: 32, controlQueueSize: 16, mtu: legacy ? nil : 9000, packedRing: !legacy),
                    memory: memory, clock: clock)
                device = card
                function = card
            }
            if let function {
                board.attach(wrap(function), at: DeviceFuzz.slot)
                board.assignResources()
                for bar in 0..<6 {
                    guard let d = board.decodedBAR(DeviceFuzz.slot, bar) else { continue }
                    windows.append(Window(bar: bar, isIO: d.isIO, base: d.base, size: d.size))
                }
            }
            device.port.transmitter = self
            board.add(port: device.port)
            if model == .rtl8139CPlus {
                // C+ mode on (CPCR C+ receive and transmit enable); the rings are the stream's.
                access(write: true, window: 0, offset: UInt64(RTL8139Register.cpcr), width: .word,
                       value: UInt64(CPlusCommandBits.rxEnable | CPlusCommandBits.txEnable))
            }
        }

        func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
            precondition(frame.count <= DeviceFuzz.maxTransmittedFrame, "\(model) sent a \(frame.count)-byte frame")
            lastSent.assign(frame)
            framesSent += 1
        }

        /// A register access through the bus, at the window's current decode.
        @discardableResult
        func access(write: Bool, window index: Int, offset: UInt64, width: AccessWidth, value: UInt64 = 0) -> UInt64 {
            guard !windows.isEmpty else { return width.mask }
            let w = windows[index % windows.count]
            var isIO = w.isIO, base = w.base, size = w.size
            if let bar = w.bar, let d = board.decodedBAR(DeviceFuzz.slot, bar) {
                (isIO, base, size) = (d.isIO, d.base, d.size)
            }
            let address = base &+ offset % max(size, 1)
            let bus = isIO ? board.io : board.mmio
            if write {
                bus.write(address, width: width, value: value & width.mask)
                return 0
            }
            return bus.read(address, width: width)
        }

        /// A configuration cycle through CONFIG_ADDRESS and CONFIG_DATA.
        @discardableResult
        func config(write: Bool, offset: Int, width: AccessWidth, value: UInt32 = 0) -> UInt32 {
            let width = width == .qword ? .dword : width
            board.io.write(0xCF8, width: .dword, value: UInt64(0x8000_0000 | UInt32(DeviceFuzz.slot.bdf) << 8 | UInt32(offset & 0xFC)))
            let port = 0xCFC + UInt64(offset & (4 - width.rawValue))
            if write {
                board.io.write(port, width: width, value: UInt64(value))
                return 0
            }
            return UInt32(truncatingIfNeeded: board.io.read(port, width: width))
        }

        func offer(_ frame: UnsafeRawBufferPointer) {
            device.port.offer(frame)
        }
    }

    static func width(_ sel: UInt8) -> AccessWidth {
        [AccessWidth.byte, .word, .dword, .qword][Int(sel >> 3) & 3]
    }

    /// A little-endian value as wide as `width`.
    static func value(_ width: AccessWidth, _ input: inout FuzzInput) -> UInt64 {
        switch width {
        case .byte: UInt64(input.u8())
        case .word: UInt64(input.u16())
        case .dword: UInt64(input.u32())
        case .qword: input.u64()
        }
    }

    static func run(_ model: Model, _ input: inout FuzzInput) {
        run(Rig(model), &input)
    }

    /// Runs the stream on `rig`.
    static func run(_ rig: Rig, _ input: inout FuzzInput) {
        let start = rig.board.clock.now
        var ops = 0
        while !input.isAtEnd, ops < maxOps {
            ops += 1
            guard let op = Op(rawValue: input.u8() % UInt8(Op.allCases.count)) else { continue }
            switch op {
            case .write:
                let sel = input.u8()
                let offset = UInt64(input.u16())
                var value = value(width(sel), &input)
                if sel & 0x20 != 0 { value %= UInt64(ramSize) }
                rig.access(write: true, window: Int(sel & 7), offset: offset, width: width(sel), value: value)
            case .read:
                let sel = input.u8()
                rig.access(write: false, window: Int(sel & 7), offset: UInt64(input.u16()), width: width(sel))
            case .configWrite:
                let sel = input.u8()
                let offset = Int(input.u8())
                rig.config(write: true, offset: offset, width: width(sel), value: input.u32())
            case .configRead:
                let sel = input.u8()
                rig.config(write: false, offset: Int(input.u8()), width: width(sel))
            case .memoryWrite:
                let address = UInt64(input.u32() % UInt32(ramSize))
                let bytes = input.take(Int(input.u16() % 4097))
                try? rig.board.memory.write(at: address, from: bytes)
            case .frame:
                let flags = input.u8()
                let length = min(Int(input.u16()), maxWireFrame)
                var bytes = input.array(length)
                if length >= 6, flags & 3 != 0 {
                    let destination = flags & 1 != 0 ? mac : .broadcast
                    bytes.replaceSubrange(0..<6, with: destination.bytes)
                }
                bytes.withUnsafeBytes { rig.offer($0) }
            case .advance:
                let ns = UInt64(input.u32() & 0x3FFF_FFFF)
                guard rig.board.clock.now - start < maxVirtualTime else { continue }
                rig.board.advance(by: ns)
            case .link:
                rig.device.port.setLink(up: input.bool())
            case .settle:
                rig.board.runUntilIdle()
            case .reset:
                rig.device.hardwareReset()
            case .loopback:
                guard rig.framesSent > 0 else { continue }
                let copy = Array(rig.lastSent.bytes)
                copy.withUnsafeBytes { rig.offer($0) }
            case .memoryFill:
                let address = UInt64(input.u32() % UInt32(ramSize))
                let count = Int(input.u16())
                let value = input.u8()
                try? rig.board.memory.fill(at: address, count: min(count, ramSize - Int(address)), with: value)
            }
        }
    }
}
