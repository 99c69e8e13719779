/// Runtime services (UEFI 2.7 section 8): time from the virtual clock,
/// variables kept in memory for the run, ResetSystem ending the run.
extension UEFIMachine {
    /// The wall-clock time at virtual time 0: 2026-01-01 00:00:00 UTC, so runs are repeatable.
    static let epochDays = 0

    func runtimeServiceHandlers() -> [String: Service] {
        var s: [String: Service] = [:]
        s["GetTime"] = { m in
            let out = m.arg(0)
            guard m.valid(out, 16) else { return .done(EFIStatus.invalidParameter) }
            let seconds = m.board.clock.now / 1_000_000_000
            let nanoseconds = UInt32(m.board.clock.now % 1_000_000_000)
            var days = Int(seconds / 86_400) + Self.epochDays
            let rest = Int(seconds % 86_400)
            var year = 2026
            func isLeap(_ y: Int) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }
            while days >= (isLeap(year) ? 366 : 365), year < 9999 {
                days -= isLeap(year) ? 366 : 365
                year += 1
            }
            let lengths = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
            var month = 0
            while month < 11, days >= lengths[month] {
                days -= lengths[month]
                month += 1
            }
            try? m.memory.fill(at: out, count: 16, with: 0)
            m.w16(out, UInt16(year))
            m.w8(out + 2, UInt8(month + 1))
            m.w8(out + 3, UInt8(days + 1))
            m.w8(out + 4, UInt8(rest / 3600))
            m.w8(out + 5, UInt8(rest / 60 % 60))
            m.w8(out + 6, UInt8(rest % 60))
            m.w32(out + 8, nanoseconds)
            m.w16(out + 12, 0x07FF)  // EFI_UNSPECIFIED_TIMEZONE
            if m.valid(m.arg(1), 16) {
                m.w32(m.arg(1), 1)  // resolution: 1 count per second
                m.w32(m.arg(1) + 4, 0)
                m.w8(m.arg(1) + 8, 0)
            }
            return .done(EFIStatus.success)
        }
        s["SetTime"] = { _ in .done(EFIStatus.unsupported) }
        s["GetVariable"] = { m in
            let (namePointer, vendorPointer, attributesOut, sizePointer, data) = (m.arg(0), m.arg(1), m.arg(2), m.arg(3), m.arg(4))
            guard let vendor = m.readGUID(vendorPointer), m.valid(sizePointer, 8) else { return .done(EFIStatus.invalidParameter) }
            let key = UEFIVariableKey(name: m.readUCS2Units(namePointer, limit: 512), vendor: vendor)
            guard let v = m.variables[key] else { return .done(EFIStatus.notFound) }
            let room = m.r64(sizePointer)
            m.w64(sizePointer, UInt64(v.data.count))
            guard room >= UInt64(v.data.count) else { return .done(EFIStatus.bufferTooSmall) }
            guard v.data.isEmpty || m.valid(data, v.data.count) else { return .done(EFIStatus.invalidParameter) }
            try? m.memory.write(at: data, bytes: v.data)
            if m.valid(attributesOut, 4) { m.w32(attributesOut, v.attributes) }
            return .done(EFIStatus.success)
        }
        s["SetVariable"] = { m in
            let (namePointer, vendorPointer, attributes, size, data) = (m.arg(0), m.arg(1), m.arg(2), m.arg(3), m.arg(4))
            let name = m.readUCS2Units(namePointer, limit: 512)
            guard let vendor = m.readGUID(vendorPointer), !name.isEmpty, size <= 65_536 else { return .done(EFIStatus.invalidParameter) }
            let key = UEFIVariableKey(name: name, vendor: vendor)
            if size == 0 || attributes == 0 {
                guard m.variables.removeValue(forKey: key) != nil else { return .done(EFIStatus.notFound) }
                m.variableOrder.removeAll { $0 == key }
                return .done(EFIStatus.success)
            }
            guard m.valid(data, Int(size)), let bytes = try? m.memory.readBytes(at: data, count: Int(size)) else {
                return .done(EFIStatus.invalidParameter)
            }
            guard m.variables[key] != nil || m.variables.count < 256 else { return .done(EFIStatus.outOfResources) }
            if m.variables[key] == nil { m.variableOrder.append(key) }
            m.variables[key] = (UInt32(truncatingIfNeeded: attributes), bytes)
            return .done(EFIStatus.success)
        }
        s["GetNextVariableName"] = { m in
            let (sizePointer, namePointer, vendorPointer) = (m.arg(0), m.arg(1), m.arg(2))
            guard m.valid(sizePointer, 8), m.valid(namePointer, 2), let vendor = m.readGUID(vendorPointer) else {
                return .done(EFIStatus.invalidParameter)
            }
            let current = m.readUCS2Units(namePointer, limit: 512)
            var index = 0
            if !current.isEmpty {
                guard let i = m.variableOrder.firstIndex(of: UEFIVariableKey(name: current, vendor: vendor)) else {
                    return .done(EFIStatus.invalidParameter)
                }
                index = i + 1
            }
            guard index < m.variableOrder.count else { return .done(EFIStatus.notFound) }
            let next = m.variableOrder[index]
            let needed = UInt64(next.name.count + 1) * 2
            let room = m.r64(sizePointer)
            m.w64(sizePointer, needed)
            guard room >= needed else { return .done(EFIStatus.bufferTooSmall) }
            guard m.valid(namePointer, Int(needed)) else { return .done(EFIStatus.invalidParameter) }
            for (i, u) in (next.name + [0]).enumerated() { m.w16(namePointer + UInt64(i) * 2, u) }
            m.w64(vendorPointer, next.vendor.low)
            m.w64(vendorPointer + 8, next.vendor.high)
            return .done(EFIStatus.success)
        }
        s["GetNextHighMonotonicCount"] = { m in
            guard m.valid(m.arg(0), 4) else { return .done(EFIStatus.invalidParameter) }
            m.monotonicCount = (m.monotonicCount & 0xFFFF_FFFF) | ((m.monotonicCount >> 32 &+ 1) << 32)
            m.w32(m.arg(0), UInt32(truncatingIfNeeded: m.monotonicCount >> 32))
            return .done(EFIStatus.success)
        }
        s["ResetSystem"] = { m in
            m.note("ResetSystem type \(m.arg(0))")
            return .stop(.bootstrap)
        }
        s["QueryVariableInfo"] = { m in
            for (i, v) in [UInt64(65_536), UInt64(65_536 - m.variables.values.reduce(0) { $0 + min($1.data.count, 256) }), UInt64(65_536)].enumerated()
            where m.valid(m.arg(1 + i), 8) {
                m.w64(m.arg(1 + i), v)
            }
            return .done(EFIStatus.success)
        }
        return s
    }
}
