import CNICSim
import NICSimC

/// The C ABI as an emulator drives it (include/nicsim.h): a card made by
/// `nicsim_create` from a model and an options string, then an op-coded
/// stream of configuration cycles, BAR accesses, frames in, time, link,
/// reset and guest RAM writes, with snapshots taken and loaded along the
/// way. The host's callbacks serve 64 KiB of guest RAM (a DMA outside it is
/// a bus error) and count interrupts, MSI messages and frames out.
///
/// Checked on every run, besides not crashing:
/// - a snapshot loads into a fresh card of the same model and options, and
///   that card's own snapshot is byte for byte the same;
/// - a damaged snapshot (bytes of the input XORed in, or cut short) is
///   either refused with nothing changed (the card's snapshot is the same
///   before and after) or taken, and then what the card saves loads again
///   into a fresh card unchanged;
/// - options from the input either make a card or a one-line reason.
enum CABIFuzz {
    static let models = ["rtl8139", "ne2k_pci", "ne2k_isa", "virtio-net-pci"]
    /// Option strings an emulator passes (the first is none).
    static let presets = ["", "mac=52:54:00:12:34:56", "disable-legacy=on,vectors=3", "disable-modern=on,vectors=0",
                          "iobase=0x300,irq=9", "vectors=1", "mac=02:00:00:00:00:01,disable-legacy=off"]
    static let ramSize = 64 << 10
    static let maxSteps = 512

    /// The emulator's side of one card: guest RAM and what the card did to it.
    final class Host {
        var ram = [UInt8](repeating: 0, count: CABIFuzz.ramSize)
        var irqLevel: Int32 = 0
        var messages = 0
        var framesOut = 0

        func callbacks() -> nicsim_host {
            var h = nicsim_host()
            h.opaque = Unmanaged.passUnretained(self).toOpaque()
            h.dma_read = { opaque, addr, buf, len in
                let host = Unmanaged<Host>.fromOpaque(opaque!).takeUnretainedValue()
                guard let buf, addr <= UInt64(host.ram.count), UInt64(host.ram.count) - addr >= UInt64(len) else { return -1 }
                host.ram.withUnsafeBytes { buf.copyMemory(from: $0.baseAddress! + Int(addr), byteCount: len) }
                return 0
            }
            h.dma_write = { opaque, addr, buf, len in
                let host = Unmanaged<Host>.fromOpaque(opaque!).takeUnretainedValue()
                guard let buf, addr <= UInt64(host.ram.count), UInt64(host.ram.count) - addr >= UInt64(len) else { return -1 }
                host.ram.withUnsafeMutableBytes { ($0.baseAddress! + Int(addr)).copyMemory(from: buf, byteCount: len) }
                return 0
            }
            h.set_irq = { opaque, level in Unmanaged<Host>.fromOpaque(opaque!).takeUnretainedValue().irqLevel = level }
            h.msi = { opaque, _, _ in Unmanaged<Host>.fromOpaque(opaque!).takeUnretainedValue().messages += 1 }
            h.transmit = { opaque, frame, len in
                precondition(len <= 65535 && (frame != nil || len == 0), "a \(len)-byte frame out")
                Unmanaged<Host>.fromOpaque(opaque!).takeUnretainedValue().framesOut += 1
            }
            return h
        }
    }

    /// A card and the host it belongs to (the host outlives the card).
    struct Card {
        let host: Host
        let device: OpaquePointer

        static func make(_ model: String, _ options: String) -> Card? {
            let host = Host()
            var callbacks = host.callbacks()
            var error = [CChar](repeating: 0, count: 256)
            guard let device = nicsimCreate(model, options, &callbacks, &error, error.count) else {
                let reason = String(cString: error)
                precondition(!reason.isEmpty && !reason.contains("\n"), "nicsim_create failed without a one-line reason: \(reason)")
                return nil
            }
            return Card(host: host, device: device)
        }

        func destroy() { nicsimDestroy(device) }

        func save() -> [UInt8] {
            let size = nicsimSave(device, nil, 0)
            var bytes = [UInt8](repeating: 0, count: size)
            let written = bytes.withUnsafeMutableBytes { nicsimSave(device, $0.baseAddress, $0.count) }
            precondition(written == size, "nicsim_save wrote \(written) bytes after asking for \(size)")
            return bytes
        }

        func load(_ bytes: [UInt8]) -> Int32 {
            bytes.withUnsafeBytes { nicsimLoad(device, $0.baseAddress, $0.count) }
        }
    }

    static func run(_ input: inout FuzzInput) {
        let model = models[Int(input.u8()) % models.count]
        let choice = input.u8()
        let options: String
        if choice & 0x80 != 0 {
            let length = Int(input.u8()) % 64
            options = String(decoding: input.take(length).map { $0 == 0 ? UInt8(ascii: ",") : $0 }, as: UTF8.self)
        } else {
            options = presets[Int(choice) % presets.count]
        }
        guard var card = Card.make(model, options) else { return }
        var now: Int64 = 0
        var steps = 0
        while !input.isAtEnd, steps < maxSteps {
            steps += 1
            switch input.u8() % 12 {
            case 0:
                _ = nicsimConfigRead(card.device, UInt32(input.u16()), UInt32(input.u8() % 9))
            case 1:
                let offset = UInt32(input.u16())
                let width = UInt32(input.u8() % 9)
                nicsimConfigWrite(card.device, offset, width, input.u32())
            case 2:
                let bar = Int32(Int8(bitPattern: input.u8()) % 8)
                let offset = UInt64(input.u16())
                _ = nicsimBarRead(card.device, bar, offset, UInt32(input.u8() % 9))
            case 3:
                let bar = Int32(Int8(bitPattern: input.u8()) % 8)
                let offset = UInt64(input.u16())
                let width = UInt32(input.u8() % 9)
                nicsimBarWrite(card.device, bar, offset, width, input.u64())
            case 4:
                let frame = input.array(Int(input.u16() % 1600))
                let taken = frame.withUnsafeBytes { nicsimReceive(card.device, $0.baseAddress, $0.count) }
                precondition((-1...1).contains(taken), "nicsim_receive answered \(taken)")
            case 5:
                now &+= Int64(input.u32())
                let next = nicsimAdvance(card.device, now)
                precondition(next == -1 || next > now, "nicsim_advance(\(now)) left a deadline at \(next)")
            case 6:
                nicsimSetLink(card.device, Int32(input.u8() & 1))
            case 7:
                nicsimReset(card.device)
            case 8:
                // The guest's memory: descriptors, rings and buffers.
                let at = Int(input.u16()) % ramSize
                let run = input.take(Int(input.u8()))
                for (i, b) in run.enumerated() where at + i < ramSize { card.host.ram[at + i] = b }
            case 9:
                // Migration: the card continues in a fresh one made from its snapshot.
                let snapshot = card.save()
                guard let clone = Card.make(model, options) else { preconditionFailure("\(model) \(options) made once, not twice") }
                clone.host.ram = card.host.ram
                precondition(clone.load(snapshot) == 0, "\(model): a fresh card refused the snapshot of its twin")
                precondition(clone.save() == snapshot, "\(model): the restored card saves a different snapshot")
                card.destroy()
                card = clone
                _ = nicsimAdvance(card.device, now)
            case 10:
                // A damaged snapshot: XOR bytes of the input in, or cut it.
                var snapshot = card.save()
                let before = snapshot
                if input.bool() {
                    snapshot = Array(snapshot.prefix(Int(input.u16()) % max(1, snapshot.count)))
                } else {
                    for _ in 0..<(Int(input.u8() % 8) + 1) where !snapshot.isEmpty {
                        let at = Int(input.u16()) % snapshot.count
                        snapshot[at] ^= input.u8() | 1
                    }
                }
                if card.load(snapshot) != 0 {
                    precondition(card.save() == before, "\(model): a refused snapshot changed the card")
                } else {
                    let taken = card.save()
                    guard let fresh = Card.make(model, options) else { preconditionFailure("\(model) \(options) made once, not twice") }
                    precondition(fresh.load(taken) == 0 && fresh.save() == taken, "\(model): an accepted snapshot does not round-trip")
                    fresh.destroy()
                }
            default:
                // Raw bytes as a snapshot: refused with nothing changed, or taken.
                let before = card.save()
                let bytes = input.array(Int(input.u16() % 4096))
                if card.load(bytes) != 0 {
                    precondition(card.save() == before, "\(model): refused bytes changed the card")
                }
            }
        }
        card.destroy()
    }
}
