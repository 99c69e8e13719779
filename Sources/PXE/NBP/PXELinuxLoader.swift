import NICCore
import UNDI
import Wire

/// Why the built-in pxelinux stopped.
public enum PXELinuxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A PXE API call failed.
    case api(opcode: UInt16, status: PXEStatus)
    /// No configuration file was found along the search order.
    case noConfiguration(tried: [String])
    /// The configuration names nothing to boot.
    case noBootEntry
    /// The chosen entry boots from the local disk.
    case localBoot(label: String?)

    public var description: String {
        switch self {
        case .api(let op, let status): "PXE call 0x\(String(op, radix: 16)) failed: \(status)"
        // Paths and labels come from the server's DHCP answer and files: escaped.
        case .noConfiguration(let tried): "no pxelinux configuration (tried \(TerminalSafe.escaping(tried.joined(separator: ", "))))"
        case .noBootEntry: "the configuration names no kernel"
        case .localBoot(let label): "label \(TerminalSafe.escaping(label ?? "default")) boots from the local disk"
        }
    }
}

/// A file the loader put in guest memory.
public struct LoadedFile: Sendable, Equatable {
    public var name: String
    public var address: UInt64
    public var size: Int
}

/// What the built-in pxelinux did.
public struct PXELinuxBoot: Sendable {
    /// Every configuration path asked for, in order, up to the one found.
    public var triedConfigurations: [String]
    public var configurationPath: String
    /// The configuration file exactly as it was read over TFTP.
    public var configurationBytes: [UInt8]
    public var configuration: PXELinuxConfig
    public var entry: PXELinuxBootEntry
    /// The kernel command line with IPAPPEND / SYSAPPEND applied.
    public var commandLine: String
    public var kernel: LoadedFile
    public var initrds: [LoadedFile]
    /// Virtual time spent at the boot prompt (PROMPT/TIMEOUT, no key pressed).
    public var promptWait: UInt64
}

/// A pxelinux-compatible network bootstrap program written in Swift. It
/// works as pxelinux.0 does, through the PXE API alone, with parameter
/// blocks in guest memory: GET_CACHED_INFO for the DHCP packets; TFTP_OPEN,
/// TFTP_READ and TFTP_CLOSE for configuration files along pxelinux's search
/// order (UUID, 01-MAC, hex IP shrinking a digit at a time, `default`);
/// TFTP_GET_FSIZE and TFTP_READ_FILE for the kernel and initrds.
public final class PXELinuxLoader {
    /// Virtual time the boot prompt waits for a key under `config`'s
    /// TIMEOUT, capped as the parser caps it (the field is public, so a
    /// configuration built in code may hold anything).
    static func promptWait(for config: PXELinuxConfig) -> UInt64 {
        let tenths = min(max(config.timeout, 0), PXELinuxConfig.maximumTimeout)
        return UInt64(tenths) * 100 * VirtualClock.millisecond
    }

    public let api: PXEAPI
    /// Parameter blocks and small buffers go in this segment (below the
    /// ROM's, above the 0x7C00 NBP area).
    public var scratchSegment: UInt16 = 0x6000
    /// Where the kernel goes; initrds follow, 4 KiB aligned.
    public var loadAddress: UInt64 = 0x10_0000
    /// Nothing is loaded at or above this address.
    public var loadLimit: UInt64 = 0x100_0000
    /// Largest configuration file read.
    public static let maxConfigurationSize = 0xF000
    /// A label to boot instead of the unattended choice (as if typed at `boot:`).
    public var commandLineLabel: String?

    public init(api: PXEAPI) {
        self.api = api
    }

    private var memory: GuestMemory { api.memory }
    private var block: RealModeAddress { RealModeAddress(segment: scratchSegment, offset: 0) }
    private var packetBuffer: RealModeAddress { RealModeAddress(segment: scratchSegment, offset: 0x0100) }
    private var configBuffer: RealModeAddress { RealModeAddress(segment: scratchSegment &+ 0x0100, offset: 0) }

    // MARK: Calling the API

    private func call(_ op: PXEOpcode, size: Int, _ fill: (GuestBlock) throws(PXEStatus) -> Void) throws(PXELinuxError) -> GuestBlock {
        let b = GuestBlock(memory, at: block.linear)
        do throws(PXEStatus) {
            try b.fill(0, count: max(size, 2))
            try fill(b)
        } catch {
            throw .api(opcode: op.rawValue, status: error)
        }
        let exit = api.callPXENV(bx: op.rawValue, es: block.segment, di: block.offset)
        let status = PXEStatus(rawValue: (try? b.u16(0)) ?? PXEStatus.failure.rawValue)
        guard exit == .success, status.isSuccess else { throw .api(opcode: op.rawValue, status: status) }
        return b
    }

    /// GET_CACHED_INFO into our buffer, parsed.
    private func cachedPacket(_ type: CachedPacketType) throws(PXELinuxError) -> DHCPMessage? {
        let b = try call(.getCachedInfo, size: 12) { (b) throws(PXEStatus) in
            try b.set16(2, type.rawValue)
            try b.set16(4, UInt16(PXELayout.bootPlayerSize))
            try b.setAddress(6, packetBuffer)
        }
        guard let size = try? b.u16(4), let bytes = try? memory.readBytes(at: packetBuffer.linear, count: Int(size)) else { return nil }
        return bytes.withUnsafeBytes { try? DHCPMessage(parsing: $0) }
    }

    // MARK: Boot

    public func run() throws(PXELinuxError) -> PXELinuxBoot {
        let discover = try cachedPacket(.dhcpDiscover)
        let ack = try cachedPacket(.dhcpAck)
        let reply = try cachedPacket(.cachedReply) ?? ack
        guard let ack, let reply else { throw .api(opcode: PXEOpcode.getCachedInfo.rawValue, status: .failure) }
        let server = !reply.serverIP.isAny ? reply.serverIP : (ack.serverIP.isAny ? ack.addressOption(.serverIdentifier) ?? .any : ack.serverIP)
        let bootFile = DHCPClient.bootFileName(reply) ?? DHCPClient.bootFileName(ack) ?? ""
        let prefix = Self.pathPrefix(reply: reply, ack: ack, bootFile: bootFile)

        var tried: [String] = []
        var found: (String, [UInt8])?
        let candidates: [String]
        if let forced = reply.stringOption(DHCPOptionCode(209)) ?? ack.stringOption(DHCPOptionCode(209)) {
            candidates = [Self.resolve(forced, prefix: prefix)]
        } else {
            candidates = Self.configurationSearchOrder(uuid: discover.flatMap(Self.uuid(of:)), mac: ack.clientMAC ?? api.undi.driver.stationAddress,
                                                       ip: ack.yourIP).map { prefix + "pxelinux.cfg/" + $0 }
        }
        for path in candidates {
            tried.append(path)
            if let bytes = try readSmallFile(path, server: server) {
                found = (path, bytes)
                break
            }
        }
        guard let (path, bytes) = found else { throw .noConfiguration(tried: tried) }
        let config = PXELinuxConfig(parsing: String(decoding: bytes, as: UTF8.self))

        // PROMPT/TIMEOUT: nobody is at the keyboard, so the timeout runs out.
        var waited: UInt64 = 0
        if commandLineLabel == nil, config.timeout > 0 {
            waited = Self.promptWait(for: config)
            api.undi.bus.delay(waited)
        }
        let chosen: PXELinuxBootEntry?
        if let name = commandLineLabel, let l = config.label(named: name) {
            chosen = config.entry(for: l)
        } else {
            chosen = config.unattendedEntry()
        }
        guard let entry = chosen else { throw .noBootEntry }
        if entry.localBoot { throw .localBoot(label: entry.label) }
        guard let kernelName = entry.kernel, !kernelName.isEmpty else { throw .noBootEntry }

        var next = loadAddress
        let kernel = try load(Self.resolve(kernelName, prefix: prefix), server: server, at: &next)
        var initrds: [LoadedFile] = []
        for name in entry.initrds {
            initrds.append(try load(Self.resolve(name, prefix: prefix), server: server, at: &next))
        }
        let uuid = discover.flatMap(Self.uuid(of:)).flatMap { Self.configurationSearchOrder(uuid: $0, mac: .zero, ip: .any).first }
        let mask = ack.addressOption(.subnetMask) ?? IPStack.classfulMask(ack.yourIP)
        let gateway = ack.option(.router).flatMap { $0.count >= 4 ? IPv4Address(bytes: $0.prefix(4)) : nil } ?? .any
        let mac = String((ack.clientMAC ?? api.undi.driver.stationAddress).description.map { $0 == ":" ? "-" : $0 })
        let line = entry.finalCommandLine(client: ack.yourIP.description, server: server.description, gateway: gateway.description,
                                          netmask: mask.description, mac: mac, uuid: uuid)
        return PXELinuxBoot(triedConfigurations: tried, configurationPath: path, configurationBytes: bytes, configuration: config, entry: entry,
                            commandLine: line, kernel: kernel, initrds: initrds, promptWait: waited)
    }

    /// Reads a small file with TFTP_OPEN / TFTP_READ / TFTP_CLOSE.
    /// Nil when the server says the file does not exist (or any other
    /// error: pxelinux moves on to the next name).
    private func readSmallFile(_ path: String, server: IPv4Address) throws(PXELinuxError) -> [UInt8]? {
        let packetSize: Int
        do {
            let open = try call(.tftpOpen, size: 142) { (b) throws(PXEStatus) in
                try b.setIP(2, server.rawValue)
                try b.setField(10, size: PXEAPI.fileNameSize, Array(path.utf8.prefix(127)))
                try b.set16(138, UInt16(69).bigEndian)
                try b.set16(140, 1432)
            }
            // PacketSize comes back as the block size the server agreed to.
            packetSize = Int((try? open.u16(140)) ?? 512)
        } catch {
            return nil
        }
        var bytes: [UInt8] = []
        // A packet shorter than PacketSize is the last; the file is capped.
        for _ in 0..<(Self.maxConfigurationSize / 512 + 1) {
            let b = try call(.tftpRead, size: 10) { (b) throws(PXEStatus) in try b.setAddress(6, configBuffer) }
            let count = Int((try? b.u16(4)) ?? 0)
            if bytes.count + count <= Self.maxConfigurationSize, let chunk = try? memory.readBytes(at: configBuffer.linear, count: count) {
                bytes += chunk
            }
            if count < packetSize { break }
        }
        _ = try? call(.tftpClose, size: 2) { _ in }
        return bytes
    }

    /// TFTP_GET_FSIZE then TFTP_READ_FILE at `address`, which moves on past
    /// the file (4 KiB aligned).
    private func load(_ name: String, server: IPv4Address, at address: inout UInt64) throws(PXELinuxError) -> LoadedFile {
        let sizeBlock = try call(.tftpGetFileSize, size: 142) { (b) throws(PXEStatus) in
            try b.setIP(2, server.rawValue)
            try b.setField(10, size: PXEAPI.fileNameSize, Array(name.utf8.prefix(127)))
        }
        let size = UInt64((try? sizeBlock.u32(138)) ?? 0)
        let room = loadLimit > address ? loadLimit - address : 0
        guard size <= room else { throw .api(opcode: PXEOpcode.tftpReadFile.rawValue, status: .bootstrapFileTooBig) }
        let target = address
        let readBlock = try call(.tftpReadFile, size: 158) { (b) throws(PXEStatus) in
            try b.setField(2, size: PXEAPI.fileNameSize, Array(name.utf8.prefix(127)))
            try b.set32(130, UInt32(clamping: room))
            try b.set32(134, UInt32(truncatingIfNeeded: target))
            try b.setIP(138, server.rawValue)
        }
        let loaded = Int((try? readBlock.u32(130)) ?? 0)
        address = (target + UInt64(loaded) + 0xFFF) & ~0xFFF
        return LoadedFile(name: name, address: target, size: loaded)
    }

    // MARK: pxelinux rules

    /// pxelinux's configuration search order: the client UUID (when the
    /// DHCP discover carried option 97), "01-" and the MAC in lower-case
    /// hex with dashes (01 is the ARP type for Ethernet), the IPv4 address
    /// in upper-case hex shortened one digit at a time, then "default".
    public static func configurationSearchOrder(uuid: [UInt8]?, mac: MACAddress, ip: IPv4Address) -> [String] {
        var names: [String] = []
        if let uuid, uuid.count == 16, uuid.contains(where: { $0 != 0 }) {
            let hex = uuid.map { hex2($0, upper: false) }
            names.append(hex[0..<4].joined() + "-" + hex[4..<6].joined() + "-" + hex[6..<8].joined() + "-"
                         + hex[8..<10].joined() + "-" + hex[10..<16].joined())
        }
        names.append("01-" + mac.bytes.map { hex2($0, upper: false) }.joined(separator: "-"))
        let ipHex = ip.bytes.map { hex2($0, upper: true) }.joined()
        for n in stride(from: 8, through: 1, by: -1) { names.append(String(ipHex.prefix(n))) }
        names.append("default")
        return names
    }

    /// The UUID in option 97 of the client's DHCPDISCOVER (type 0, 16 bytes).
    static func uuid(of discover: DHCPMessage) -> [UInt8]? {
        guard let v = discover.option(.clientMachineIdentifier), v.count == 17, v[0] == 0 else { return nil }
        return Array(v[1...])
    }

    /// Option 210 (path prefix) if given, else the boot file's directory.
    static func pathPrefix(reply: DHCPMessage, ack: DHCPMessage, bootFile: String) -> String {
        if let p = reply.stringOption(DHCPOptionCode(210)) ?? ack.stringOption(DHCPOptionCode(210)) { return p }
        guard let slash = bootFile.lastIndex(of: "/") else { return "" }
        return String(bootFile[...slash])
    }

    /// pxelinux paths: "::name" is from the TFTP root, "/name" is sent as
    /// it is, anything else is relative to the path prefix.
    static func resolve(_ name: String, prefix: String) -> String {
        if name.hasPrefix("::") { return String(name.dropFirst(2)) }
        if name.hasPrefix("/") { return name }
        return prefix + name
    }

    private static func hex2(_ b: UInt8, upper: Bool) -> String {
        let digits = Array(upper ? "0123456789ABCDEF" : "0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
    }
}
