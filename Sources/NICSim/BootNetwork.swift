import Board
import BootServer
import Bridge
import NICCore
import Wire

/// The network a simulated client boots on, as `nicsim boot` and
/// `nicsim rom run` set it up: the card's port on a virtual switch (with
/// the fault profile), and on the switch's far side either the embedded
/// BootServer, a host interface through libpcap, or a QEMU stream socket.
/// Live peers are outside event sources, so virtual time is paced to real
/// time with them (`RealTimePacer`). With a capture path every frame
/// crossing the switch goes to a pcapng file. Every TFTP transfer the card
/// makes is followed on its port (`transfers`), for the summary.
public final class BootNetwork {
    /// What sits on the far side of the switch.
    public enum Peer {
        /// The embedded DHCP + TFTP server at 10.0.2.2, leasing
        /// 10.0.2.100-199 and serving `directory`; `bootFile` is the DHCP
        /// boot file (the server's default, pxelinux.0, when nil). `hint`
        /// ends the error line when the directory can't be served.
        case embedded(directory: String, bootFile: String?, hint: String)
        /// A host interface through libpcap, or a TAP device.
        case host(HostLinkOptions)
        /// A QEMU stream netdev at this UNIX socket path.
        case qemuSocket(String)
    }

    /// The switch the card is port 0 of.
    public let fabric: VirtualSwitch
    /// The embedded server, when the peer is `.embedded`.
    public let server: BootServer?
    /// How the summary names the network.
    public let name: String
    /// Every TFTP transfer the card made, from the frames on its port.
    public let transfers: TFTPTransferLog
    /// The host interface or TAP, when the peer is `.host`.
    public let hostLink: HostLink?
    private let qemu: QEMUSocket?
    private let recorder: SwitchCapture?
    private var closed = false

    /// Connects `device` (the card's port, whose MAC is `macAddress`) to
    /// `peer` on a new switch on `board`'s clock; a host link follows
    /// `card`'s receive filter. Throws one line a user can act on.
    /// `uefiBootFiles` makes the embedded server hand `nbp` to UEFI clients
    /// and `script` to iPXE once it runs; `configure` then adjusts the
    /// embedded server's configuration (boot files, HTTP) before it starts.
    /// Other peers ignore both.
    public init(board: Board, device: FramePort, macAddress: MACAddress, peer: Peer, follow card: StationFilterSource? = nil,
                faults: FaultProfile = .none, seed: UInt64 = 1, capture: String? = nil,
                advise: (String) -> Void = { _ in }, uefiBootFiles: (nbp: String, script: String)? = nil,
                configure: (inout BootServerConfiguration) -> Void = { _ in }) throws(NICSimError) {
        let network = VirtualSwitch(clock: board.clock, seed: seed)
        network.connect(device: device, faults: faults)
        var server: BootServer?
        var live: HostLink?
        var qemu: QEMUSocket?
        switch peer {
        case let .embedded(directory, bootFile, hint):
            var config = BootServerConfiguration(mac: MACAddress(0x02, 0x6E, 0x69, 0x63, 0x73, 0x01), ip: IPv4Address(10, 0, 2, 2),
                                                 pool: IPv4Address(10, 0, 2, 100)...IPv4Address(10, 0, 2, 199), tftpRoot: directory)
            config.router = IPv4Address(10, 0, 2, 2)
            if let bootFile { config.biosBootFile = bootFile }
            if let uefiBootFiles {
                config.efiBootFile = uefiBootFiles.nbp
                config.ipxeBootFile = uefiBootFiles.script
            }
            configure(&config)
            let s: BootServer
            do { s = try BootServer(configuration: config, clock: board.clock, seed: seed) } catch {
                throw NICSimError("\(error.description); \(hint)")
            }
            network.connect(device: s.port, faults: faults)
            board.add(port: s.port)
            server = s
            name = "embedded server 10.0.2.2 on a virtual switch"
        case let .host(options):
            live = try options.open(port: network.addBackendPort().port, macAddress: macAddress, advise: advise)
            if let live {
                board.add(source: live)
                if let card { board.add(source: StationFollower(card: card, link: live)) }
            }
            board.add(source: RealTimePacer(clock: board.clock))
            name = options.name ?? "host"
        case let .qemuSocket(path):
            do {
                qemu = try QEMUSocket(.connect(.unix(path: path)), port: network.addBackendPort().port)
            } catch { throw NICSimError("can't join \(path): \(error)") }
            qemu.map { board.add(source: $0) }
            board.add(source: RealTimePacer(clock: board.clock))
            name = "QEMU socket \(path)"
        }
        if let capture {
            do { recorder = try SwitchCapture(path: capture, switch: network) } catch {
                throw NICSimError("can't write \(capture): \(error)")
            }
        } else {
            recorder = nil
        }
        transfers = TFTPTransferLog(station: macAddress)
        TransferLogTap.attach(transfers, port: 0, of: network)
        fabric = network
        self.server = server
        hostLink = live
        self.qemu = qemu
    }

    /// Finishes the capture file (the live peers close with the process).
    public func close() {
        guard !closed else { return }
        closed = true
        try? recorder?.close()
    }
}
