import NICCore

/// Layout of struct virtio_pci_cfg_cap (virtio 1.x 4.1.4.9): the common
/// capability header, then pci_cfg_data[4]. Offsets from the capability.
public enum VirtioPCIConfigWindow {
    /// cap.bar: which BAR the window reaches.
    public static let bar = 4
    /// cap.offset le32: where in the BAR.
    public static let offset = 8
    /// cap.length le32: 1, 2 or 4 bytes.
    public static let length = 12
    /// pci_cfg_data: the bytes moved.
    public static let data = 16
    /// cap_len.
    public static let capabilityLength = 20
}

/// VIRTIO_PCI_CAP_PCI_CFG: the driver picks a BAR, an offset and a length
/// of 1, 2 or 4, then a write to pci_cfg_data writes that many bytes there
/// and a read of pci_cfg_data reads them (4.1.4.9.1). Firmware uses this
/// when a BAR can't be mapped (iPXE requires the capability to exist).
/// Misaligned offsets and other lengths are ignored, as the spec allows.
extension VirtioNet {
    private func windowTarget() -> (block: RegisterBlock, offset: UInt64, width: AccessWidth)? {
        guard let cap = pciConfigWindowOffset else { return nil }
        typealias W = VirtioPCIConfigWindow
        let bar = Int(config.read(offset: cap + W.bar, width: .byte))
        let offset = UInt64(config.read(offset: cap + W.offset, width: .dword))
        let length = Int(config.read(offset: cap + W.length, width: .dword))
        guard let width = AccessWidth(bytes: length), width != .qword, offset % UInt64(length) == 0,
              let block = registers(forBAR: bar), offset + UInt64(length) <= block.size
        else { return nil }
        return (block, offset, width)
    }

    private func touchesWindowData(_ offset: Int, _ width: AccessWidth) -> Bool {
        guard let cap = pciConfigWindowOffset else { return false }
        let data = cap + VirtioPCIConfigWindow.data
        return offset < data + 4 && offset + width.rawValue > data
    }

    /// A driver write that reaches pci_cfg_data goes on to the BAR.
    func configWindowWritten(offset: Int, width: AccessWidth) {
        guard touchesWindowData(offset, width), let cap = pciConfigWindowOffset, let target = windowTarget() else { return }
        // Reading our own data bytes must not trigger a BAR read.
        configWindowBusy = true
        let value = config.read(offset: cap + VirtioPCIConfigWindow.data, width: target.width)
        configWindowBusy = false
        target.block.write(offset: target.offset, width: target.width, value: UInt64(value))
    }

    /// A driver read of pci_cfg_data fetches the bytes from the BAR first.
    func configWindowRead(offset: Int, width: AccessWidth) {
        guard !configWindowBusy, touchesWindowData(offset, width), let cap = pciConfigWindowOffset,
              let target = windowTarget() else { return }
        let value = target.block.read(offset: target.offset, width: target.width)
        for i in 0..<target.width.rawValue {
            config.deviceWrite(offset: cap + VirtioPCIConfigWindow.data + i, byte: UInt8(truncatingIfNeeded: value >> UInt64(8 * i)))
        }
    }
}
