import NICCore
import PXE
import UNDI
import Wire

/// EFI_PXE_BASE_CODE_PROTOCOL (UEFI 2.7 section 24.3) as a boot program
/// finds it on its device handle after a network boot: Started, with the
/// firmware's DHCP packets cached in the mode structure (StationIp,
/// SubnetMask, DhcpDiscover, DhcpAck, ProxyOffer), which is what boot
/// loaders such as GRUB read to configure their own network stack. Mtftp
/// (file size and read) runs nicsim's TFTP client over the card's UNDI
/// driver, as the firmware's own download did, and gives the card back to
/// the Simple Network Protocol as it was; Dhcp answers with the cached
/// lease. Discover, UdpWrite/UdpRead and Arp answer EFI_UNSUPPORTED.
extension UEFIMachine {
    static let pxeBaseCodeGUID = EFIGUID(0x03C4_E603, 0xAC28, 0x11D3, [0x9A, 0x2D, 0x00, 0x90, 0x27, 0x3F, 0xC1, 0x4D])

    /// Offsets in EFI_PXE_BASE_CODE_MODE.
    enum PXEMode {
        static let started: UInt64 = 0
        static let autoArp: UInt64 = 6
        static let dhcpDiscoverValid: UInt64 = 8
        static let dhcpAckReceived: UInt64 = 9
        static let proxyOfferReceived: UInt64 = 10
        static let ttl: UInt64 = 17
        static let stationIp: UInt64 = 20
        static let subnetMask: UInt64 = 36
        /// EFI_PXE_BASE_CODE_PACKET is 1472 bytes.
        static let packetSize = 1472
        static let dhcpDiscover: UInt64 = 52
        static let dhcpAck: UInt64 = 52 + 1472
        static let proxyOffer: UInt64 = 52 + 2 * 1472
        static let size = 16384
    }

    /// Installs the PXE Base Code protocol on `handle` with the cached
    /// packets of `baseCode`'s boot and its lease.
    func installPXEBaseCode(on handle: UInt64, baseCode: PXEBaseCode, lease: DHCPResult) {
        let mode = firmwareAllocate(PXEMode.size, align: 8)
        w8(mode + PXEMode.started, 1)
        w8(mode + PXEMode.autoArp, 1)
        w8(mode + PXEMode.ttl, 64)
        try? memory.write(at: mode + PXEMode.stationIp, bytes: lease.address.bytes)
        try? memory.write(at: mode + PXEMode.subnetMask, bytes: lease.subnetMask.bytes)
        let packets: [(CachedPacketType, UInt64, UInt64)] = [(.dhcpDiscover, PXEMode.dhcpDiscover, PXEMode.dhcpDiscoverValid),
                                                             (.dhcpAck, PXEMode.dhcpAck, PXEMode.dhcpAckReceived)]
        for (type, offset, flag) in packets {
            let (bytes, length) = baseCode.bootPlayer(type)
            guard length > 0 else { continue }
            try? memory.write(at: mode + offset, bytes: Array(bytes.prefix(min(length, PXEMode.packetSize))))
            w8(mode + flag, 1)
        }
        let p = firmwareAllocate(112)
        w64(p, 0x0001_0000)
        let names = ["Start", "Stop", "Dhcp", "Discover", "Mtftp", "UdpWrite", "UdpRead", "SetIpFilter", "Arp",
                     "SetParameters", "SetStationIp", "SetPackets"]
        for (i, name) in names.enumerated() {
            w64(p + 8 + UInt64(i) * 8, stub("PxeBc.\(name)") { m in
                switch name {
                case "Start": return .done(EFIStatus.alreadyStarted)
                case "Dhcp": return .done(EFIStatus.success)
                case "Mtftp": return .done(m.mtftp(baseCode: baseCode, device: handle))
                case "SetIpFilter", "SetParameters": return .done(EFIStatus.success)
                default:
                    m.note("PxeBc.\(name): unsupported")
                    return .done(EFIStatus.unsupported)
                }
            })
        }
        w64(p + 104, mode)
        addProtocol(handle, Self.pxeBaseCodeGUID, p)
    }

    /// EFI_TFTP_ERROR.
    static let tftpError = EFIStatus.error | 32

    /// Mtftp(This, Operation, BufferPtr, Overwrite, BufferSize, BlockSize,
    /// ServerIp, Filename, Info, DontUseBuffer): operations 1 (file size)
    /// and 2 (read file) over nicsim's TFTP client.
    func mtftp(baseCode: PXEBaseCode, device: UInt64) -> UInt64 {
        let (operation, buffer, sizePointer, serverPointer, namePointer) = (arg(1), arg(2), arg(4), arg(6), arg(7))
        let dontUseBuffer = arg(9) & 0xFF != 0
        guard operation == 1 || operation == 2 else {
            note("PxeBc.Mtftp operation \(operation): unsupported")
            return EFIStatus.unsupported
        }
        guard valid(sizePointer, 8), valid(serverPointer, 4), valid(namePointer, 1) else { return EFIStatus.invalidParameter }
        var name: [UInt8] = []
        var a = namePointer
        while name.count < 256, valid(a, 1) {
            let c = r8(a)
            if c == 0 { break }
            name.append(c)
            a &+= 1
        }
        guard !name.isEmpty, name.count < 256 else { return EFIStatus.invalidParameter }
        let file = String(decoding: name, as: UTF8.self)
        let server = IPv4Address(r8(serverPointer), r8(serverPointer + 1), r8(serverPointer + 2), r8(serverPointer + 3))
        // The card is the base code's for the transfer, then SNP's again.
        let snp = networks.values.first { interface(device, .simpleNetwork) == $0.interface }
        guard baseCode.undi.bringUp().isSuccess else { return EFIStatus.deviceError }
        defer {
            _ = baseCode.undi.close()
            _ = baseCode.undi.shutdown()
            if let snp, snp.state == 2 { try? snp.driver.open(filter: snpFilter(snp), multicast: snp.multicast) }
            cpu.timeStampBase = board.clock.now
        }
        if operation == 1 {
            do {
                let size = try baseCode.tftp.fileSize(server: server, file: file, options: baseCode.tftpOptions)
                w64(sizePointer, UInt64(size))
                return EFIStatus.success
            } catch {
                note("PxeBc.Mtftp size of \(file): \(error)")
                return Self.tftpError
            }
        }
        let capacity = dontUseBuffer ? 0 : r64(sizePointer)
        guard dontUseBuffer || valid(buffer, Int(min(capacity, 1 << 30))) else { return EFIStatus.invalidParameter }
        var tooSmall = false
        do {
            let size = try baseCode.tftp.readFile(server: server, file: file, options: baseCode.tftpOptions) { (offset, bytes) throws(PXEStatus) in
                guard !dontUseBuffer else { return }
                guard UInt64(offset) + UInt64(bytes.count) <= capacity else {
                    tooSmall = true
                    throw PXEStatus.failure
                }
                do throws(DMAError) { try memory.write(at: buffer + UInt64(offset), from: bytes) } catch { throw PXEStatus.failure }
            }
            w64(sizePointer, UInt64(size))
            forgetCode(from: buffer, count: Int(min(UInt64(size), capacity)))
            return EFIStatus.success
        } catch {
            if tooSmall { return EFIStatus.bufferTooSmall }
            note("PxeBc.Mtftp read of \(file): \(error)")
            return Self.tftpError
        }
    }
}
