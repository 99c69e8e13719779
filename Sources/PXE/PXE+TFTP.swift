import NICCore
import UNDI
import Wire

/// The TFTP calls. IP4_t and UDP_PORT_t fields are in network byte order.
extension PXEAPI {
    static let fileNameSize = 128

    private func tftpFailure(_ e: TFTPClientError) -> PXEStatus { e.status }

    /// TFTP_OPEN: ServerIPAddress 2, GatewayIPAddress 6, FileName[128] 10,
    /// TFTPPort 138, PacketSize 140 (in: blksize wanted; out: agreed).
    func tftpOpen(_ b: GuestBlock) throws(PXEStatus) {
        try requireBaseCode()
        guard !baseCode.tftp.isOpen else { throw .tftpOpen }
        guard !baseCode.udpOpen else { throw .udpOpen }
        let server = IPv4Address(rawValue: try b.ip(2))
        let gateway = IPv4Address(rawValue: try b.ip(6))
        let name = try b.string(10, maxLength: Self.fileNameSize)
        let port = UInt16(bigEndian: try b.u16(138))
        let packetSize = Int(try b.u16(140))
        guard packetSize >= 512 else { throw .tftpInvalidPacketSize }
        var options = baseCode.tftpOptions
        options.blockSize = min(packetSize, 1432)
        options.windowSize = 1
        let t: TFTPClient.Transfer
        do throws(TFTPClientError) {
            t = try baseCode.tftp.open(server: server, file: name, port: port == 0 ? 69 : port, gateway: gateway, options: options)
        } catch {
            throw tftpFailure(error)
        }
        try b.set16(140, UInt16(t.blockSize))
    }

    /// TFTP_CLOSE
    func tftpClose(_ b: GuestBlock) throws(PXEStatus) {
        try requireBaseCode()
        guard baseCode.tftp.isOpen else { throw .tftpClosed }
        baseCode.tftp.close()
    }

    /// TFTP_READ: PacketNumber 2 (out), BufferSize 4 (out), Buffer 6.
    /// Returns the next block; BufferSize less than the packet size marks
    /// the last. The caller's buffer holds the PacketSize TFTP_OPEN agreed;
    /// no block is larger (the client refuses one above blksize whole).
    func tftpRead(_ b: GuestBlock) throws(PXEStatus) {
        try requireBaseCode()
        guard baseCode.tftp.isOpen else { throw .tftpClosed }
        let buffer = GuestBlock(memory, at: try b.address(6).linear)
        let block: UInt16, count: Int
        do throws(TFTPClientError) {
            (block, count, _) = try baseCode.tftp.read { (bytes) throws(PXEStatus) in try buffer.write(0, from: bytes) }
        } catch {
            throw tftpFailure(error)
        }
        try b.set16(2, block)
        try b.set16(4, UInt16(count))
    }

    /// TFTP_READ_FILE: FileName[128] 2, BufferSize 130 (in: room; out:
    /// file size), Buffer 134 (32-bit physical), ServerIPAddress 138,
    /// GatewayIPAddress 142, McastIPAddress 146, TFTPClntPort 150,
    /// TFTPSrvPort 152, TFTPOpenTimeOut 154, TFTPReopenDelay 156.
    /// Multicast TFTP is not offered; the file comes by unicast TFTP.
    func tftpReadFile(_ b: GuestBlock) throws(PXEStatus) {
        try requireBaseCode()
        guard !baseCode.tftp.isOpen else { throw .tftpOpen }
        let (_, size) = try readWholeFile(b, into: UInt64(try b.u32(134)))
        try b.set32(130, UInt32(size))
    }

    func readWholeFile(_ b: GuestBlock, into address: UInt64) throws(PXEStatus) -> (String, Int) {
        let name = try b.string(2, maxLength: Self.fileNameSize)
        let room = Int(try b.u32(130))
        let server = IPv4Address(rawValue: try b.ip(138))
        let gateway = IPv4Address(rawValue: try b.ip(142))
        let memory = self.memory
        do throws(TFTPClientError) {
            let size = try baseCode.tftp.readFile(server: server, file: name, gateway: gateway, options: baseCode.tftpOptions) { (offset, bytes) throws(PXEStatus) in
                guard offset + bytes.count <= room else { throw .outOfResources }
                try GuestBlock(memory, at: address + UInt64(offset)).write(0, from: bytes)
            }
            return (name, size)
        } catch {
            throw tftpFailure(error)
        }
    }

    /// TFTP_GET_FSIZE: ServerIPAddress 2, GatewayIPAddress 6, FileName[128]
    /// 10, FileSize 138 (out), by the tsize option.
    func tftpGetFileSize(_ b: GuestBlock) throws(PXEStatus) {
        try requireBaseCode()
        guard !baseCode.tftp.isOpen else { throw .tftpOpen }
        let server = IPv4Address(rawValue: try b.ip(2))
        let gateway = IPv4Address(rawValue: try b.ip(6))
        let name = try b.string(10, maxLength: Self.fileNameSize)
        let size: UInt32
        do throws(TFTPClientError) {
            size = try baseCode.tftp.fileSize(server: server, file: name, gateway: gateway, options: baseCode.tftpOptions)
        } catch {
            throw tftpFailure(error)
        }
        try b.set32(138, size)
    }

    /// RESTART_TFTP (a TFTP_READ_FILE block): loads the named NBP at
    /// 0000:7C00 to run it in place of the current one. Execution is the
    /// host's part; `restartedNBP` records what was loaded.
    func restartTFTP(_ b: GuestBlock) throws(PXEStatus) {
        try requireBaseCode()
        guard !baseCode.tftp.isOpen else { throw .tftpOpen }
        let (name, size) = try readWholeFile(b, into: Self.nbpLoadAddress)
        restartedNBP = (name, size)
    }
}
