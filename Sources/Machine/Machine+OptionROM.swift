import Board
import NICCore
import OptionROM

/// A legacy option ROM copied into the option-ROM area, as POST leaves it.
public struct ShadowedROM: Sendable, Equatable {
    /// The PCI function the ROM belongs to (passed to INIT in AX).
    public let address: PCIAddress?
    /// Segment of the image (its 55AA header at offset 0).
    public let segment: UInt16
    /// Bytes the ROM occupies: its size byte times 512, re-read after INIT
    /// (a ROM may shrink itself to its run-time size).
    public internal(set) var size: Int
    /// $PnP Bootstrap Entry Vector, re-read after INIT.
    public internal(set) var bev: UInt16?
    /// $PnP Boot Connection Vector, re-read after INIT.
    public internal(set) var bcv: UInt16?
}

/// POST for option ROMs (PCI Firmware Specification 3.0 §5.2.1, PnP BIOS
/// 1.0A §3): shadow the legacy x86 image into C0000h-DFFFFh on a 2 KiB
/// boundary, far-call INIT at offset 3 with AX = bus/device/function and
/// ES:DI at the $PnP installation check structure, then boot through the
/// ROM's $PnP Bootstrap Entry Vector.
extension Machine {
    /// Copies the ROM's legacy image into the option-ROM area. When the
    /// image's PCIR IDs differ from the function's (Debian's ne2k_pci
    /// build leaves them zero) they are patched to the function's and the
    /// checksum fixed, as QEMU does when it loads a romfile.
    public func shadow(_ rom: ExpansionROM, for address: PCIAddress?) throws(MachineError) -> ShadowedROM {
        guard let image = rom.legacyImage, let slice = rom.legacyBytes else {
            throw .optionROM("no legacy x86 image in the ROM")
        }
        var bytes = Array(slice)
        if let address, let function = board.function(at: address) {
            patchIdentity(&bytes, pcir: image.pcir.offset, vendor: function.config.identity.vendorID,
                          device: function.config.identity.deviceID)
        }
        guard bytes.reduce(0, &+) == 0 else { throw .optionROM("checksum of the legacy image is not zero") }
        let base = nextOptionROM
        guard base + UInt64(bytes.count) <= PCMemoryMap.optionROMEnd else {
            throw .optionROM("\(bytes.count) bytes do not fit in the option-ROM area at 0x\(String(base, radix: 16))")
        }
        do throws(DMAError) {
            try load(bytes, at: base)
        } catch {
            throw .optionROM("cannot copy the image into RAM: \(error)")
        }
        nextOptionROM = (base + UInt64(bytes.count) + 0x7FF) & ~0x7FF
        return ShadowedROM(address: address, segment: UInt16(base >> 4), size: bytes.count, bev: image.bev, bcv: image.bcv)
    }

    /// Runs the ROM's INIT entry (offset 3) and re-reads its size and
    /// vectors afterwards. The space after its run-time size is freed for
    /// the next ROM.
    @discardableResult
    public func initialize(_ rom: inout ShadowedROM, timeout: UInt64 = 10 * VirtualClock.second) throws(MachineError) -> MachineStop {
        let ax = rom.address.map { UInt32($0.bus) << 8 | UInt32($0.device) << 3 | UInt32($0.function) } ?? 0xFFFF
        let stop = try call(segment: rom.segment, offset: 0x0003, registers: [
            .eax: ax, .ebx: 0xFFFF, .edx: 0xFFFF,
            .es: UInt32(PCMemoryMap.biosSegment), .edi: UInt32(BIOS.Stub.pnpStructure),
        ], timeout: timeout)
        guard stop == .returned else { return stop }
        let base = UInt64(rom.segment) << 4
        let runtime = Int(read8(base + 2)) * 512
        if read16(base) == 0xAA55, runtime > 0 {
            rom.size = runtime
            // The PCIR still gives the full image length, so read the $PnP
            // header directly, bounded by the run-time size.
            let pnp = UInt64(read16(base + 0x1A))
            if pnp != 0, pnp + 0x20 <= UInt64(runtime), read32(base + pnp) == 0x506E_5024 {  // "$PnP"
                let bev = read16(base + pnp + 0x1A), bcv = read16(base + pnp + 0x16)
                rom.bev = bev != 0 && Int(bev) < runtime ? bev : nil
                rom.bcv = bcv != 0 && Int(bcv) < runtime ? bcv : nil
            } else {
                rom.bev = nil
                rom.bcv = nil
            }
        } else {
            rom.size = 0  // the ROM released itself
            rom.bev = nil
            rom.bcv = nil
        }
        nextOptionROM = (base + UInt64(rom.size) + 0x7FF) & ~0x7FF
        return stop
    }

    /// Boots through the ROM's Bootstrap Entry Vector, until `condition`
    /// holds or `timeout` passes. `.returned` or `.bootFailed` (INT 18h)
    /// means the ROM could not boot.
    @discardableResult
    public func bootstrap(_ rom: ShadowedROM, until condition: @escaping () -> Bool = { false },
                          timeout: UInt64) throws(MachineError) -> MachineStop {
        guard let bev = rom.bev else { throw .optionROM("the ROM has no $PnP Bootstrap Entry Vector") }
        return try call(segment: rom.segment, offset: bev, until: condition, timeout: timeout)
    }

    private func patchIdentity(_ bytes: inout [UInt8], pcir: Int, vendor: UInt16, device: UInt16) {
        guard pcir + 8 <= bytes.count, bytes.count > 0 else { return }
        let old = UInt16(bytes[pcir + 4]) | UInt16(bytes[pcir + 5]) << 8
        let oldDevice = UInt16(bytes[pcir + 6]) | UInt16(bytes[pcir + 7]) << 8
        guard old != vendor || oldDevice != device else { return }
        bytes[pcir + 4] = UInt8(vendor & 0xFF)
        bytes[pcir + 5] = UInt8(vendor >> 8)
        bytes[pcir + 6] = UInt8(device & 0xFF)
        bytes[pcir + 7] = UInt8(device >> 8)
        // Fix the sum in byte 6, after the JMP to INIT (where iPXE keeps
        // its checksum and where QEMU adjusts it), else in the last byte.
        let fix = bytes.count > 7 && (bytes[3] == 0xE9 || bytes[3] == 0xEB) ? 6 : bytes.count - 1
        bytes[fix] = 0
        bytes[fix] = 0 &- bytes.reduce(0, &+)
    }
}
