import Board
import NICCore
import PXE
import Wire

/// A whole PXE boot in Swift, as `nicsim boot --nbp builtin` runs it: the
/// card's UNDI driver and nicsim's PXE base code take a lease, the ROM reads
/// the NBP over TFTP to 0:7C00, then nicsim's pxelinux reads its
/// configuration, kernel and initrds into guest memory. The report's files
/// are every transfer the card made (`BootNetwork.transfers`).
///
/// ```swift
/// let pc = try SimulatedPC(model: NICCatalogue.rtl8139, mac: mac)
/// let network = try BootNetwork(board: pc.board, device: pc.port, macAddress: mac,
///                               peer: .embedded(directory: "tftpboot", bootFile: nil, hint: ""))
/// let report = try BuiltinBoot.run(pc: pc, network: network)
/// ```
public enum BuiltinBoot {
    /// Boots `pc` on `network`. `onClient` sees the PXE client before it
    /// sends anything (the CLI draws its progress bar from its events).
    public static func run(pc: SimulatedPC, network: BootNetwork, identity: PXEClientIdentity = PXEClientIdentity(),
                           wall: MonotonicClock = MonotonicClock(),
                           onClient: (PXEClient) -> Void = { _ in }) throws(NICSimError) -> BootReport {
        let start = pc.board.clock.now
        let client: PXEClient
        do {
            client = try PXEClient(board: pc.board, driver: pc.driver, identity: identity)
        } catch { throw NICSimError(error.description) }
        onClient(client)
        let dhcp = try leaseAndNBP(client: client)
        return try finish(pc: pc, client: client, dhcp: dhcp, network: network, start: start, wall: wall)
    }

    /// The ROM's part: UNDI bring-up and DHCP, the cached packets stored for
    /// the NBP, then the NBP over TFTP to 0:7C00.
    public static func leaseAndNBP(client: PXEClient) throws(NICSimError) -> DHCPResult {
        let dhcp: DHCPResult
        do throws(PXEStatus) { dhcp = try client.baseCode.boot() } catch {
            throw NICSimError("DHCP failed: \(error); is a PXE DHCP server on the network?")
        }
        do throws(DMAError) { try client.api.storeCachedPackets() } catch { throw NICSimError("guest memory: \(error)") }
        try loadNBP(dhcp.bootFile, from: dhcp.tftpServer, client: client, at: 0x7C00)
        return dhcp
    }

    /// The NBP's part, as nicsim's pxelinux through the PXE API, and the
    /// report. `start` is the virtual time the boot began.
    public static func finish(pc: SimulatedPC, client: PXEClient, dhcp: DHCPResult, network: BootNetwork,
                              start: UInt64, wall: MonotonicClock) throws(NICSimError) -> BootReport {
        let board = pc.board
        let memory = board.memory.size
        if memory > 64 << 20 {
            // Room for large images: above the drivers' DMA region (16-32 MiB), up to the end of RAM.
            client.loader.loadAddress = 0x200_0000
            client.loader.loadLimit = memory
        }
        do throws(PXELinuxError) { _ = try client.loader.run() } catch {
            throw NICSimError("pxelinux: \(error)")
        }
        let fetched = TransferReport.finish(network.transfers)
        return BootReport(
            model: pc.model.name, device: pc.modelName, mac: pc.mac.description, network: network.name,
            lease: BootReport.Lease(dhcp), nbp: "builtin",
            files: fetched.files, failed: fetched.failed, tftpProbes: fetched.probes, transfersNotListed: fetched.notListed,
            frames: .init(tx: pc.port.counters.transmittedFrames, rx: pc.port.counters.deliveredFrames),
            virtualSeconds: Double(board.clock.now &- start) / 1e9, wallSeconds: Double(wall.elapsed) / 1e9,
            host: network.hostLink.map(HostLinkReport.init))
    }

    /// Reads the NBP through the ROM's TFTP client into conventional memory
    /// at `address`, as a ROM does; it must fit below 0xA0000.
    static func loadNBP(_ name: String, from server: IPv4Address, client: PXEClient, at address: UInt64) throws(NICSimError) {
        let memory = client.board.memory
        do {
            try client.baseCode.tftp.readFile(server: server, file: name, options: client.baseCode.tftpOptions) { (offset, bytes) throws(PXEStatus) in
                guard offset >= 0, address + UInt64(offset) + UInt64(bytes.count) <= 0xA0000 else { throw PXEStatus.failure }
                do throws(DMAError) { try memory.write(at: address + UInt64(offset), from: bytes) } catch { throw PXEStatus.failure }
            }
        } catch {
            throw NICSimError("TFTP \(name) from \(server): \(error)")
        }
    }
}
