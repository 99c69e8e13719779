import NICCore
import Wire

/// Seeds of the tftp-log target: the TFTP a network boot exchanges, as a
/// card's port sees it, written with Wire's TFTP packet writers. A boot
/// loader's fetch with blksize and tsize (RRQ, OACK, ACK 0, DATA with a
/// short final block); a tsize probe the client aborts before its real
/// request; a configuration file the server does not have, then the
/// default one; a fetch with a request repeated from a new port, a
/// repeated ACK, a duplicate block and a stray TID; a blksize 8 transfer
/// whose block number rolls over to 1 (the rollover option some servers
/// accept); a Linux kernel whose "HdrS" at 202h straddles two blocks,
/// behind an 802.1Q tag, with other stations' frames around it.
enum TFTPLogSeeds {
    /// Port indices into `TFTPLogFuzz.ports`.
    static let requestPort = 0, clientPort = 1, secondClientPort = 2, tid = 3, secondTID = 4

    /// One input: a flags byte, then ops.
    struct Script {
        var w = FuzzInputWriter()

        /// Station filter on, eight transfers at most, sixteen records.
        init(station: Bool = true, maximumTransfers: Int = 8, capacity: Int = 16) {
            w.u8((station ? 1 : 0) | UInt8(maximumTransfers - 1) << 1 | UInt8(capacity / 4 - 1) << 4)
        }

        var bytes: [UInt8] { w.bytes }

        mutating func toServer(_ payload: [UInt8], clientPort: Int = TFTPLogSeeds.clientPort, serverPort: Int, client: Int = 0,
                               tags: Int = 0) {
            udp(payload, toClient: false, clientPort: clientPort, serverPort: serverPort, client: client, tags: tags)
        }

        mutating func toClient(_ payload: [UInt8], clientPort: Int = TFTPLogSeeds.clientPort, serverPort: Int = TFTPLogSeeds.tid,
                               client: Int = 0, tags: Int = 0) {
            udp(payload, toClient: true, clientPort: clientPort, serverPort: serverPort, client: client, tags: tags)
        }

        private mutating func udp(_ payload: [UInt8], toClient: Bool, clientPort: Int, serverPort: Int, client: Int, tags: Int) {
            w.u8(TFTPLogFuzz.op(0, toClient: toClient, clientPort: clientPort, tags: tags))
            w.u8(TFTPLogFuzz.Place.byte(clientMAC: client, clientIP: client, serverPort: serverPort))
            w.u16(UInt16(payload.count))
            w.append(payload)
        }

        mutating func raw(_ frame: [UInt8]) {
            w.u8(TFTPLogFuzz.op(1))
            w.u16(UInt16(frame.count))
            w.append(frame)
        }

        /// DATA `first`... for `count` blocks of `size` bytes from the
        /// server's TID.
        mutating func dataRun(first: UInt16, count: Int, size: Int, fill: UInt8, acknowledged: Bool, shortLast: Bool) {
            w.u8(TFTPLogFuzz.op(2))
            w.u8(TFTPLogFuzz.Place.byte(serverPort: TFTPLogSeeds.tid))
            w.u16(first)
            w.u16(UInt16(count - 1))
            w.u16(UInt16(size))
            w.u8(fill)
            w.u8((acknowledged ? 1 : 0) | (shortLast ? 2 : 0))
        }

        mutating func finish() { w.u8(TFTPLogFuzz.op(3)) }

        /// Serves `file` in lock step from block 1 (DATA n, ACK n).
        mutating func serve(_ file: [UInt8], blockSize: Int, clientPort: Int = TFTPLogSeeds.clientPort,
                            serverPort: Int = TFTPLogSeeds.tid, tags: Int = 0) {
            var block: UInt16 = 1
            var offset = 0
            while true {
                let end = min(offset + blockSize, file.count)
                toClient(data(block, file[offset..<end]), clientPort: clientPort, serverPort: serverPort, tags: tags)
                toServer(ack(block), clientPort: clientPort, serverPort: serverPort, tags: tags)
                if end - offset < blockSize { return }
                offset = end
                block &+= 1
            }
        }
    }

    // MARK: Packets

    static func packet(_ write: (UnsafeMutableRawBufferPointer) throws -> Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 2048)
        let n = out.withUnsafeMutableBytes { (try? write($0)) ?? 0 }
        return Array(out[..<n])
    }

    static func rrq(_ file: String, _ options: [TFTPOption] = []) -> [UInt8] {
        packet { try TFTPPacket.writeRequest(.readRequest, TFTPRequest(filename: file, options: options), to: $0) }
    }

    static func oack(_ options: [TFTPOption]) -> [UInt8] {
        packet { try TFTPPacket.writeOptionAcknowledgement(options, to: $0) }
    }

    static func data<C: Collection>(_ block: UInt16, _ bytes: C) -> [UInt8] where C.Element == UInt8 {
        packet { try TFTPPacket.writeDataHeader(block: block, to: $0) } + bytes
    }

    static func ack(_ block: UInt16) -> [UInt8] {
        packet { try TFTPPacket.writeAcknowledgement(block: block, to: $0) }
    }

    static func error(_ code: TFTPErrorCode, _ message: String) -> [UInt8] {
        packet { try TFTPPacket.writeError(code, message: message, to: $0) }
    }

    /// `count` bytes of a file, not all alike.
    static func file(_ count: Int, _ salt: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ salt) }
    }

    // MARK: Seeds

    static func seeds() -> [(String, [UInt8])] {
        [("boot-blksize-tsize", bootWithOptions()), ("tsize-probe-then-fetch", probeThenFetch()),
         ("file-not-found", fileNotFound()), ("retransmissions", retransmissions()),
         ("rollover-blksize-8", rollover()), ("linux-kernel-vlan", linuxKernel())]
    }

    /// pxelinux.0 as a PXE ROM fetches it: blksize 1468 and tsize, the
    /// OACK's answer, ACK 0, then two full blocks and a short one.
    static func bootWithOptions() -> [UInt8] {
        var s = Script(maximumTransfers: 4, capacity: 8)
        let nbp = file(3000, 7)
        s.toServer(rrq("pxelinux.0", [TFTPOption(TFTPOption.transferSize, "0"), TFTPOption(TFTPOption.blockSize, "1468")]),
                   serverPort: requestPort)
        s.toClient(oack([TFTPOption(TFTPOption.transferSize, "\(nbp.count)"), TFTPOption(TFTPOption.blockSize, "1468")]))
        s.toServer(ack(0), serverPort: tid)
        s.serve(nbp, blockSize: 1468)
        return s.bytes
    }

    /// The client asks for tsize only, takes the OACK and aborts with
    /// ERROR (a probe, counted, not listed), then fetches from a new port.
    static func probeThenFetch() -> [UInt8] {
        var s = Script()
        let image = file(1500, 3)
        s.toServer(rrq("undionly.kpxe", [TFTPOption(TFTPOption.transferSize, "0")]), serverPort: requestPort)
        s.toClient(oack([TFTPOption(TFTPOption.transferSize, "\(image.count)")]))
        s.toServer(error(.notDefined, "tsize probe done"), serverPort: tid)
        s.toServer(rrq("undionly.kpxe", [TFTPOption(TFTPOption.blockSize, "1408")]), clientPort: secondClientPort,
                   serverPort: requestPort)
        s.toClient(oack([TFTPOption(TFTPOption.blockSize, "1408")]), clientPort: secondClientPort, serverPort: secondTID)
        s.toServer(ack(0), clientPort: secondClientPort, serverPort: secondTID)
        s.serve(image, blockSize: 1408, clientPort: secondClientPort, serverPort: secondTID)
        return s.bytes
    }

    /// pxelinux's search for its configuration: the MAC-named file is
    /// missing (ERROR 1), "default" arrives in one short block.
    static func fileNotFound() -> [UInt8] {
        var s = Script(station: false)
        s.toServer(rrq("pxelinux.cfg/01-52-54-00-12-34-56"), serverPort: requestPort)
        s.toClient(error(.fileNotFound, "File not found"))
        s.toServer(rrq("pxelinux.cfg/default"), clientPort: secondClientPort, serverPort: requestPort)
        s.serve(Array("DEFAULT linux\nLABEL linux\n  KERNEL vmlinuz\n  APPEND initrd=initrd.img\n".utf8), blockSize: 512,
                clientPort: secondClientPort, serverPort: secondTID)
        return s.bytes
    }

    /// A request lost on the way (sent again from a new port), an ACK sent
    /// twice, a block the server sent twice, a block from another TID,
    /// then finish() in the middle of a second transfer and a third one.
    static func retransmissions() -> [UInt8] {
        var s = Script(maximumTransfers: 2, capacity: 4)
        let image = file(1100, 11)
        s.toServer(rrq("boot.img"), serverPort: requestPort)
        s.toServer(rrq("boot.img"), clientPort: secondClientPort, serverPort: requestPort)
        s.toClient(data(1, image[0..<512]), clientPort: secondClientPort)
        s.toServer(ack(1), clientPort: secondClientPort, serverPort: tid)
        s.toServer(ack(1), clientPort: secondClientPort, serverPort: tid)
        s.toClient(data(1, image[0..<512]), clientPort: secondClientPort)
        s.toClient(data(2, file(512, 99)), clientPort: secondClientPort, serverPort: secondTID)
        s.toClient(data(2, image[512..<1024]), clientPort: secondClientPort)
        s.toServer(ack(2), clientPort: secondClientPort, serverPort: tid)
        s.toClient(data(3, image[1024...]), clientPort: secondClientPort)
        s.toServer(ack(3), clientPort: secondClientPort, serverPort: tid)
        s.toServer(rrq("second.img"), serverPort: requestPort)
        s.toClient(data(1, image[0..<512]))
        s.toServer(ack(1), serverPort: tid)
        s.finish()
        s.toServer(rrq("third.img"), serverPort: requestPort)
        return s.bytes
    }

    /// blksize 8 with rollover=1 asked and acknowledged: 65535 blocks,
    /// then the block after 65535 is 1 and the file ends in a short block.
    static func rollover() -> [UInt8] {
        var s = Script(maximumTransfers: 1, capacity: 4)
        s.toServer(rrq("rollover.bin", [TFTPOption(TFTPOption.blockSize, "8"), TFTPOption("rollover", "1")]), serverPort: requestPort)
        s.toClient(oack([TFTPOption(TFTPOption.blockSize, "8"), TFTPOption("rollover", "1")]))
        s.toServer(ack(0), serverPort: tid)
        s.dataRun(first: 1, count: 65535, size: 8, fill: 0xA5, acknowledged: false, shortLast: false)
        s.dataRun(first: 1, count: 3, size: 8, fill: 0x5A, acknowledged: true, shortLast: true)
        return s.bytes
    }

    /// A bzImage-like file fetched with blksize 516, so "Hd" ends block 1
    /// and "rS" starts block 2, behind 802.1Q; the second client's
    /// request and a raw ARP frame are the other stations' traffic the
    /// station filter leaves out.
    static func linuxKernel() -> [UInt8] {
        var s = Script(maximumTransfers: 2, capacity: 4)
        var kernel = file(1200, 5)
        kernel.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
        s.toServer(rrq("vmlinuz", [TFTPOption(TFTPOption.blockSize, "516")]), serverPort: requestPort, tags: 1)
        s.toServer(rrq("vmlinuz"), serverPort: requestPort, client: 1)
        s.raw([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x52, 0x54, 0x00, 0x12, 0x34, 0x57, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04,
               0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x57, 10, 0, 2, 16, 0, 0, 0, 0, 0, 0, 10, 0, 2, 2])
        s.toClient(oack([TFTPOption(TFTPOption.blockSize, "516")]), tags: 1)
        s.toServer(ack(0), serverPort: tid, tags: 1)
        s.serve(kernel, blockSize: 516, tags: 1)
        return s.bytes
    }
}
