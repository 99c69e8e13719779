import NICCore

/// The system table, the boot and runtime services tables and the
/// console protocols (UEFI 2.7 sections 4.3-4.5 and 12.3-12.4), built in
/// the firmware's data area with every function pointer on a stub.
extension UEFIMachine {
    /// "IBI SYST", "BOOTSERV", "RUNTSERV".
    static let systemTableSignature: UInt64 = 0x5453_5953_2049_4249
    static let bootServicesSignature: UInt64 = 0x5652_4553_544F_4F42
    static let runtimeServicesSignature: UInt64 = 0x5652_4553_544E_5552
    /// UEFI 2.70.
    static let revision: UInt32 = 2 << 16 | 70

    /// The boot services in table order (UEFI 2.7 section 4.4).
    static let bootServiceNames = [
        "RaiseTPL", "RestoreTPL", "AllocatePages", "FreePages", "GetMemoryMap", "AllocatePool", "FreePool",
        "CreateEvent", "SetTimer", "WaitForEvent", "SignalEvent", "CloseEvent", "CheckEvent",
        "InstallProtocolInterface", "ReinstallProtocolInterface", "UninstallProtocolInterface", "HandleProtocol",
        "Reserved", "RegisterProtocolNotify", "LocateHandle", "LocateDevicePath", "InstallConfigurationTable",
        "LoadImage", "StartImage", "Exit", "UnloadImage", "ExitBootServices", "GetNextMonotonicCount", "Stall",
        "SetWatchdogTimer", "ConnectController", "DisconnectController", "OpenProtocol", "CloseProtocol",
        "OpenProtocolInformation", "ProtocolsPerHandle", "LocateHandleBuffer", "LocateProtocol",
        "InstallMultipleProtocolInterfaces", "UninstallMultipleProtocolInterfaces", "CalculateCrc32", "CopyMem",
        "SetMem", "CreateEventEx",
    ]

    static let runtimeServiceNames = [
        "GetTime", "SetTime", "GetWakeupTime", "SetWakeupTime", "SetVirtualAddressMap", "ConvertPointer",
        "GetVariable", "GetNextVariableName", "SetVariable", "GetNextHighMonotonicCount", "ResetSystem",
        "UpdateCapsule", "QueryCapsuleCapabilities", "QueryVariableInfo",
    ]

    /// A service the firmware does not provide: logged, EFI_UNSUPPORTED.
    func unsupported(_ name: String) -> Service {
        { m in
            m.note("\(name): unsupported")
            return .done(EFIStatus.unsupported)
        }
    }

    /// Writes a table header (signature, revision, size; CRC32 over the table).
    func tableHeader(_ at: UInt64, signature: UInt64, size: Int) {
        w64(at, signature)
        w32(at + 8, Self.revision)
        w32(at + 12, UInt32(size))
        w32(at + 16, 0)
        w32(at + 20, 0)
        if let bytes = try? memory.readBytes(at: at, count: size) { w32(at + 16, CRC32.checksum(bytes)) }
    }

    func buildFirmware() {
        callReturnStub = stub("(return to firmware)") { m in
            m.fault("the call-return stub ran outside a firmware call")
            return .done(EFIStatus.success)
        }
        let vendor = firmwareAllocate(32)
        for (i, c) in "nicsim".utf16.enumerated() { w16(vendor + UInt64(i) * 2, c) }

        // Boot services.
        let bootServices = firmwareAllocate(24 + Self.bootServiceNames.count * 8)
        let handlers = bootServiceHandlers()
        for (i, name) in Self.bootServiceNames.enumerated() {
            w64(bootServices + 24 + UInt64(i) * 8, stub(name, handlers[name] ?? unsupported(name)))
        }
        tableHeader(bootServices, signature: Self.bootServicesSignature, size: 24 + Self.bootServiceNames.count * 8)
        bootServicesTable = bootServices

        // Runtime services.
        let runtime = firmwareAllocate(24 + Self.runtimeServiceNames.count * 8)
        let runtimeHandlers = runtimeServiceHandlers()
        for (i, name) in Self.runtimeServiceNames.enumerated() {
            w64(runtime + 24 + UInt64(i) * 8, stub(name, runtimeHandlers[name] ?? unsupported(name)))
        }
        tableHeader(runtime, signature: Self.runtimeServicesSignature, size: 24 + Self.runtimeServiceNames.count * 8)
        runtimeServicesTable = runtime

        // Console: one handle with text output, one with text input.
        let conOut = buildTextOutput()
        let conIn = buildTextInput()
        consoleOutHandle = newHandle()
        addProtocol(consoleOutHandle, .simpleTextOutput, conOut)
        consoleInHandle = newHandle()
        addProtocol(consoleInHandle, .simpleTextInput, conIn)

        let st = firmwareAllocate(120)
        w64(st + 24, vendor)
        w32(st + 32, 0x0001_0000)
        w64(st + 40, consoleInHandle)
        w64(st + 48, conIn)
        w64(st + 56, consoleOutHandle)
        w64(st + 64, conOut)
        w64(st + 72, consoleOutHandle)
        w64(st + 80, conOut)
        w64(st + 88, runtime)
        w64(st + 96, bootServices)
        w64(st + 104, 0)
        w64(st + 112, firmwareAllocate(16))
        tableHeader(st, signature: Self.systemTableSignature, size: 120)
        systemTable = st
    }

    /// EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL: OutputString is the console; the
    /// rest succeed on an 80x25 mode 0 (attributes and cursor are kept).
    private func buildTextOutput() -> UInt64 {
        let mode = firmwareAllocate(24)
        w32(mode, 1)  // MaxMode
        w32(mode + 4, 0)
        w32(mode + 8, 0x07)
        let p = firmwareAllocate(80)
        let ok: Service = { _ in .done(EFIStatus.success) }
        w64(p, stub("ConOut.Reset", ok))
        w64(p + 8, stub("ConOut.OutputString") { m in
            m.appendConsole(m.readUCS2(m.arg(1), limit: 4096))
            return .done(EFIStatus.success)
        })
        w64(p + 16, stub("ConOut.TestString", ok))
        w64(p + 24, stub("ConOut.QueryMode") { m in
            guard m.arg(1) == 0 else { return .done(EFIStatus.unsupported) }
            m.w64(m.arg(2), 80)
            m.w64(m.arg(3), 25)
            return .done(EFIStatus.success)
        })
        w64(p + 32, stub("ConOut.SetMode") { m in .done(m.arg(1) == 0 ? EFIStatus.success : EFIStatus.unsupported) })
        w64(p + 40, stub("ConOut.SetAttribute") { m in
            m.w32(mode + 8, UInt32(truncatingIfNeeded: m.arg(1)))
            return .done(EFIStatus.success)
        })
        w64(p + 48, stub("ConOut.ClearScreen", ok))
        w64(p + 56, stub("ConOut.SetCursorPosition") { m in
            m.w32(mode + 12, UInt32(truncatingIfNeeded: m.arg(1)))
            m.w32(mode + 16, UInt32(truncatingIfNeeded: m.arg(2)))
            return .done(EFIStatus.success)
        })
        w64(p + 64, stub("ConOut.EnableCursor") { m in
            m.w8(mode + 20, m.arg(1) != 0 ? 1 : 0)
            return .done(EFIStatus.success)
        })
        w64(p + 72, mode)
        return p
    }

    /// EFI_SIMPLE_TEXT_INPUT_PROTOCOL with no keyboard: no key is ever ready.
    private func buildTextInput() -> UInt64 {
        let p = firmwareAllocate(24)
        w64(p, stub("ConIn.Reset") { _ in .done(EFIStatus.success) })
        w64(p + 8, stub("ConIn.ReadKeyStroke") { _ in .done(EFIStatus.notReady) })
        waitForKeyEvent = makeEvent(type: UEFIEvent.notifyWait, tpl: EFITPL.notify, function: 0, context: 0, group: nil)
        w64(p + 16, waitForKeyEvent)
        return p
    }

    /// A NUL-terminated UCS-2 string from guest memory as a Swift string
    /// (unpaired surrogates become U+FFFD), at most `limit` characters.
    func readUCS2(_ address: UInt64, limit: Int) -> String {
        var units: [UInt16] = []
        var a = address
        while units.count < limit, valid(a, 2) {
            let u = r16(a)
            if u == 0 { break }
            units.append(u)
            a &+= 2
        }
        return String(decoding: units, as: UTF16.self)
    }

    func readUCS2Units(_ address: UInt64, limit: Int) -> [UInt16] {
        var units: [UInt16] = []
        var a = address
        while units.count < limit, valid(a, 2) {
            let u = r16(a)
            if u == 0 { break }
            units.append(u)
            a &+= 2
        }
        return units
    }

    func readGUID(_ address: UInt64) -> EFIGUID? {
        guard valid(address, 16) else { return nil }
        return EFIGUID(low: r64(address), high: r64(address + 8))
    }

    /// A copy of `guid` in firmware memory (ProtocolsPerHandle hands out pointers to them).
    func guidAddress(_ guid: EFIGUID) -> UInt64 {
        if let a = guidAddresses[guid] { return a }
        let a = firmwareAllocate(16)
        w64(a, guid.low)
        w64(a + 8, guid.high)
        guidAddresses[guid] = a
        return a
    }
}
