import Board
import NICCore

/// INT 1Ah AH=B1h: the PCI BIOS (PCI BIOS Specification 2.1 §3), over the
/// board's host bridge, for bus 0. Results in AH (00h success), CF set on
/// any error.
extension BIOS {
    /// PCI BIOS function codes (AL) and return codes (AH).
    enum PCIBIOS {
        static let installationCheck: UInt8 = 0x01
        static let findDevice: UInt8 = 0x02
        static let findClass: UInt8 = 0x03
        static let readByte: UInt8 = 0x08
        static let readWord: UInt8 = 0x09
        static let readDword: UInt8 = 0x0A
        static let writeByte: UInt8 = 0x0B
        static let writeWord: UInt8 = 0x0C
        static let writeDword: UInt8 = 0x0D

        static let successful: UInt8 = 0x00
        static let functionNotSupported: UInt8 = 0x81
        static let badVendorID: UInt8 = 0x83
        static let deviceNotFound: UInt8 = 0x86
        static let badRegisterNumber: UInt8 = 0x87
        /// "PCI " in EDX after an installation check.
        static let signature: UInt32 = 0x2049_4350
    }

    func pciService() {
        var status = PCIBIOS.successful
        switch al {
        case PCIBIOS.installationCheck:
            // Mechanism #1, version 2.10, last bus 0.
            edx = PCIBIOS.signature
            al = 0x01
            bh = 0x02
            bl = 0x10
            cl = 0
            edi = 0
        case PCIBIOS.findDevice:
            if dx == 0xFFFF {
                status = PCIBIOS.badVendorID
            } else if let a = find(index: Int(si), { $0 & 0xFFFF == UInt32(self.dx) && $0 >> 16 == UInt32(self.cx) }) {
                bx = a.bdf
            } else {
                status = PCIBIOS.deviceNotFound
            }
        case PCIBIOS.findClass:
            let wanted = ecx & 0xFF_FFFF
            let pci = machine.board.pci
            if let a = find(index: Int(si), classOf: { pci.configRead($0, offset: 8, width: .dword) >> 8 == wanted }) {
                bx = a.bdf
            } else {
                status = PCIBIOS.deviceNotFound
            }
        case PCIBIOS.readByte, PCIBIOS.readWord, PCIBIOS.readDword,
             PCIBIOS.writeByte, PCIBIOS.writeWord, PCIBIOS.writeDword:
            status = configAccess()
        default:
            status = PCIBIOS.functionNotSupported
        }
        ah = status
        returnCarry(status != PCIBIOS.successful)
    }

    private func configAccess() -> UInt8 {
        let width: AccessWidth = switch al {
        case PCIBIOS.readByte, PCIBIOS.writeByte: .byte
        case PCIBIOS.readWord, PCIBIOS.writeWord: .word
        default: .dword
        }
        let register = Int(di)
        guard register < 256, register % width.rawValue == 0 else { return PCIBIOS.badRegisterNumber }
        let address = PCIAddress(bus: bh, device: bl >> 3, function: bl & 7)
        let pci = machine.board.pci
        if al <= PCIBIOS.readDword {
            let v = pci.configRead(address, offset: register, width: width)
            switch width {
            case .byte: cl = UInt8(truncatingIfNeeded: v)
            case .word: cx = UInt16(truncatingIfNeeded: v)
            default: ecx = v
            }
        } else {
            let v: UInt32 = switch width {
            case .byte: UInt32(cl)
            case .word: UInt32(cx)
            default: ecx
            }
            pci.configWrite(address, offset: register, width: width, value: v)
        }
        return PCIBIOS.successful
    }

    /// The `index`th function (in bus/device/function order) whose
    /// vendor/device dword matches.
    private func find(index: Int, _ matches: (UInt32) -> Bool) -> PCIAddress? {
        let pci = machine.board.pci
        return find(index: index, classOf: { matches(pci.configRead($0, offset: 0, width: .dword)) })
    }

    private func find(index: Int, classOf matches: (PCIAddress) -> Bool) -> PCIAddress? {
        var n = 0
        for a in machine.board.pci.addresses where a.bus == 0 && matches(a) {
            if n == index { return a }
            n += 1
        }
        return nil
    }
}
