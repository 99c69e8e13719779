import Board
import NE2000
import NICCore
import PXE
import RTL8139
import UNDI
import VirtioNet
import Wire

/// The PXE client, fed a server's frames: the whole boot a PC's ROM and
/// the built-in pxelinux do (UNDI bring-up, DHCP with proxyDHCP and
/// boot-server discovery, the NBP over TFTP, pxelinux's configuration
/// search, kernel and initrds), on a real card and its UNDI driver. The
/// server's frames come in through the card, so they take the client's
/// real receive path: model, driver, UNDI, base code.
///
/// The first byte picks the card (RTL8139, RTL8029 or virtio-net). The
/// rest is the server's side of the conversation, one response per frame
/// the client sends: records up to an end record, each a raw frame, a UDP
/// answer to the client's frame (headers and checksums filled in) or an
/// ARP reply. When the input runs out the server falls silent and the
/// client gives up on its own timeouts, in virtual time. Whatever the
/// server said, the ROM's PXENV+ and !PXE structures (in the ROM's
/// segments, above everything a boot loads) are intact afterwards.
enum PXEClientFuzz {
    static let serverMAC = MACAddress(0x52, 0x54, 0x00, 0x00, 0x00, 0x02)
    static let serverIP = IPv4Address(10, 0, 2, 2)
    static let ramSize = 4 << 20
    /// Responses per input (each follows one frame from the client).
    static let maxResponses = 4096

    enum Record: UInt8, CaseIterable {
        /// flags u8 (bit 0: repair checksums), length u16, bytes.
        case frame
        /// length u16, payload: a UDP answer to the client's frame.
        case reply
        /// The ARP reply the server would give to the client's request.
        case arpReply
        /// Ends this response; the next one answers the client's next frame.
        case end
    }

    /// A card of `kind` on `board` with its UNDI driver.
    static func card(_ kind: UInt8, on board: Board) -> (NetworkDevice, NICDriver) {
        let slot = PCIAddress(device: 3)
        let mac = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
        let device: NetworkDevice & PCIFunction
        let driver: NICDriver
        let bus = DriverBus(board: board)
        switch kind % 3 {
        case 0:
            device = RTL8139(macAddress: mac, memory: board.memory, clock: board.clock)
            driver = RTL8139Driver(bus: bus, address: slot)
        case 1:
            device = RTL8029(macAddress: mac)
            driver = NE2000Driver(bus: bus, location: .pci(slot))
        default:
            device = VirtioNet(configuration: VirtioNetConfiguration(macAddress: mac, queueSize: 64), memory: board.memory, clock: board.clock)
            driver = VirtioNetDriver(bus: bus, address: slot)
        }
        board.attach(device, at: slot)
        board.assignResources()
        board.add(port: device.port)
        return (device, driver)
    }

    /// The server's side: for each frame the client sends, the next
    /// response from the input, delivered a microsecond later.
    final class ScriptedServer: FrameTransmitter {
        let clock: VirtualClock
        let port: FramePort
        var input: FuzzInput
        private var responses = 0
        private var pending: [[UInt8]] = []

        init(port: FramePort, clock: VirtualClock, input: FuzzInput) {
            self.port = port
            self.clock = clock
            self.input = input
            port.transmitter = self
        }

        func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
            guard !input.isAtEnd, responses < PXEClientFuzz.maxResponses else { return }
            responses += 1
            let sent = Array(frame)
            var frames: [[UInt8]] = []
            while !input.isAtEnd {
                guard let record = Record(rawValue: input.u8() % UInt8(Record.allCases.count)) else { continue }
                switch record {
                case .frame:
                    let flags = input.u8()
                    var f = Array(input.take(Int(input.u16() % 1519)))
                    if flags & 1 != 0 { FrameChecksums.fix(&f) }
                    frames.append(f)
                case .reply:
                    let payload = input.take(Int(input.u16() % 1473))
                    if let f = FuzzFrames.reply(to: sent, payload: payload, mac: PXEClientFuzz.serverMAC, ip: PXEClientFuzz.serverIP) {
                        frames.append(f)
                    }
                case .arpReply:
                    if let f = PXEClientFuzz.arpReply(to: sent) { frames.append(f) }
                case .end:
                    break
                }
                if record == .end { break }
            }
            guard !frames.isEmpty else { return }
            // Never from inside the client's transmit: a microsecond later, on the clock.
            let wasIdle = pending.isEmpty
            pending += frames
            if wasIdle {
                _ = clock.schedule(after: VirtualClock.microsecond) { [weak self] in self?.deliver() }
            }
        }

        private func deliver() {
            let frames = pending
            pending = []
            for f in frames { f.withUnsafeBytes { _ = port.offer($0) } }
        }
    }

    /// The server's answer to an ARP request in `frame`, if it is one.
    static func arpReply(to frame: [UInt8]) -> [UInt8]? {
        guard frame.count >= EthernetHeader.size + ARPPacket.size else { return nil }
        let request = frame.withUnsafeBytes { try? ARPPacket(parsing: UnsafeRawBufferPointer(rebasing: $0[EthernetHeader.size...])) }
        guard let request, request.operation == .request else { return nil }
        let reply = ARPPacket(operation: .reply, senderMAC: serverMAC, senderIP: request.targetIP,
                              targetMAC: request.senderMAC, targetIP: request.senderIP)
        var out = [UInt8](repeating: 0, count: 60)
        out.withUnsafeMutableBytes { p in
            try? EthernetHeader(destination: request.senderMAC, source: serverMAC, etherType: .arp).write(to: p)
            try? reply.write(to: UnsafeMutableRawBufferPointer(rebasing: p[EthernetHeader.size...]))
        }
        return out
    }

    static func run(_ input: inout FuzzInput) {
        let board = Board(memorySize: ramSize)
        let (device, driver) = card(input.u8(), on: board)
        let server = ScriptedServer(port: device.port, clock: board.clock, input: input)
        guard let client = try? PXEClient(board: board, driver: driver) else { return }
        // Keep the loader below the driver's DMA buffers (the upper half of RAM).
        client.loader.loadLimit = UInt64(ramSize / 2)
        _ = try? client.boot()
        input = server.input
        let layout = client.api.layout
        let pxenv = try? board.memory.readBytes(at: layout.pxenvAddress.linear, count: PXEStructures.pxenvLength)
        let bangPXE = try? board.memory.readBytes(at: layout.bangPXEAddress.linear, count: PXEStructures.bangPXELength)
        precondition(pxenv == PXEStructures.pxenv(layout) && bangPXE == PXEStructures.bangPXE(layout),
                     "the boot overwrote the ROM's PXENV+ or !PXE structure")
    }
}
