import CUnicorn
import NICCore

/// Boot services: TPL, memory, events and timers, and the small ones
/// (UEFI 2.7 section 7). The protocol handler services are in
/// UEFIMachine+Handles.swift, the image services in UEFIMachine+Images.swift.
extension UEFIMachine {
    func bootServiceHandlers() -> [String: Service] {
        var s: [String: Service] = [:]
        s["RaiseTPL"] = { m in
            let old = m.tpl
            m.tpl = min(max(m.arg(0), old), EFITPL.highLevel)
            return .done(old)
        }
        s["RestoreTPL"] = { m in
            m.tpl = min(m.arg(0), m.tpl)
            return .done(0)
        }
        s["AllocatePages"] = { m in m.allocatePages() }
        s["FreePages"] = { m in
            m.memoryMap.free(m.arg(0), pages: m.arg(1), pool: false) ? .done(EFIStatus.success) : .done(EFIStatus.notFound)
        }
        s["GetMemoryMap"] = { m in m.getMemoryMap() }
        s["AllocatePool"] = { m in
            let (type, size, out) = (m.arg(0), m.arg(1), m.arg(2))
            guard m.valid(out, 8), let kind = EFIMemoryType(rawValue: UInt32(truncatingIfNeeded: type)), size <= m.memoryMap.ramSize else {
                return .done(EFIStatus.invalidParameter)
            }
            guard let a = m.memoryMap.allocate(pages: max((size + 0xFFF) >> 12, 1), type: kind, pool: true) else {
                return .done(EFIStatus.outOfResources)
            }
            m.w64(out, a)
            return .done(EFIStatus.success)
        }
        s["FreePool"] = { m in
            m.memoryMap.free(m.arg(0), pages: nil, pool: true) ? .done(EFIStatus.success) : .done(EFIStatus.invalidParameter)
        }
        s["CreateEvent"] = { m in m.createEvent(group: nil, out: m.arg(4)) }
        s["CreateEventEx"] = { m in m.createEvent(group: m.readGUID(m.arg(4)), out: m.arg(5)) }
        s["SetTimer"] = { m in m.setTimer(m.arg(0), type: m.arg(1), trigger: m.arg(2)) }
        s["SignalEvent"] = { m in
            guard let e = m.events[m.arg(0)] else { return .done(EFIStatus.invalidParameter) }
            m.signal(e)
            return .done(EFIStatus.success)
        }
        s["CloseEvent"] = { m in
            guard let e = m.events.removeValue(forKey: m.arg(0)) else { return .done(EFIStatus.invalidParameter) }
            if let t = e.timer { m.board.clock.cancel(t) }
            m.pendingNotifies.removeAll { $0 == e.address }
            return .done(EFIStatus.success)
        }
        s["CheckEvent"] = { m in
            guard let e = m.events[m.arg(0)] else { return .done(EFIStatus.invalidParameter) }
            if e.type & UEFIEvent.notifySignal != 0 { return .done(EFIStatus.invalidParameter) }
            return .done(m.consume(e) ? EFIStatus.success : EFIStatus.notReady)
        }
        s["WaitForEvent"] = { m in m.waitForEvent(m.arg(0), m.arg(1), m.arg(2)) }
        s["Stall"] = { m in
            // Microseconds of virtual time; the board's timers and frames run meanwhile.
            let ns = min(m.arg(0), 60_000_000) * 1_000
            m.board.advance(by: ns)
            m.cpu.timeStampBase = m.board.clock.now
            return .done(EFIStatus.success)
        }
        s["SetWatchdogTimer"] = { _ in .done(EFIStatus.success) }
        s["GetNextMonotonicCount"] = { m in
            guard m.valid(m.arg(0), 8) else { return .done(EFIStatus.invalidParameter) }
            m.monotonicCount &+= 1
            m.w64(m.arg(0), m.monotonicCount)
            return .done(EFIStatus.success)
        }
        s["CalculateCrc32"] = { m in
            let (data, size, out) = (m.arg(0), m.arg(1), m.arg(2))
            guard size > 0, size <= 1 << 26, m.valid(data, Int(size)), m.valid(out, 4),
                  let bytes = try? m.memory.readBytes(at: data, count: Int(size)) else { return .done(EFIStatus.invalidParameter) }
            m.w32(out, CRC32.checksum(bytes))
            return .done(EFIStatus.success)
        }
        s["CopyMem"] = { m in
            let (to, from, n) = (m.arg(0), m.arg(1), m.arg(2))
            if n > 0, n <= 1 << 28, m.valid(to, Int(n)), m.valid(from, Int(n)), let bytes = try? m.memory.readBytes(at: from, count: Int(n)) {
                try? m.load(bytes, at: to)
            }
            return .done(0)
        }
        s["SetMem"] = { m in
            let (to, n, v) = (m.arg(0), m.arg(1), m.arg(2))
            if n > 0, n <= 1 << 28, m.valid(to, Int(n)) {
                try? m.memory.fill(at: to, count: Int(n), with: UInt8(truncatingIfNeeded: v))
                m.forgetCode(from: to, count: Int(n))
            }
            return .done(0)
        }
        s["InstallConfigurationTable"] = { m in
            m.note("InstallConfigurationTable \(m.readGUID(m.arg(0))?.description ?? "?"): not kept")
            return .done(EFIStatus.success)
        }
        s["ExitBootServices"] = { m in
            guard m.arg(1) == m.memoryMap.key else { return .done(EFIStatus.invalidParameter) }
            m.bootServicesExited = true
            for e in m.events.values where e.type == UEFIEvent.exitBootServices { m.signal(e) }
            return .done(EFIStatus.success)
        }
        handleServices(into: &s)
        imageServices(into: &s)
        return s
    }

    // MARK: Memory

    private func allocatePages() -> ServiceResult {
        let (how, type, pages, inout_) = (arg(0), arg(1), arg(2), arg(3))
        guard valid(inout_, 8), let kind = EFIMemoryType(rawValue: UInt32(truncatingIfNeeded: type)), how <= 2 else {
            return .done(EFIStatus.invalidParameter)
        }
        let requested = r64(inout_)
        let a: UInt64? = switch how {
        case 0: memoryMap.allocate(pages: pages, type: kind)
        case 1: memoryMap.allocate(pages: pages, type: kind, maximum: requested)
        default: memoryMap.allocate(pages: pages, type: kind, at: requested)
        }
        guard let a else { return .done(how == 2 ? EFIStatus.notFound : EFIStatus.outOfResources) }
        w64(inout_, a)
        return .done(EFIStatus.success)
    }

    /// EFI_MEMORY_DESCRIPTOR is 40 bytes; the firmware reports 48 so that
    /// callers step by DescriptorSize, as the specification requires.
    static let descriptorSize: UInt64 = 48

    private func getMemoryMap() -> ServiceResult {
        let (sizePointer, map, keyPointer, descriptorSizePointer, versionPointer) = (arg(0), arg(1), arg(2), arg(3), arg(4))
        guard valid(sizePointer, 8) else { return .done(EFIStatus.invalidParameter) }
        let list = memoryMap.descriptors
        let needed = UInt64(list.count) * Self.descriptorSize
        if valid(descriptorSizePointer, 8) { w64(descriptorSizePointer, Self.descriptorSize) }
        if valid(versionPointer, 4) { w32(versionPointer, 1) }
        guard r64(sizePointer) >= needed else {
            w64(sizePointer, needed)
            return .done(EFIStatus.bufferTooSmall)
        }
        guard valid(map, Int(needed)) else { return .done(EFIStatus.invalidParameter) }
        for (i, d) in list.enumerated() {
            let at = map + UInt64(i) * Self.descriptorSize
            try? memory.fill(at: at, count: Int(Self.descriptorSize), with: 0)
            w32(at, d.type.rawValue)
            w64(at + 8, d.start)
            w64(at + 16, d.start)
            w64(at + 24, d.pages)
            w64(at + 32, 0xF)  // UC, WC, WT, WB
        }
        w64(sizePointer, needed)
        if valid(keyPointer, 8) { w64(keyPointer, memoryMap.key) }
        return .done(EFIStatus.success)
    }

    // MARK: Events and timers

    func makeEvent(type: UInt32, tpl: UInt64, function: UInt64, context: UInt64, group: EFIGUID?) -> UInt64 {
        let address = firmwareAllocateHandleLike()
        events[address] = UEFIEvent(address: address, type: type, notifyTPL: tpl, notifyFunction: function,
                                    notifyContext: context, group: group)
        return address
    }

    /// Events and handles are distinct 16-byte cells in firmware memory.
    func firmwareAllocateHandleLike() -> UInt64 {
        firmwareAllocate(16)
    }

    private func createEvent(group: EFIGUID?, out: UInt64) -> ServiceResult {
        let type = UInt32(truncatingIfNeeded: arg(0)), notifyTPL = arg(1), function = arg(2), context = arg(3)
        guard valid(out, 8) else { return .done(EFIStatus.invalidParameter) }
        if type & (UEFIEvent.notifySignal | UEFIEvent.notifyWait) != 0 {
            guard function != 0, notifyTPL > EFITPL.application, notifyTPL <= EFITPL.highLevel else {
                return .done(EFIStatus.invalidParameter)
            }
        }
        w64(out, makeEvent(type: type, tpl: notifyTPL, function: function, context: context, group: group))
        return .done(EFIStatus.success)
    }

    private func setTimer(_ handle: UInt64, type: UInt64, trigger: UInt64) -> ServiceResult {
        guard let e = events[handle], e.type & UEFIEvent.timerType != 0, type <= 2 else { return .done(EFIStatus.invalidParameter) }
        if let t = e.timer { board.clock.cancel(t) }
        e.timer = nil
        guard type != 0 else { return .done(EFIStatus.success) }
        // 100 ns units; a periodic timer of 0 fires every tick of the PC's 10 ms timer.
        let ns = min(trigger, UInt64.max / 200) * 100
        let period = type == 1 ? max(ns, 10 * VirtualClock.millisecond) : 0
        e.timer = board.clock.schedule(after: max(ns, 1), repeating: period) { [weak self, weak e] in
            guard let self, let e else { return }
            if period == 0 { e.timer = nil }
            self.signal(e)
        }
        return .done(EFIStatus.success)
    }

    /// Signals `e` (and its group): a notify-signal event's function is
    /// queued for the next return to a lower TPL.
    func signal(_ e: UEFIEvent) {
        let targets = e.group.map { g in events.values.filter { $0.group == g } } ?? [e]
        for t in targets {
            t.signaled = true
            if t.type & UEFIEvent.notifySignal != 0, t.notifyFunction != 0, !pendingNotifies.contains(t.address) {
                pendingNotifies.append(t.address)
            }
        }
    }

    /// The pending notification with the highest TPL above the current one.
    func nextNotify() -> UEFIEvent? {
        guard !pendingNotifies.isEmpty else { return nil }
        var best: UEFIEvent?
        for a in pendingNotifies {
            guard let e = events[a], e.notifyTPL > tpl else { continue }
            if best == nil || e.notifyTPL > best!.notifyTPL { best = e }
        }
        return best
    }

    /// Runs `e`'s notify function at its TPL, then the other pending ones, then `final`.
    func dispatch(_ e: UEFIEvent, then final: @escaping (UEFIMachine) -> ServiceResult) -> ServiceResult {
        pendingNotifies.removeAll { $0 == e.address }
        if e.type & UEFIEvent.notifySignal != 0 { e.signaled = false }
        let saved = tpl
        tpl = e.notifyTPL
        return .call(e.notifyFunction, [e.address, e.notifyContext]) { m, _ in
            m.tpl = saved
            if let next = m.nextNotify() { return m.dispatch(next, then: final) }
            return final(m)
        }
    }

    /// CheckEvent's test: signaled (clearing it), or ready by its Swift poll.
    func consume(_ e: UEFIEvent) -> Bool {
        if let poll = e.poll, poll() { e.signaled = true }
        guard e.signaled else { return false }
        e.signaled = false
        return true
    }

    private func waitForEvent(_ count: UInt64, _ list: UInt64, _ indexOut: UInt64) -> ServiceResult {
        guard count > 0, count <= 64, valid(list, Int(count) * 8), valid(indexOut, 8), tpl == EFITPL.application else {
            return .done(EFIStatus.invalidParameter)
        }
        var waiting: [UEFIEvent] = []
        for i in 0..<count {
            guard let e = events[r64(list + i * 8)], e.type & UEFIEvent.notifySignal == 0 else {
                w64(indexOut, i)
                return .done(EFIStatus.invalidParameter)
            }
            waiting.append(e)
        }
        // Time moves to the next timer until one is signaled or the run's deadline passes.
        while true {
            for (i, e) in waiting.enumerated() where consume(e) {
                w64(indexOut, UInt64(i))
                return .done(EFIStatus.success)
            }
            if board.clock.now >= deadline {
                // Resume on the same call next run: re-enter the service.
                resume = Resume(rip: cpu.read64(UC_X86_REG_RIP), rsp: cpu.read64(UC_X86_REG_RSP), registers: [])
                return .stop(.timeout)
            }
            idle()
            cpu.timeStampBase = board.clock.now
            if let notify = nextNotify() {
                // Notification functions run while the caller waits.
                return dispatch(notify) { m in m.waitForEvent(count, list, indexOut) }
            }
        }
    }
}

