import NICCore

/// The 8254 programmable interval timer at 40h-43h on its 1.193182 MHz
/// clock, on virtual time, plus port 61h (system control port B) which
/// gates channel 2 and reads its output, as `udelay` loops in firmware use
/// it. Channel 0 drives IRQ 0 (18.2 Hz after reset: reload 65536).
final class PIT8254: RegisterBlock {
    static let frequency: UInt64 = 1_193_182
    let size: UInt64 = 4

    struct Channel {
        var mode: UInt8 = 3
        /// Reload value; 0 means 65536.
        var reload: UInt32 = 0x1_0000
        var start: UInt64 = 0
        /// 1: LSB only, 2: MSB only, 3: LSB then MSB.
        var access: UInt8 = 3
        var writeLow = true
        var pendingLow: UInt8 = 0
        var latched: UInt16?
        var readLow = true
        var gate = true
    }

    @exclusivity(unchecked)
    private var channels = [Channel(), Channel(), Channel(mode: 0, gate: false)]
    private let clock: VirtualClock
    @exclusivity(unchecked)
    private var tickTimer: TimerID?
    /// Called on every rising edge of channel 0's output (IRQ 0).
    @exclusivity(unchecked)
    var onTick: () -> Void = {}

    init(clock: VirtualClock) {
        self.clock = clock
    }

    /// The clock may be shared with other machines and outlive this one
    /// (a fleet's): its periodic timer must not fire for a PIT that is gone.
    deinit {
        if let t = tickTimer { clock.cancel(t) }
    }

    /// Starts channel 0's periodic interrupt (what the BIOS's POST does).
    func startTimer() {
        if let t = tickTimer { clock.cancel(t) }
        let period = UInt64(channels[0].reload) * VirtualClock.second / Self.frequency
        tickTimer = clock.schedule(after: period, repeating: max(period, 1)) { [unowned self] in onTick() }
    }

    private func elapsedTicks(_ c: Channel) -> UInt64 {
        let ns = clock.now &- c.start
        return ns.multipliedFullWidth(by: Self.frequency).high == 0
            ? ns * Self.frequency / VirtualClock.second : UInt64.max
    }

    /// The count a read would see now.
    func count(_ i: Int) -> UInt16 {
        let c = channels[i]
        guard c.gate else { return UInt16(truncatingIfNeeded: c.reload) }
        let t = elapsedTicks(c)
        if c.mode == 0 || c.mode == 1 {
            return t >= UInt64(c.reload) ? UInt16(truncatingIfNeeded: 0x1_0000 &- (t - UInt64(c.reload)) % 0x1_0000)
                : UInt16(truncatingIfNeeded: UInt64(c.reload) - t)
        }
        return UInt16(truncatingIfNeeded: UInt64(c.reload) - t % UInt64(c.reload))
    }

    /// OUT of a channel: for mode 0, high once the count has reached zero.
    func output(_ i: Int) -> Bool {
        let c = channels[i]
        guard c.gate else { return c.mode != 0 }
        let t = elapsedTicks(c)
        switch c.mode {
        case 0, 1: return t >= UInt64(c.reload)
        case 3: return (t % UInt64(c.reload)) < UInt64(c.reload) / 2
        default: return true
        }
    }

    // MARK: Ports 40h-43h

    func read(offset: UInt64, width: AccessWidth) -> UInt64 {
        splitRead(offset: offset, width: width) { o in
            guard o < 3 else { return 0xFF }
            let i = Int(o)
            let value = channels[i].latched ?? count(i)
            var c = channels[i]
            let byte: UInt8
            switch c.access {
            case 1: byte = UInt8(value & 0xFF); c.latched = nil
            case 2: byte = UInt8(value >> 8); c.latched = nil
            default:
                byte = c.readLow ? UInt8(value & 0xFF) : UInt8(value >> 8)
                if !c.readLow { c.latched = nil }
                c.readLow.toggle()
            }
            channels[i] = c
            return byte
        }
    }

    func write(offset: UInt64, width: AccessWidth, value: UInt64) {
        splitWrite(offset: offset, width: width, value: value) { o, v in
            if o == 3 { control(v) } else if o < 3 { load(Int(o), v) }
        }
    }

    private func control(_ v: UInt8) {
        let i = Int(v >> 6)
        guard i < 3 else { return }  // read-back command: not used by firmware we run
        let access = (v >> 4) & 3
        if access == 0 {  // counter latch
            channels[i].latched = count(i)
            channels[i].readLow = true
            return
        }
        channels[i].access = access
        channels[i].mode = (v >> 1) & 7 > 5 ? (v >> 1) & 3 : (v >> 1) & 7
        channels[i].writeLow = true
        channels[i].readLow = true
        channels[i].latched = nil
    }

    private func load(_ i: Int, _ v: UInt8) {
        var c = channels[i]
        var complete = false
        switch c.access {
        case 1: c.reload = UInt32(v); complete = true
        case 2: c.reload = UInt32(v) << 8; complete = true
        default:
            if c.writeLow {
                c.pendingLow = v
                c.writeLow = false
            } else {
                c.reload = UInt32(v) << 8 | UInt32(c.pendingLow)
                c.writeLow = true
                complete = true
            }
        }
        if complete {
            if c.reload == 0 { c.reload = 0x1_0000 }
            c.start = clock.now
        }
        channels[i] = c
        if complete, i == 0, tickTimer != nil { startTimer() }
    }

    // MARK: Port 61h

    /// System control port B: bit 0 gate 2, bit 1 speaker data, bit 4
    /// refresh toggle (every 15.085 us), bit 5 OUT2.
    final class PortB: RegisterBlock {
        let size: UInt64 = 1
        unowned let pit: PIT8254
        var bits: UInt8 = 0

        init(pit: PIT8254) { self.pit = pit }

        func read(offset: UInt64, width: AccessWidth) -> UInt64 {
            let refresh: UInt8 = (pit.clock.now / 15_085) & 1 == 1 ? 0x10 : 0
            let out2: UInt8 = pit.output(2) ? 0x20 : 0
            return UInt64((bits & 0x0F) | refresh | out2)
        }

        func write(offset: UInt64, width: AccessWidth, value: UInt64) {
            let v = UInt8(truncatingIfNeeded: value)
            let gate = v & 1 != 0
            if gate && pit.channels[2].gate == false { pit.channels[2].start = pit.clock.now }
            pit.channels[2].gate = gate
            bits = v & 0x0F
        }
    }
}
