import NICCore

/// Images (UEFI 2.7 section 7.4): PE32+ files loaded and relocated into
/// pages of their own, a handle with the Loaded Image protocol each, and
/// StartImage/Exit as a guest call the firmware waits on. Also the device
/// paths the firmware builds (section 10) and LocateDevicePath.
extension UEFIMachine {
    // MARK: Device paths

    enum DevicePath {
        static let end: [UInt8] = [0x7F, 0xFF, 4, 0]
        /// ACPI PNP0A03 (the PCI root bridge), UID 0.
        static let pciRoot: [UInt8] = [2, 1, 12, 0, 0xD0, 0x41, 0x03, 0x0A, 0, 0, 0, 0]
        static func pci(device: UInt8, function: UInt8) -> [UInt8] { [1, 1, 6, 0, function, device] }
        /// MAC address node, interface type 1 (Ethernet).
        static func mac(_ address: [UInt8]) -> [UInt8] {
            [3, 11, 37, 0] + address.prefix(6) + [UInt8](repeating: 0, count: 32 - min(address.count, 6)) + [1]
        }
        static func file(_ name: String) -> [UInt8] {
            let units = Array(name.utf16) + [0]
            let length = 4 + units.count * 2
            var node: [UInt8] = [4, 4, UInt8(truncatingIfNeeded: length), UInt8(truncatingIfNeeded: length >> 8)]
            for u in units { node += [UInt8(truncatingIfNeeded: u), UInt8(truncatingIfNeeded: u >> 8)] }
            return node
        }
    }

    /// A device path in firmware memory; returns its address.
    func storeDevicePath(_ nodes: [UInt8]) -> UInt64 {
        let a = firmwareAllocate(nodes.count + DevicePath.end.count, align: 8)
        try? memory.write(at: a, bytes: nodes + DevicePath.end)
        return a
    }

    /// The nodes of the device path at `address`, without the end node
    /// (nil if it is malformed: a node under 4 bytes, or longer than 4 KiB in all).
    func devicePathNodes(at address: UInt64) -> [UInt8]? {
        var out: [UInt8] = []
        var a = address
        while out.count < 4096 {
            guard valid(a, 4) else { return nil }
            let type = r8(a), length = Int(r16(a + 2))
            if type == 0x7F, r8(a + 1) == 0xFF { return out }
            guard length >= 4, valid(a, length), let node = try? memory.readBytes(at: a, count: length) else { return nil }
            out += node
            a &+= UInt64(length)
        }
        return nil
    }

    func locateDevicePath() -> ServiceResult {
        let (guidPointer, pathPointer, deviceOut) = (arg(0), arg(1), arg(2))
        guard let guid = readGUID(guidPointer), valid(pathPointer, 8), valid(deviceOut, 8),
              let wanted = devicePathNodes(at: r64(pathPointer)) else { return .done(EFIStatus.invalidParameter) }
        var best: (handle: UInt64, length: Int)?
        for h in handles(with: guid) {
            guard let p = interface(h, .devicePath), let nodes = devicePathNodes(at: p) else { continue }
            guard nodes.count <= wanted.count, Array(wanted.prefix(nodes.count)) == nodes else { continue }
            if best == nil || nodes.count > best!.length { best = (h, nodes.count) }
        }
        guard let best else { return .done(EFIStatus.notFound) }
        w64(pathPointer, r64(pathPointer) &+ UInt64(best.length))
        w64(deviceOut, best.handle)
        return .done(EFIStatus.success)
    }

    // MARK: Loading

    /// Loads a PE32+ image from `bytes` into pages of its own and gives it
    /// a handle with the Loaded Image protocol (and the Loaded Image Device
    /// Path protocol when `filePath` is set). `device` is the handle it was
    /// loaded from (the NIC, for a network boot).
    public func loadImage(_ bytes: [UInt8], device: UInt64 = 0, filePath: String? = nil, parent: UInt64 = 0) throws(MachineError) -> UInt64 {
        let pe: PEImage
        do throws(PEError) { pe = try PEImage(bytes: bytes) } catch { throw .optionROM("\(error)") }
        return try loadImage(pe, device: device, filePath: filePath, parent: parent)
    }

    func loadImage(_ pe: PEImage, device: UInt64, filePath: String?, parent: UInt64) throws(MachineError) -> UInt64 {
        guard pe.subsystem >= 10, pe.subsystem <= 12 else {
            throw .optionROM("PE subsystem \(pe.subsystem) is not an EFI application or driver")
        }
        let pages = UInt64(pe.imageSize + 0xFFF) >> 12
        let codeType: EFIMemoryType = pe.isApplication ? .loaderCode : pe.subsystem == 12 ? .runtimeServicesCode : .bootServicesCode
        guard let base = memoryMap.allocate(pages: pages, type: codeType, maximum: 0xFFFF_FFFF) else {
            throw .optionROM("no room for a \(pe.imageSize)-byte image")
        }
        let laid: [UInt8]
        do throws(PEError) { laid = try pe.layout(at: base) } catch {
            _ = memoryMap.free(base, pages: pages, pool: false)
            throw .optionROM("\(error)")
        }
        do throws(DMAError) { try load(laid, at: base) } catch { throw .optionROM("image does not fit in RAM") }
        let handle = newHandle()
        let path: UInt64 = filePath.map { storeDevicePath(DevicePath.file($0)) } ?? 0
        let li = firmwareAllocate(96)
        w32(li, 0x1000)
        w64(li + 8, parent)
        w64(li + 16, systemTable)
        w64(li + 24, device)
        w64(li + 32, path)
        w64(li + 64, base)
        w64(li + 72, UInt64(pe.imageSize))
        w32(li + 80, codeType.rawValue)
        w32(li + 84, pe.isApplication ? EFIMemoryType.loaderData.rawValue : EFIMemoryType.bootServicesData.rawValue)
        addProtocol(handle, .loadedImage, li)
        if let devicePath = interface(device, .devicePath), let nodes = devicePathNodes(at: devicePath), let filePath {
            addProtocol(handle, .loadedImageDevicePath, storeDevicePath(nodes + DevicePath.file(filePath)))
        }
        images[handle] = UEFILoadedImage(handle: handle, base: base, pages: pages, entry: base + UInt64(pe.entryPoint),
                                         isApplication: pe.isApplication)
        return handle
    }

    /// Makes the run start image `handle` (from `loadImage`): its entry
    /// point is called with the image handle and the system table, and the
    /// run ends with `.returned` when it returns or calls Exit
    /// (`lastExitStatus`).
    public func start(image handle: UInt64) throws(MachineError) {
        guard let image = images[handle], !image.started else { throw .optionROM("no image to start with handle 0x\(String(handle, radix: 16))") }
        images[handle]?.started = true
        try hostInvoke { _ in .start(image: handle, entry: image.entry) }
    }

    func imageServices(into s: inout [String: Service]) {
        s["LoadImage"] = { m in
            let (parent, path, source, size, out) = (m.arg(1), m.arg(2), m.arg(3), m.arg(4), m.arg(5))
            guard m.valid(out, 8) else { return .done(EFIStatus.invalidParameter) }
            guard source != 0 else {
                m.note("LoadImage from a device path: only images in memory are loaded")
                return .done(EFIStatus.notFound)
            }
            guard size > 0, size <= UInt64(PEImage.maximumImageSize), m.valid(source, Int(size)),
                  let bytes = try? m.memory.readBytes(at: source, count: Int(size)) else { return .done(EFIStatus.invalidParameter) }
            let device = path == 0 ? 0 : m.deviceHandle(for: path)
            do {
                let h = try m.loadImage(bytes, device: device, filePath: nil, parent: parent)
                if path != 0, let nodes = m.devicePathNodes(at: path), let li = m.interface(h, .loadedImage) {
                    m.w64(li + 32, m.storeDevicePath(nodes))
                }
                m.w64(out, h)
                return .done(EFIStatus.success)
            } catch {
                m.note("LoadImage: \(error)")
                return .done(EFIStatus.loadError)
            }
        }
        s["StartImage"] = { m in
            let handle = m.arg(0)
            guard let image = m.images[handle], !image.started else { return .done(EFIStatus.invalidParameter) }
            m.images[handle]?.started = true
            return .start(image: handle, entry: image.entry)
        }
        s["Exit"] = { m in .exit(image: m.arg(0), status: m.arg(1)) }
        s["UnloadImage"] = { m in
            guard let image = m.images[m.arg(0)] else { return .done(EFIStatus.invalidParameter) }
            if !image.started {
                m.images[m.arg(0)] = nil
                _ = m.memoryMap.free(image.base, pages: image.pages, pool: false)
            }
            return .done(EFIStatus.success)
        }
    }

    /// The handle whose device path is the longest prefix of the one at `path` (0 if none).
    private func deviceHandle(for path: UInt64) -> UInt64 {
        guard let wanted = devicePathNodes(at: path) else { return 0 }
        var best: (UInt64, Int) = (0, -1)
        for h in handles(with: .devicePath) {
            guard let p = interface(h, .devicePath), let nodes = devicePathNodes(at: p),
                  nodes.count <= wanted.count, Array(wanted.prefix(nodes.count)) == nodes, nodes.count > best.1 else { continue }
            best = (h, nodes.count)
        }
        return best.0
    }
}
