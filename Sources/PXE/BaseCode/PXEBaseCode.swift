import NICCore
import UNDI
import Wire

/// The PXE base code: what a PXE ROM runs before the NBP — UNDI bring-up,
/// DHCP (with proxyDHCP and boot-server discovery) — and the services it
/// keeps for the NBP afterwards: the cached DHCP packets, TFTP and UDP.
public final class PXEBaseCode {
    /// Base-code life: running after `boot()` or START_BASE, stopped after
    /// STOP_BASE, unloaded after UNLOAD_STACK.
    public enum State: Sendable, Equatable {
        case running
        case stopped
        case unloaded
    }

    public let undi: UNDI
    public let ip: IPStack
    public let dhcp: DHCPClient
    public let tftp: TFTPClient
    @exclusivity(unchecked)
    public var tftpOptions = TFTPTransferOptions()
    @exclusivity(unchecked)
    public internal(set) var state: State = .running
    /// The DHCP outcome, once `boot()` has run.
    @exclusivity(unchecked)
    public internal(set) var dhcpResult: DHCPResult?
    /// The three GET_CACHED_INFO packets, encoded, as the wire carried them.
    @exclusivity(unchecked)
    public internal(set) var cachedPackets: [CachedPacketType: [UInt8]] = [:]

    /// Progress of DHCP and TFTP, as it happens.
    public var onEvent: ((PXEEvent) -> Void)? {
        didSet {
            dhcp.onEvent = onEvent
            tftp.onEvent = onEvent
        }
    }

    /// PXENV_UDP_OPEN happened (and no UDP_CLOSE since).
    @exclusivity(unchecked)
    var udpOpen = false
    /// The UDP source port UDP_WRITE uses when the caller gives 0.
    static let defaultUDPSourcePort: UInt16 = 2069

    public init(undi: UNDI, identity: PXEClientIdentity = PXEClientIdentity()) {
        self.undi = undi
        ip = IPStack(undi: undi)
        dhcp = DHCPClient(ip: ip, identity: identity)
        tftp = TFTPClient(ip: ip)
    }

    /// What a PXE ROM does at boot: UNDI START_UNDI, STARTUP, INITIALIZE,
    /// OPEN (directed and broadcast), then DHCP. Leaves the UNDI open, as
    /// an NBP expects to find it.
    @discardableResult
    public func boot() throws(PXEStatus) -> DHCPResult {
        let s = undi.bringUp(filter: [.directed, .broadcast], multicast: [])
        guard s.isSuccess else { throw s }
        let result = try dhcp.run()
        dhcpResult = result
        cachedPackets[.dhcpDiscover] = result.discover.encoded()
        cachedPackets[.dhcpAck] = result.ack.encoded()
        cachedPackets[.cachedReply] = result.bootReply.encoded()
        state = .running
        return result
    }

    /// Where a ROM loads the NBP: 0000:7C00.
    public static let nbpAddress: UInt64 = 0x7C00

    /// What a ROM does after DHCP: fetches the boot file over TFTP into
    /// conventional memory at 0000:7C00, below `limit` (the ROM's own
    /// segments). Returns its size.
    @discardableResult
    public func loadNBP(below limit: UInt64) throws(PXEStatus) -> Int {
        guard let result = dhcpResult else { throw .dhcpNoBootfileName }
        let memory = undi.bus.memory
        let address = Self.nbpAddress
        do throws(TFTPClientError) {
            return try tftp.readFile(server: result.tftpServer, file: result.bootFile, options: tftpOptions) { (offset, bytes) throws(PXEStatus) in
                guard address + UInt64(offset + bytes.count) <= limit else { throw .bootstrapFileTooBig }
                do throws(DMAError) { try memory.write(at: address + UInt64(offset), from: bytes) } catch { throw .failure }
            }
        } catch {
            throw error == .tooLarge ? .bootstrapFileTooBig : error.status
        }
    }

    /// The BOOTPLAYER for `type`: the packet, zero-padded (or cut) to 1260
    /// bytes, and the packet's own length.
    public func bootPlayer(_ type: CachedPacketType) -> (bytes: [UInt8], length: Int) {
        let packet = cachedPackets[type] ?? cachedPackets[.dhcpAck] ?? []
        var b = Array(packet.prefix(PXELayout.bootPlayerSize))
        let length = b.count
        b += [UInt8](repeating: 0, count: PXELayout.bootPlayerSize - b.count)
        return (b, length)
    }
}
