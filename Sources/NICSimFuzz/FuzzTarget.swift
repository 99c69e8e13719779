/// Every surface nicsim exposes to hostile input, as one fuzz target each.
/// A target turns a byte string into a run of the real code: an op-coded
/// stream of register, configuration and DMA traffic for a device model, a
/// file for a trace reader, frames for a network stack, code for the x86
/// machine. Each run builds its world afresh (a new board, device, server
/// or machine), is bounded (inputs are cut at `maxInputSize`; steps,
/// frames and instructions are capped) and uses no clock or randomness but
/// the input's, so a crash reproduces from the file that caused it.
///
/// The same harnesses run under libFuzzer (the `Fuzz/` package) and in
/// `swift test` (`FuzzTests` replays `fixtures/fuzz/<target>/`).
public enum FuzzTarget: String, CaseIterable, Sendable {
    case ne2000PCI = "ne2000-pci"
    case ne2000ISA = "ne2000-isa"
    case rtl8139 = "rtl8139"
    case rtl8139CPlus = "rtl8139-cplus"
    case virtioNetLegacy = "virtio-net-legacy"
    case virtioNetModern = "virtio-net-modern"
    case virtqueueSplit = "virtqueue-split"
    case virtqueuePacked = "virtqueue-packed"
    case pcap = "pcap"
    case pcapng = "pcapng"
    case qemuStreamBridge = "qemu-stream-bridge"
    case qemuStreamQTest = "qemu-stream-qtest"
    case wire = "wire"
    case bootServer = "bootserver"
    case pxeClient = "pxe-client"
    case pxeAPI = "pxe-api"
    case pxelinuxConfig = "pxelinux-config"
    case optionROM = "option-rom"
    case qtestProtocol = "qtest-protocol"
    case machine = "machine"
    case offload = "offload"
    case httpServer = "http-server"
    case cABI = "cabi"
    case uefiImage = "uefi-image"
    case tftpLog = "tftp-log"

    /// The name used on the command line, in file paths and in reports.
    public var name: String { rawValue }

    /// Longer inputs are cut to this many bytes before the run.
    public var maxInputSize: Int {
        switch self {
        case .ne2000PCI, .ne2000ISA, .rtl8139, .rtl8139CPlus, .virtioNetLegacy, .virtioNetModern: 64 << 10
        case .virtqueueSplit, .virtqueuePacked: 16 << 10
        case .pcap, .pcapng: 64 << 10
        case .qemuStreamBridge, .qemuStreamQTest: 256 << 10
        case .wire: 4 << 10
        case .bootServer, .pxeClient, .pxeAPI: 64 << 10
        case .pxelinuxConfig: 16 << 10
        case .optionROM: 128 << 10
        case .qtestProtocol: 8 << 10
        case .machine: 8 << 10
        case .offload: 66 << 10
        case .httpServer: 64 << 10
        case .cABI: 64 << 10
        case .uefiImage: 64 << 10
        case .tftpLog: 64 << 10
        }
    }

    /// Runs the target once on `data`.
    public func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(UnsafeRawBufferPointer(rebasing: data[0..<min(data.count, maxInputSize)]))
        switch self {
        case .ne2000PCI: DeviceFuzz.run(.ne2000PCI, &input)
        case .ne2000ISA: DeviceFuzz.run(.ne2000ISA, &input)
        case .rtl8139: DeviceFuzz.run(.rtl8139, &input)
        case .rtl8139CPlus: DeviceFuzz.run(.rtl8139CPlus, &input)
        case .virtioNetLegacy: DeviceFuzz.run(.virtioNetLegacy, &input)
        case .virtioNetModern: DeviceFuzz.run(.virtioNetModern, &input)
        case .virtqueueSplit: VirtQueueFuzz.run(packed: false, &input)
        case .virtqueuePacked: VirtQueueFuzz.run(packed: true, &input)
        case .pcap: TraceFileFuzz.runPcap(&input)
        case .pcapng: TraceFileFuzz.runPcapNG(&input)
        case .qemuStreamBridge: QEMUStreamFuzz.runBridge(&input)
        case .qemuStreamQTest: QEMUStreamFuzz.runQTest(&input)
        case .wire: WireFuzz.run(&input)
        case .bootServer: BootServerFuzz.run(&input)
        case .pxeClient: PXEClientFuzz.run(&input)
        case .pxeAPI: PXEAPIFuzz.run(&input)
        case .pxelinuxConfig: PXELinuxConfigFuzz.run(&input)
        case .optionROM: OptionROMFuzz.run(&input)
        case .qtestProtocol: QTestProtocolFuzz.run(&input)
        case .machine: MachineFuzz.run(&input)
        case .offload: OffloadFuzz.run(&input)
        case .httpServer: HTTPServerFuzz.run(&input)
        case .cABI: CABIFuzz.run(&input)
        case .uefiImage: UEFIFuzz.run(&input)
        case .tftpLog: TFTPLogFuzz.run(&input)
        }
    }

    public func run(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { run($0) }
    }
}
