import Board
import CUnicorn
import NICCore
import UNDI

/// EFI_PCI_IO_PROTOCOL (UEFI 2.7 section 13.4) over the Board: BAR and
/// configuration accesses go through the board's buses and its 0xCF8/0xCFC
/// mechanism as a root bridge would issue them; DMA is identity-mapped
/// (guest-physical addresses are bus addresses on this PC).
final class UEFIPCIIO {
    let address: PCIAddress
    let bus: DriverBus
    let interface: UInt64
    /// EFI_PCI_IO_ATTRIBUTE_* bits enabled through Attributes.
    var attributes: UInt64 = 0

    static let attributeIO: UInt64 = 0x100
    static let attributeMemory: UInt64 = 0x200
    static let attributeBusMaster: UInt64 = 0x400

    init(address: PCIAddress, bus: DriverBus, interface: UInt64) {
        self.address = address
        self.bus = bus
        self.interface = interface
    }
}

extension UEFIMachine {
    /// Installs the PCI root bridge handle (PciRoot(0)) with
    /// EFI_PCI_ROOT_BRIDGE_IO_PROTOCOL (section 14.2), once.
    func addRootBridge() {
        guard rootBridge == 0 else { return }
        let p = firmwareAllocate(152)
        let bus = DriverBus(board: board)
        let handle = newHandle()
        rootBridge = handle
        w64(p, handle)
        let names = ["PollMem", "PollIo", "Mem.Read", "Mem.Write", "Io.Read", "Io.Write", "Pci.Read", "Pci.Write", "CopyMem",
                     "Map", "Unmap", "AllocateBuffer", "FreeBuffer", "Flush", "GetAttributes", "SetAttributes", "Configuration"]
        for (i, name) in names.enumerated() {
            w64(p + 8 + UInt64(i) * 8, stub("PciRootBridgeIo.\(name)") { m in .done(m.rootBridgeIO(name, bus)) })
        }
        w32(p + 144, 0)
        addProtocol(handle, .devicePath, storeDevicePath(DevicePath.pciRoot))
        addProtocol(handle, .pciRootBridgeIO, p)
    }

    func rootBridgeIO(_ name: String, _ bus: DriverBus) -> UInt64 {
        switch name {
        case "Pci.Read", "Pci.Write":
            let (widthCode, address, count, buffer) = (arg(1), arg(2), arg(3), arg(4))
            let register = address >> 32 != 0 ? Int(address >> 32 & 0xFFF) : Int(address & 0xFF)
            let (b, d, f) = (UInt8(address >> 24 & 0xFF), UInt8(address >> 16 & 0xFF), UInt8(address >> 8 & 0xFF))
            guard let width = pciWidth(widthCode), width.bytes <= 4, count > 0, count <= 256, d < 32, f < 8,
                  register + (width.stepAddress ? Int(count) * width.bytes : width.bytes) <= 256,
                  valid(buffer, width.stepBuffer ? Int(count) * width.bytes : width.bytes) else { return EFIStatus.invalidParameter }
            let location = PCIAddress(bus: b, device: d, function: f)
            for i in 0..<Int(count) {
                let at = register + (width.stepAddress ? i * width.bytes : 0)
                let to = buffer &+ UInt64(width.stepBuffer ? i * width.bytes : 0)
                switch (width.bytes, name == "Pci.Write") {
                case (1, false): w8(to, bus.configRead8(location, at))
                case (2, false): w16(to, bus.configRead16(location, at))
                case (4, false): w32(to, bus.configRead32(location, at))
                case (1, true): bus.configWrite8(location, at, r8(to))
                case (2, true): bus.configWrite16(location, at, r16(to))
                default: bus.configWrite32(location, at, r32(to))
                }
            }
            return EFIStatus.success
        case "Mem.Read", "Mem.Write", "Io.Read", "Io.Write":
            let (widthCode, address, count, buffer) = (arg(1), arg(2), arg(3), arg(4))
            guard let width = pciWidth(widthCode), count > 0, count <= 1 << 20,
                  valid(buffer, width.stepBuffer ? Int(count) * width.bytes : width.bytes) else { return EFIStatus.invalidParameter }
            transfer(io: name.hasPrefix("Io"), write: name.hasSuffix("Write"), base: address, width: width, count: count, buffer: buffer)
            return EFIStatus.success
        case "Map":
            let (host, sizePointer, deviceOut, mappingOut) = (arg(2), arg(3), arg(4), arg(5))
            guard valid(sizePointer, 8), valid(deviceOut, 8), valid(mappingOut, 8) else { return EFIStatus.invalidParameter }
            w64(deviceOut, host)
            w64(mappingOut, host | 1)
            return EFIStatus.success
        case "Unmap", "Flush", "SetAttributes":
            return EFIStatus.success
        case "AllocateBuffer":
            let (memoryType, pages, out) = (arg(2), arg(3), arg(4))
            guard valid(out, 8), let type = EFIMemoryType(rawValue: UInt32(truncatingIfNeeded: memoryType)) else { return EFIStatus.invalidParameter }
            guard let a = memoryMap.allocate(pages: pages, type: type, maximum: 0xFFFF_FFFF) else { return EFIStatus.outOfResources }
            w64(out, a)
            return EFIStatus.success
        case "FreeBuffer":
            return memoryMap.free(arg(2), pages: arg(1), pool: false) ? EFIStatus.success : EFIStatus.invalidParameter
        case "GetAttributes":
            for p in [arg(1), arg(2)] where valid(p, 8) { w64(p, UEFIPCIIO.attributeIO | UEFIPCIIO.attributeMemory | UEFIPCIIO.attributeBusMaster) }
            return EFIStatus.success
        case "Configuration":
            // Bus numbers 0-255 (an ACPI QWORD address space descriptor), then the end tag.
            guard valid(arg(1), 8) else { return EFIStatus.invalidParameter }
            let d = firmwareAllocate(48)
            try? memory.write(at: d, bytes: [0x8A, 43, 0, 2, 0, 0] + [UInt8](repeating: 0, count: 8 * 2) + [0xFF] + [UInt8](repeating: 0, count: 7)
                                         + [UInt8](repeating: 0, count: 8) + [0, 1] + [UInt8](repeating: 0, count: 6) + [0x79, 0])
            w64(arg(1), d)
            return EFIStatus.success
        default:
            note("PciRootBridgeIo.\(name): unsupported")
            return EFIStatus.unsupported
        }
    }

    /// Port or memory cycles between the bus and guest memory at `buffer`.
    func transfer(io: Bool, write: Bool, base: UInt64, width: (bytes: Int, stepAddress: Bool, stepBuffer: Bool), count: UInt64, buffer: UInt64) {
        let accessWidth = AccessWidth(rawValue: width.bytes) ?? .byte
        for i in 0..<count {
            let at = base &+ (width.stepAddress ? i * UInt64(width.bytes) : 0)
            let b = buffer &+ (width.stepBuffer ? i * UInt64(width.bytes) : 0)
            if write {
                let v: UInt64 = switch width.bytes { case 1: UInt64(r8(b)); case 2: UInt64(r16(b)); case 4: UInt64(r32(b)); default: r64(b) }
                if io { board.io.write(at & 0xFFFF, width: accessWidth, value: v) } else { board.mmio.write(at, width: accessWidth, value: v) }
            } else {
                let v = io ? board.io.read(at & 0xFFFF, width: accessWidth) : board.mmio.read(at, width: accessWidth)
                switch width.bytes {
                case 1: w8(b, UInt8(truncatingIfNeeded: v))
                case 2: w16(b, UInt16(truncatingIfNeeded: v))
                case 4: w32(b, UInt32(truncatingIfNeeded: v))
                default: w64(b, v)
                }
            }
            elapse(nanosecondsPerIOCycle)
        }
    }

    /// Installs a PCI handle for the card at `slot` with its device path
    /// and PCI I/O; returns the handle.
    func addPCIHandle(slot: PCIAddress) -> UInt64 {
        addRootBridge()
        let p = firmwareAllocate(160)
        let pci = UEFIPCIIO(address: slot, bus: DriverBus(board: board), interface: p)
        pciDevices[p] = pci
        let command = pci.bus.configRead16(slot, 4)
        if command & 1 != 0 { pci.attributes |= UEFIPCIIO.attributeIO }
        if command & 2 != 0 { pci.attributes |= UEFIPCIIO.attributeMemory }
        if command & 4 != 0 { pci.attributes |= UEFIPCIIO.attributeBusMaster }
        let names = ["PollMem", "PollIo", "Mem.Read", "Mem.Write", "Io.Read", "Io.Write", "Pci.Read", "Pci.Write", "CopyMem",
                     "Map", "Unmap", "AllocateBuffer", "FreeBuffer", "Flush", "GetLocation", "Attributes",
                     "GetBarAttributes", "SetBarAttributes"]
        for (i, name) in names.enumerated() {
            w64(p + UInt64(i) * 8, stub("PciIo.\(name)") { m in
                guard let pci = m.pciDevices[m.arg(0)] else { return .done(EFIStatus.invalidParameter) }
                return .done(m.pciIO(name, pci))
            })
        }
        let handle = newHandle()
        addProtocol(handle, .devicePath, storeDevicePath(DevicePath.pciRoot + DevicePath.pci(device: slot.device, function: slot.function)))
        addProtocol(handle, .pciIO, p)
        return handle
    }

    /// Width codes: 0-3 normal (1, 2, 4, 8 bytes, address steps), 4-7 FIFO
    /// (address fixed), 8-11 fill (buffer fixed).
    func pciWidth(_ code: UInt64) -> (bytes: Int, stepAddress: Bool, stepBuffer: Bool)? {
        guard code < 12 else { return nil }
        return (1 << Int(code & 3), code < 4 || code >= 8, code < 8)
    }

    func pciIO(_ name: String, _ pci: UEFIPCIIO) -> UInt64 {
        switch name {
        case "Mem.Read", "Mem.Write", "Io.Read", "Io.Write":
            let (widthCode, bar, offset, count, buffer) = (arg(1), arg(2) & 0xFF, arg(3), arg(4), arg(5))
            guard let width = pciWidth(widthCode), bar < 6, count > 0, count <= 1 << 20,
                  valid(buffer, width.stepBuffer ? Int(count) * width.bytes : width.bytes) else { return EFIStatus.invalidParameter }
            let raw = pci.bus.configRead32(pci.address, 0x10 + 4 * Int(bar))
            let isIO = raw & 1 != 0
            guard isIO == name.hasPrefix("Io"), raw != 0 else { return EFIStatus.invalidParameter }
            let base = pci.bus.barBase(pci.address, Int(bar)) &+ offset
            transfer(io: isIO, write: name.hasSuffix("Write"), base: base, width: width, count: count, buffer: buffer)
            return EFIStatus.success
        case "Pci.Read", "Pci.Write":
            let (widthCode, offset, count, buffer) = (arg(1), arg(2) & 0xFFFF_FFFF, arg(3), arg(4))
            guard let width = pciWidth(widthCode), width.bytes <= 4, count > 0,
                  offset + (width.stepAddress ? count * UInt64(width.bytes) : UInt64(width.bytes)) <= 256,
                  valid(buffer, width.stepBuffer ? Int(count) * width.bytes : width.bytes) else { return EFIStatus.invalidParameter }
            let write = name == "Pci.Write"
            for i in 0..<count {
                let at = Int(offset + (width.stepAddress ? i * UInt64(width.bytes) : 0))
                let b = buffer &+ (width.stepBuffer ? i * UInt64(width.bytes) : 0)
                switch (width.bytes, write) {
                case (1, false): w8(b, pci.bus.configRead8(pci.address, at))
                case (2, false): w16(b, pci.bus.configRead16(pci.address, at))
                case (4, false): w32(b, pci.bus.configRead32(pci.address, at))
                case (1, true): pci.bus.configWrite8(pci.address, at, r8(b))
                case (2, true): pci.bus.configWrite16(pci.address, at, r16(b))
                default: pci.bus.configWrite32(pci.address, at, r32(b))
                }
            }
            return EFIStatus.success
        case "CopyMem":
            let (widthCode, destBar, destOffset, sourceBar, sourceOffset, count) = (arg(1), arg(2) & 0xFF, arg(3), arg(4) & 0xFF, arg(5), arg(6))
            guard let width = pciWidth(widthCode), width.stepAddress, width.stepBuffer, destBar < 6, sourceBar < 6, count <= 1 << 16 else {
                return EFIStatus.invalidParameter
            }
            let from = pci.bus.barBase(pci.address, Int(sourceBar)) &+ sourceOffset
            let to = pci.bus.barBase(pci.address, Int(destBar)) &+ destOffset
            let w = AccessWidth(rawValue: width.bytes) ?? .byte
            for i in 0..<count {
                let step = i * UInt64(width.bytes)
                board.mmio.write(to &+ step, width: w, value: board.mmio.read(from &+ step, width: w))
            }
            return EFIStatus.success
        case "Map":
            // Bus addresses are physical addresses: the mapping is the identity.
            let (host, sizePointer, deviceOut, mappingOut) = (arg(2), arg(3), arg(4), arg(5))
            guard valid(sizePointer, 8), valid(deviceOut, 8), valid(mappingOut, 8) else { return EFIStatus.invalidParameter }
            w64(deviceOut, host)
            w64(mappingOut, host | 1)
            return EFIStatus.success
        case "Unmap", "Flush":
            return EFIStatus.success
        case "AllocateBuffer":
            let (memoryType, pages, out) = (arg(2), arg(3), arg(4))
            guard valid(out, 8), let type = EFIMemoryType(rawValue: UInt32(truncatingIfNeeded: memoryType)),
                  type == .bootServicesData || type == .runtimeServicesData else { return EFIStatus.invalidParameter }
            guard let a = memoryMap.allocate(pages: pages, type: type, maximum: 0xFFFF_FFFF) else { return EFIStatus.outOfResources }
            w64(out, a)
            return EFIStatus.success
        case "FreeBuffer":
            return memoryMap.free(arg(2), pages: arg(1), pool: false) ? EFIStatus.success : EFIStatus.invalidParameter
        case "GetLocation":
            let outs = [(arg(1), UInt64(0)), (arg(2), UInt64(pci.address.bus)), (arg(3), UInt64(pci.address.device)),
                        (arg(4), UInt64(pci.address.function))]
            guard outs.allSatisfy({ valid($0.0, 8) }) else { return EFIStatus.invalidParameter }
            for (p, v) in outs { w64(p, v) }
            return EFIStatus.success
        case "Attributes":
            let (operation, bits, result) = (arg(1), arg(2), arg(3))
            let supported = UEFIPCIIO.attributeIO | UEFIPCIIO.attributeMemory | UEFIPCIIO.attributeBusMaster
            switch operation {
            case 0, 4:  // Get, Supported
                guard valid(result, 8) else { return EFIStatus.invalidParameter }
                w64(result, operation == 0 ? pci.attributes : supported)
            case 1, 2, 3:  // Set, Enable, Disable
                guard bits & ~supported == 0 else { return EFIStatus.unsupported }
                pci.attributes = operation == 1 ? bits : operation == 2 ? pci.attributes | bits : pci.attributes & ~bits
                var command = pci.bus.configRead16(pci.address, 4) & ~0x7
                if pci.attributes & UEFIPCIIO.attributeIO != 0 { command |= 1 }
                if pci.attributes & UEFIPCIIO.attributeMemory != 0 { command |= 2 }
                if pci.attributes & UEFIPCIIO.attributeBusMaster != 0 { command |= 4 }
                pci.bus.configWrite16(pci.address, 4, command)
            default:
                return EFIStatus.invalidParameter
            }
            return EFIStatus.success
        default:
            note("PciIo.\(name): unsupported")
            return EFIStatus.unsupported
        }
    }
}
