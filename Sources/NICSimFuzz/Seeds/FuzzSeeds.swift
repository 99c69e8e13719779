/// The seed inputs of every target: small, real inputs that start each
/// fuzzer deep inside its surface. They are built here, from nicsim's own
/// drivers, writers and builders (or written out where no builder
/// exists), and kept in `fixtures/fuzz/<target>/`; `FuzzSeedTests` checks
/// that the files are what these builders make, and rewrites them with
/// NICSIM_FUZZ_REGENERATE_SEEDS=1 after a deliberate change.
public enum FuzzSeeds {
    /// `(file name, bytes)` for each seed of `target`.
    public static func seeds(for target: FuzzTarget) -> [(name: String, bytes: [UInt8])] {
        let seeds: [(String, [UInt8])]
        switch target {
        case .ne2000PCI: seeds = DeviceSeeds.seeds(.ne2000PCI)
        case .ne2000ISA: seeds = DeviceSeeds.seeds(.ne2000ISA)
        case .rtl8139: seeds = DeviceSeeds.seeds(.rtl8139)
        case .rtl8139CPlus: seeds = DeviceSeeds.seeds(.rtl8139CPlus)
        case .virtioNetLegacy: seeds = DeviceSeeds.seeds(.virtioNetLegacy)
        case .virtioNetModern: seeds = DeviceSeeds.seeds(.virtioNetModern)
        case .virtqueueSplit: seeds = VirtQueueSeeds.split()
        case .virtqueuePacked: seeds = VirtQueueSeeds.packed()
        case .pcap: seeds = TraceFileSeeds.pcap()
        case .pcapng: seeds = TraceFileSeeds.pcapng()
        case .wire: seeds = NetworkSeeds.wire()
        case .bootServer: seeds = NetworkSeeds.bootSeeds.server + NetworkSeeds.serverByHand()
        case .pxeClient: seeds = NetworkSeeds.bootSeeds.client
        case .pxeAPI: seeds = NetworkSeeds.apiCalls()
        case .qemuStreamBridge, .qemuStreamQTest: seeds = MoreSeeds.qemuStreams()
        case .pxelinuxConfig: seeds = MoreSeeds.pxelinuxConfigs()
        case .optionROM: seeds = MoreSeeds.optionROMs()
        case .qtestProtocol: seeds = MoreSeeds.qtestScripts()
        case .machine: seeds = MoreSeeds.machineCode()
        case .offload: seeds = OffloadSeeds.seeds()
        case .httpServer: seeds = HTTPSeeds.seeds()
        case .cABI: seeds = CABISeeds.seeds()
        case .uefiImage: seeds = UEFISeeds.seeds()
        case .tftpLog: seeds = TFTPLogSeeds.seeds()
        }
        return seeds.map { (name: $0.0, bytes: $0.1) }
    }
}
