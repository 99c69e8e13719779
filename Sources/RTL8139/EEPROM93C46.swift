import NICCore

/// A 93C46 serial EEPROM in 64 x 16-bit organisation, as wired to the
/// RTL8139's 9346CR pins (EECS, EESK, EEDI in; EEDO out).
///
/// Protocol (93C46 datasheet): raising CS starts a transaction; the device
/// ignores zeros until a start bit (1), then shifts in a 2-bit opcode and
/// a 6-bit address on rising SK edges. READ (10) answers with a dummy 0
/// and then the word, most significant bit first, one bit per rising SK
/// edge. WRITE (01) and ERASE (11) need a prior EWEN (00 11xxxx); EWDS
/// (00 00xxxx) locks again; WRAL (00 01xxxx) and ERAL (00 10xxxx) act on
/// every word. After a read's 16th bit the device waits for a new start
/// bit, so a driver may issue several reads in one CS cycle. DO floats
/// high (reads 1) until a READ's dummy zero, which is what lets a driver
/// detect the address length.
public final class EEPROM93C46 {
    public static let wordCount = 64

    private enum State {
        case idle
        case awaitingStart
        case command
        case reading
        case writing(all: Bool)
    }

    private var words: [UInt16]
    private var state = State.idle
    private var chipSelect = false
    private var clock = false
    private var shift: UInt32 = 0
    private var bits = 0
    private var address = 0
    private var output: UInt16 = 0
    private var writeEnabled = false
    /// The DO pin.
    public private(set) var dataOut = false

    public init(contents: [UInt16]) {
        words = [UInt16](repeating: 0xFFFF, count: EEPROM93C46.wordCount)
        for (i, w) in contents.prefix(EEPROM93C46.wordCount).enumerated() { words[i] = w }
    }

    /// Word `i` (0...63), for the chip's own auto-load.
    public func word(_ i: Int) -> UInt16 {
        words[i & (EEPROM93C46.wordCount - 1)]
    }

    /// Drives the three input pins; acts on CS edges and rising SK edges.
    public func setPins(chipSelect cs: Bool, clock sk: Bool, dataIn di: Bool) {
        defer {
            chipSelect = cs
            clock = sk
        }
        if !cs {
            if chipSelect { state = .idle }
            return
        }
        if !chipSelect {
            state = .awaitingStart
            shift = 0
            bits = 0
            dataOut = true      // DO floats high until the dummy zero
        }
        guard sk, !clock else { return }
        risingEdge(di)
    }

    private func risingEdge(_ di: Bool) {
        switch state {
        case .idle:
            break
        case .awaitingStart:
            if di {
                state = .command
                shift = 0
                bits = 0
            }
        case .command:
            shift = shift << 1 | (di ? 1 : 0)
            bits += 1
            if bits == 8 { decode(shift) }
        case .reading:
            dataOut = output & 0x8000 != 0
            output <<= 1
            bits += 1
            if bits == 16 {
                state = .awaitingStart
            }
        case .writing(let all):
            shift = shift << 1 | (di ? 1 : 0)
            bits += 1
            if bits == 16 {
                let value = UInt16(truncatingIfNeeded: shift)
                if all {
                    for i in words.indices { words[i] = value }
                } else {
                    words[address] = value
                }
                dataOut = true      // ready
                state = .idle
            }
        }
    }

    private func decode(_ command: UInt32) {
        let opcode = (command >> 6) & 0x3
        address = Int(command & 0x3F)
        bits = 0
        shift = 0
        switch opcode {
        case 0b10:
            output = words[address]
            dataOut = false         // the dummy zero
            state = .reading
        case 0b01:
            state = writeEnabled ? .writing(all: false) : .idle
        case 0b11:
            if writeEnabled { words[address] = 0xFFFF }
            dataOut = true
            state = .idle
        default:
            switch (command >> 4) & 0x3 {
            case 0b11: writeEnabled = true
            case 0b00: writeEnabled = false
            case 0b01:
                state = writeEnabled ? .writing(all: true) : .idle
                return
            default:
                if writeEnabled { for i in words.indices { words[i] = 0xFFFF } }
            }
            state = .idle
        }
    }
}

// MARK: Snapshot (in this file: the serial state is private to it)

extension EEPROM93C46 {
    /// The EEPROM's contents and its serial state machine, mid-command included.
    public struct SnapshotState {
        fileprivate var words: [UInt16]
        fileprivate var stateCode: UInt8
        fileprivate var pins: [Bool]
        fileprivate var shift: UInt32
        fileprivate var bits: Int
        fileprivate var address: Int
        fileprivate var output: UInt16
    }

    public func save(into w: inout SnapshotWriter) {
        w.put("eeprom.words", bytes: words.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] })
        let code: UInt8 = switch state {
        case .idle: 0
        case .awaitingStart: 1
        case .command: 2
        case .reading: 3
        case .writing(let all): all ? 5 : 4
        }
        w.put("eeprom.state", code)
        w.put("eeprom.pins", bytes: [chipSelect, clock, writeEnabled, dataOut].map { $0 ? 1 : 0 })
        w.put("eeprom.shift", shift)
        w.put("eeprom.bits", UInt32(truncatingIfNeeded: bits))
        w.put("eeprom.address", UInt32(truncatingIfNeeded: address))
        w.put("eeprom.output", output)
    }

    public func read(from r: inout SnapshotReader) throws(SnapshotError) -> SnapshotState {
        let raw = try r.bytes("eeprom.words", count: 2 * EEPROM93C46.wordCount)
        let words = stride(from: 0, to: raw.count, by: 2).map { UInt16(raw[$0]) | UInt16(raw[$0 + 1]) << 8 }
        let code: UInt8 = try r.integer("eeprom.state")
        guard code <= 5 else { throw SnapshotError("EEPROM state \(code) unknown") }
        let pins = try r.bytes("eeprom.pins", count: 4)
        guard pins.allSatisfy({ $0 <= 1 }) else { throw SnapshotError("EEPROM pins not booleans") }
        let bits: UInt32 = try r.integer("eeprom.bits")
        let address: UInt32 = try r.integer("eeprom.address")
        // A command is at most 2 + 6 address bits + 16 data bits long.
        guard bits <= 64, address < EEPROM93C46.wordCount else { throw SnapshotError("EEPROM shift state out of range") }
        return SnapshotState(words: words, stateCode: code, pins: pins.map { $0 == 1 }, shift: try r.integer("eeprom.shift"),
                             bits: Int(bits), address: Int(address), output: try r.integer("eeprom.output"))
    }

    public func apply(_ s: SnapshotState) {
        words = s.words
        state = switch s.stateCode {
        case 1: .awaitingStart
        case 2: .command
        case 3: .reading
        case 4: .writing(all: false)
        case 5: .writing(all: true)
        default: .idle
        }
        chipSelect = s.pins[0]
        clock = s.pins[1]
        writeEnabled = s.pins[2]
        dataOut = s.pins[3]
        shift = s.shift
        bits = s.bits
        address = s.address
        output = s.output
    }
}
