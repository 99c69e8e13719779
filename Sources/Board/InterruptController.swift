import NICCore

/// The board's interrupt request lines (IRQ 0-23), each the wired-OR of
/// every source attached to it. Tests and hosts read the levels; a CPU
/// model subscribes to `onChange`.
public final class InterruptController {
    public static let lineCount = 24

    @exclusivity(unchecked)
    private var assertedSources = [Int](repeating: 0, count: InterruptController.lineCount)
    @exclusivity(unchecked)
    private var raises = [Int](repeating: 0, count: InterruptController.lineCount)
    /// Called with (irq, level) whenever a line's level changes.
    @exclusivity(unchecked)
    public var onChange: ((Int, Bool) -> Void)?

    public init() {}

    /// A new source on line `irq` (clamped into range), initially deasserted.
    public func source(irq: Int) -> InterruptLine {
        IRQSource(irq: max(0, min(irq, Self.lineCount - 1)), controller: self)
    }

    public func isAsserted(_ irq: Int) -> Bool {
        (0..<Self.lineCount).contains(irq) && assertedSources[irq] > 0
    }

    /// Times line `irq` went from low to high.
    public func raiseCount(_ irq: Int) -> Int {
        (0..<Self.lineCount).contains(irq) ? raises[irq] : 0
    }

    fileprivate func sourceChanged(irq: Int, asserted: Bool) {
        let before = assertedSources[irq] > 0
        assertedSources[irq] += asserted ? 1 : -1
        let after = assertedSources[irq] > 0
        if after != before {
            if after { raises[irq] += 1 }
            onChange?(irq, after)
        }
    }
}

private final class IRQSource: InterruptLine {
    let irq: Int
    unowned let controller: InterruptController
    @exclusivity(unchecked)
    var level = false

    init(irq: Int, controller: InterruptController) {
        self.irq = irq
        self.controller = controller
    }

    func set(asserted: Bool) {
        guard asserted != level else { return }
        level = asserted
        controller.sourceChanged(irq: irq, asserted: asserted)
    }
}

/// PCI INTx routing: INTA-D of each slot are swizzled onto four PIRQ lines
/// (PIRQ = (slot + pin - 1) mod 4, as on the PC chipsets) and each PIRQ is
/// steered to an IRQ by a routing register, as PIIX3's PIRQRC[A:D] do
/// (bit 7 set: not routed).
public final class PIRQRouter {
    /// PIRQA-D routing registers. Default 10, 10, 11, 11, as PC firmware sets them.
    @exclusivity(unchecked)
    public private(set) var routes: [UInt8] = [10, 10, 11, 11]
    @exclusivity(unchecked)
    private var levels = [Int](repeating: 0, count: 4)
    @exclusivity(unchecked)
    private var outputs: [InterruptLine?] = [nil, nil, nil, nil]
    private unowned let controller: InterruptController

    init(controller: InterruptController) {
        self.controller = controller
        for p in 0..<4 { outputs[p] = output(for: routes[p]) }
    }

    /// The PIRQ (0-3) that INTx pin `pin` (1-4) of slot `slot` lands on.
    public static func pirq(slot: Int, pin: UInt8) -> Int {
        (slot + Int(pin) - 1) & 3
    }

    /// Added to the slot number before the swizzle: how the board wires
    /// slots to PIRQ lines. The i440FX/PIIX3 board wires slot 1 INTA to
    /// PIRQA, slot 2 INTA to PIRQB and so on: an offset of 3 (slot - 1
    /// mod 4), which is the default here as it is in QEMU's `pc` machine.
    /// Set it before attaching functions.
    @exclusivity(unchecked)
    public var slotOffset = 3

    /// The PIRQ INTx pin `pin` of slot `slot` lands on, on this board.
    public func pirq(slot: Int, pin: UInt8) -> Int {
        Self.pirq(slot: slot + slotOffset, pin: pin)
    }

    /// The IRQ a PIRQ is routed to, or nil when its routing is disabled.
    public func irq(forPIRQ p: Int) -> Int? {
        let r = routes[p & 3]
        return r & 0x80 != 0 || r >= InterruptController.lineCount ? nil : Int(r)
    }

    /// Writes a routing register, moving the PIRQ's current level with it.
    public func setRoute(pirq p: Int, value: UInt8) {
        let p = p & 3
        outputs[p]?.set(asserted: false)
        routes[p] = value
        outputs[p] = output(for: value)
        outputs[p]?.set(asserted: levels[p] > 0)
    }

    private func output(for route: UInt8) -> InterruptLine? {
        route & 0x80 != 0 || Int(route) >= InterruptController.lineCount ? nil : controller.source(irq: Int(route))
    }

    func pinChanged(pirq p: Int, asserted: Bool) {
        let before = levels[p] > 0
        levels[p] += asserted ? 1 : -1
        let after = levels[p] > 0
        if before != after { outputs[p]?.set(asserted: after) }
    }
}

/// One function's INTx pin, feeding its PIRQ.
final class INTxPin: InterruptLine {
    let pirq: Int
    unowned let router: PIRQRouter
    @exclusivity(unchecked)
    var level = false

    init(pirq: Int, router: PIRQRouter) {
        self.pirq = pirq
        self.router = router
    }

    func set(asserted: Bool) {
        guard asserted != level else { return }
        level = asserted
        router.pinChanged(pirq: pirq, asserted: asserted)
    }
}
