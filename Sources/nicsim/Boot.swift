import ArgumentParser

/// The NIC models a client can boot on.
enum ModelName: String, ExpressibleByArgument, CaseIterable {
    case ne2000
    case rtl8139
    case virtioNet = "virtio-net"
}

struct Boot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot",
        abstract: "PXE-boot a simulated client (the embedded server and switch by default)."
    )

    @Option(help: "NIC model: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ModelName = .rtl8139

    @Option(help: "Boot through this host interface (libpcap) instead of the embedded network.")
    var bridge: String?

    @Option(name: .customLong("qemu-socket"), help: "Join a QEMU stream netdev at this UNIX socket path.")
    var qemuSocket: String?

    @Option(help: "Client MAC address (aa:bb:cc:dd:ee:ff).")
    var mac: String?

    @Option(help: "Client UUID for DHCP option 97.")
    var uuid: String?

    @Option(help: "Write every frame to this pcapng file.")
    var capture: String?

    @Flag(help: "Print one JSON object instead of the summary.")
    var json = false

    func validate() throws {
        if bridge != nil && qemuSocket != nil {
            throw ValidationError("--bridge and --qemu-socket can't be used together")
        }
    }

    func run() throws {
        throw CLIError(description: "'boot' is not available in this build yet")
    }
}
