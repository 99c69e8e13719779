/// The handle database and the protocol handler services (UEFI 2.7
/// section 7.3): installing and finding protocols, OpenProtocol's
/// bookkeeping, and the driver model's ConnectController and
/// DisconnectController calling Driver Binding protocols in the guest.
extension UEFIMachine {
    static let byHandleProtocol: UInt32 = 0x01
    static let getProtocol: UInt32 = 0x02
    static let testProtocol: UInt32 = 0x04
    static let byChildController: UInt32 = 0x08
    static let byDriver: UInt32 = 0x10
    static let exclusive: UInt32 = 0x20

    /// A new, empty handle.
    func newHandle() -> UInt64 {
        let a = firmwareAllocateHandleLike()
        handles[a] = UEFIHandle(address: a)
        handleOrder.append(a)
        return a
    }

    func addProtocol(_ handle: UInt64, _ guid: EFIGUID, _ interface: UInt64) {
        handles[handle]?.protocols.append(UEFIProtocol(guid: guid, interface: interface))
        _ = guidAddress(guid)
    }

    /// The interface of `guid` on `handle`.
    func interface(_ handle: UInt64, _ guid: EFIGUID) -> UInt64? {
        guard let h = handles[handle], let i = h.index(of: guid) else { return nil }
        return h.protocols[i].interface
    }

    /// Handles with `guid`, in creation order.
    func handles(with guid: EFIGUID) -> [UInt64] {
        handleOrder.filter { handles[$0]?.index(of: guid) != nil }
    }

    private func install(_ handlePointer: UInt64, _ guid: EFIGUID, _ interface: UInt64) -> UInt64 {
        guard valid(handlePointer, 8) else { return EFIStatus.invalidParameter }
        var handle = r64(handlePointer)
        if handle == 0 {
            handle = newHandle()
            w64(handlePointer, handle)
        }
        guard let h = handles[handle] else { return EFIStatus.invalidParameter }
        guard h.index(of: guid) == nil else { return EFIStatus.invalidParameter }
        addProtocol(handle, guid, interface)
        return EFIStatus.success
    }

    private func uninstall(_ handle: UInt64, _ guid: EFIGUID, _ interface: UInt64) -> UInt64 {
        guard let h = handles[handle], let i = h.index(of: guid), h.protocols[i].interface == interface else { return EFIStatus.notFound }
        guard !h.protocols[i].opens.contains(where: { $0.attributes & (Self.byDriver | Self.exclusive) != 0 }) else {
            return EFIStatus.accessDenied
        }
        h.protocols.remove(at: i)
        if h.protocols.isEmpty {
            handles[handle] = nil
            handleOrder.removeAll { $0 == handle }
        }
        return EFIStatus.success
    }

    /// The (GUID, interface) pairs of a variadic call from argument `first`, up to the NULL GUID.
    private func variadicPairs(from first: Int) -> [(EFIGUID, UInt64)]? {
        var pairs: [(EFIGUID, UInt64)] = []
        var i = first
        while pairs.count < 32 {
            let g = arg(i)
            if g == 0 { return pairs }
            guard let guid = readGUID(g) else { return nil }
            pairs.append((guid, arg(i + 1)))
            i += 2
        }
        return nil
    }

    func handleServices(into s: inout [String: Service]) {
        s["InstallProtocolInterface"] = { m in
            guard let guid = m.readGUID(m.arg(1)), m.arg(2) == 0 else { return .done(EFIStatus.invalidParameter) }
            return .done(m.install(m.arg(0), guid, m.arg(3)))
        }
        s["InstallMultipleProtocolInterfaces"] = { m in
            let pointer = m.arg(0)
            guard let pairs = m.variadicPairs(from: 1), m.valid(pointer, 8) else { return .done(EFIStatus.invalidParameter) }
            let created = m.r64(pointer) == 0
            var done: [(EFIGUID, UInt64)] = []
            for (guid, interface) in pairs {
                let status = m.install(pointer, guid, interface)
                guard status == EFIStatus.success else {
                    for (g, i) in done { _ = m.uninstall(m.r64(pointer), g, i) }
                    if created { m.w64(pointer, 0) }
                    return .done(status)
                }
                done.append((guid, interface))
            }
            return .done(EFIStatus.success)
        }
        s["UninstallProtocolInterface"] = { m in
            guard let guid = m.readGUID(m.arg(1)) else { return .done(EFIStatus.invalidParameter) }
            return .done(m.uninstall(m.arg(0), guid, m.arg(2)))
        }
        s["UninstallMultipleProtocolInterfaces"] = { m in
            guard let pairs = m.variadicPairs(from: 1) else { return .done(EFIStatus.invalidParameter) }
            for (guid, interface) in pairs where m.uninstall(m.arg(0), guid, interface) != EFIStatus.success {
                return .done(EFIStatus.invalidParameter)
            }
            return .done(EFIStatus.success)
        }
        s["ReinstallProtocolInterface"] = { m in
            guard let guid = m.readGUID(m.arg(1)), let h = m.handles[m.arg(0)], let i = h.index(of: guid),
                  h.protocols[i].interface == m.arg(2) else { return .done(EFIStatus.notFound) }
            h.protocols[i].interface = m.arg(3)
            return .done(EFIStatus.success)
        }
        s["HandleProtocol"] = { m in
            m.openProtocol(handle: m.arg(0), guidPointer: m.arg(1), out: m.arg(2), agent: 0, controller: 0, attributes: Self.byHandleProtocol)
        }
        s["OpenProtocol"] = { m in
            m.openProtocol(handle: m.arg(0), guidPointer: m.arg(1), out: m.arg(2), agent: m.arg(3), controller: m.arg(4),
                           attributes: UInt32(truncatingIfNeeded: m.arg(5)))
        }
        s["CloseProtocol"] = { m in
            guard let guid = m.readGUID(m.arg(1)), let h = m.handles[m.arg(0)], let i = h.index(of: guid) else {
                return .done(EFIStatus.notFound)
            }
            let (agent, controller) = (m.arg(2), m.arg(3))
            let before = h.protocols[i].opens.count
            h.protocols[i].opens.removeAll { $0.agent == agent && $0.controller == controller }
            return .done(h.protocols[i].opens.count < before ? EFIStatus.success : EFIStatus.notFound)
        }
        s["OpenProtocolInformation"] = { m in
            guard let guid = m.readGUID(m.arg(1)), let h = m.handles[m.arg(0)], let i = h.index(of: guid),
                  m.valid(m.arg(2), 8), m.valid(m.arg(3), 8) else { return .done(EFIStatus.notFound) }
            let opens = h.protocols[i].opens
            let buffer = m.memoryMap.allocate(pages: max(UInt64(opens.count * 24 + 0xFFF) >> 12, 1), type: .bootServicesData, pool: true) ?? 0
            guard buffer != 0 else { return .done(EFIStatus.outOfResources) }
            for (k, o) in opens.enumerated() {
                let e = buffer + UInt64(k) * 24
                m.w64(e, o.agent)
                m.w64(e + 8, o.controller)
                m.w32(e + 16, o.attributes)
                m.w32(e + 20, 1)
            }
            m.w64(m.arg(2), buffer)
            m.w64(m.arg(3), UInt64(opens.count))
            return .done(EFIStatus.success)
        }
        s["ProtocolsPerHandle"] = { m in
            guard let h = m.handles[m.arg(0)], m.valid(m.arg(1), 8), m.valid(m.arg(2), 8) else { return .done(EFIStatus.invalidParameter) }
            let buffer = m.memoryMap.allocate(pages: max(UInt64(h.protocols.count * 8 + 0xFFF) >> 12, 1), type: .bootServicesData, pool: true) ?? 0
            guard buffer != 0 else { return .done(EFIStatus.outOfResources) }
            for (k, p) in h.protocols.enumerated() { m.w64(buffer + UInt64(k) * 8, m.guidAddress(p.guid)) }
            m.w64(m.arg(1), buffer)
            m.w64(m.arg(2), UInt64(h.protocols.count))
            return .done(EFIStatus.success)
        }
        s["LocateHandle"] = { m in
            guard let found = m.search(type: m.arg(0), guidPointer: m.arg(1)) else { return .done(EFIStatus.invalidParameter) }
            let (sizePointer, buffer) = (m.arg(3), m.arg(4))
            guard m.valid(sizePointer, 8) else { return .done(EFIStatus.invalidParameter) }
            guard !found.isEmpty else { return .done(EFIStatus.notFound) }
            let needed = UInt64(found.count * 8)
            let room = m.r64(sizePointer)
            m.w64(sizePointer, needed)
            guard room >= needed else { return .done(EFIStatus.bufferTooSmall) }
            guard m.valid(buffer, Int(needed)) else { return .done(EFIStatus.invalidParameter) }
            for (k, h) in found.enumerated() { m.w64(buffer + UInt64(k) * 8, h) }
            return .done(EFIStatus.success)
        }
        s["LocateHandleBuffer"] = { m in
            guard let found = m.search(type: m.arg(0), guidPointer: m.arg(1)), m.valid(m.arg(3), 8), m.valid(m.arg(4), 8) else {
                return .done(EFIStatus.invalidParameter)
            }
            guard !found.isEmpty else { return .done(EFIStatus.notFound) }
            guard let buffer = m.memoryMap.allocate(pages: max(UInt64(found.count * 8 + 0xFFF) >> 12, 1), type: .bootServicesData, pool: true) else {
                return .done(EFIStatus.outOfResources)
            }
            for (k, h) in found.enumerated() { m.w64(buffer + UInt64(k) * 8, h) }
            m.w64(m.arg(3), UInt64(found.count))
            m.w64(m.arg(4), buffer)
            return .done(EFIStatus.success)
        }
        s["LocateProtocol"] = { m in
            guard let guid = m.readGUID(m.arg(0)), m.valid(m.arg(2), 8) else { return .done(EFIStatus.invalidParameter) }
            guard let h = m.handles(with: guid).first, let i = m.interface(h, guid) else {
                m.w64(m.arg(2), 0)
                return .done(EFIStatus.notFound)
            }
            m.w64(m.arg(2), i)
            return .done(EFIStatus.success)
        }
        s["LocateDevicePath"] = { m in m.locateDevicePath() }
        s["RegisterProtocolNotify"] = { m in
            m.note("RegisterProtocolNotify: no notifications are sent")
            if m.valid(m.arg(2), 8) { m.w64(m.arg(2), m.firmwareAllocateHandleLike()) }
            return .done(EFIStatus.success)
        }
        s["ConnectController"] = { m in m.connectController(m.arg(0), drivers: m.arg(1), remaining: m.arg(2)) }
        s["DisconnectController"] = { m in m.disconnectController(m.arg(0), driver: m.arg(1)) }
    }

    /// LocateHandle's search: AllHandles (0) or ByProtocol (2). Nil for a bad request.
    private func search(type: UInt64, guidPointer: UInt64) -> [UInt64]? {
        switch type {
        case 0: return handleOrder
        case 2:
            guard let guid = readGUID(guidPointer) else { return nil }
            return handles(with: guid)
        default: return nil
        }
    }

    private func openProtocol(handle: UInt64, guidPointer: UInt64, out: UInt64, agent: UInt64, controller: UInt64,
                              attributes: UInt32) -> ServiceResult {
        guard let guid = readGUID(guidPointer), let h = handles[handle] else { return .done(EFIStatus.invalidParameter) }
        guard attributes & Self.testProtocol != 0 || valid(out, 8) else { return .done(EFIStatus.invalidParameter) }
        guard let i = h.index(of: guid) else {
            if attributes & Self.testProtocol == 0 { w64(out, 0) }
            return .done(EFIStatus.unsupported)
        }
        if attributes & Self.testProtocol == 0 { w64(out, h.protocols[i].interface) }
        if attributes & (Self.byDriver | Self.exclusive) != 0 {
            for o in h.protocols[i].opens where o.attributes & (Self.byDriver | Self.exclusive) != 0 {
                return .done(o.agent == agent ? EFIStatus.alreadyStarted : EFIStatus.accessDenied)
            }
        }
        if attributes & (Self.byDriver | Self.exclusive | Self.byChildController | Self.getProtocol | Self.byHandleProtocol) != 0,
           h.protocols[i].opens.count < 64 {
            h.protocols[i].opens.append((agent, controller, attributes))
        }
        return .done(EFIStatus.success)
    }

    // MARK: The driver model

    /// Driver Binding protocols to try on a controller: those on the
    /// listed image handles first, then every other one installed.
    private func bindings(preferred list: UInt64) -> [UInt64] {
        var order: [UInt64] = []
        var p = list
        while valid(p, 8), order.count < 64 {
            let h = r64(p)
            if h == 0 { break }
            order.append(h)
            p &+= 8
        }
        for h in handles(with: .driverBinding) where !order.contains(h) { order.append(h) }
        return order.compactMap { interface($0, .driverBinding) }
    }

    func connectController(_ controller: UInt64, drivers: UInt64, remaining: UInt64) -> ServiceResult {
        guard handles[controller] != nil else { return .done(EFIStatus.invalidParameter) }
        let candidates = bindings(preferred: drivers)
        var started = false
        func attempt(_ k: Int) -> ServiceResult {
            guard k < candidates.count else { return .done(started ? EFIStatus.success : EFIStatus.notFound) }
            let binding = candidates[k]
            let supported = r64(binding), start = r64(binding + 8)
            return .call(supported, [binding, controller, remaining]) { m, status in
                guard status == EFIStatus.success else { return attempt(k + 1) }
                return .call(start, [binding, controller, remaining]) { m, status in
                    if status == EFIStatus.success { started = true } else {
                        m.note("ConnectController: driver Start returned 0x\(String(status, radix: 16))")
                    }
                    return attempt(k + 1)
                }
            }
        }
        return attempt(0)
    }

    private func disconnectController(_ controller: UInt64, driver: UInt64) -> ServiceResult {
        guard let h = handles[controller] else { return .done(EFIStatus.invalidParameter) }
        var agents: [UInt64] = []
        for p in h.protocols {
            for o in p.opens where o.attributes & Self.byDriver != 0 && !agents.contains(o.agent) && (driver == 0 || o.agent == driver) {
                agents.append(o.agent)
            }
        }
        let stops = agents.compactMap { interface($0, .driverBinding) }
        func stop(_ k: Int) -> ServiceResult {
            guard k < stops.count else { return .done(EFIStatus.success) }
            return .call(r64(stops[k] + 16), [stops[k], controller, 0, 0]) { _, _ in stop(k + 1) }
        }
        return stop(0)
    }
}
