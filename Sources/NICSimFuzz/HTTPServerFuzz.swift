import BootServer
import NICCore
import Wire

/// The boot server's HTTP file server and the TCP under it, fed segments
/// from up to four client connections whose sequence and acknowledgment
/// numbers the stream sets relative to what each side has sent (so it
/// reaches established connections, responses in flight and closing), or
/// anything at all; raw frames; and time. The first byte picks the
/// connection limit and whether the server is also a proxyDHCP (which
/// must not matter to HTTP). Requests are drawn from templates (GET, HEAD,
/// ranges, pipelined, bad) or taken from the input as they are.
///
/// Every frame the server sends must be well formed: at most 1514 bytes,
/// IPv4 frames valid UDP or TCP (lengths and checksums right), no TCP
/// payload beyond 1460 bytes, never more connections than the limit.
enum HTTPServerFuzz {
    static let serverMAC = MACAddress(0x52, 0x54, 0x00, 0x00, 0x00, 0x02)
    static let serverIP = IPv4Address(10, 0, 2, 2)
    static let httpPort: UInt16 = 80
    static let maxOps = 4096
    static let maxVirtualTime = 600 * VirtualClock.second

    enum Op: UInt8, CaseIterable {
        /// connection u8, ISN u32, MSS u16 (0: no option), window u16: a SYN.
        case connect
        /// connection u8, flags u8, sequence delta u16 (signed), ack mode
        /// u8, window u16, length u16, payload: one segment.
        case segment
        /// connection u8, template u8: a request with correct numbers.
        case request
        /// connection u8: ACK everything the server sent to it.
        case ackAll
        /// flags u8 (bit 0: repair checksums), length u16, bytes.
        case frame
        /// milliseconds u16.
        case advance
    }

    static let templates: [String] = [
        "GET /boot.ipxe HTTP/1.1\r\nHost: 10.0.2.2\r\n\r\n",
        "GET /large.bin HTTP/1.1\r\nHost: 10.0.2.2\r\nConnection: keep-alive\r\n\r\n",
        "HEAD /pxelinux.0 HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /vmlinuz HTTP/1.1\r\nHost: h\r\nRange: bytes=100-2999\r\n\r\nGET /initrd.img HTTP/1.0\r\n\r\n",
        "GET /large.bin HTTP/1.1\r\nHost: h\r\nRange: bytes=-70000\r\n\r\n",
        "GET /sub/dir/file HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET /escape HTTP/1.1\r\nHost: h\r\n\r\nGET /../x HTTP/1.1\r\nHost: h\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
        "GET /%41%zz HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET http://10.0.2.2/notes.txt?x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        "\r\n\r\nGET /boot.ipxe HTTP/1.1\r\nHost: h\r\nRange: bytes=99999-\r\n\r\n",
        "GET /",
    ]

    /// A client connection as the stream tracks it.
    struct Client {
        var port: UInt16
        var sequence: UInt32 = 0
        /// One past the highest sequence number the server used toward it.
        var serverNext: UInt32 = 0
        var open = false
    }

    final class Wire: FrameTransmitter {
        var frames: [[UInt8]] = []
        func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
            precondition(frame.count >= EthernetHeader.size && frame.count <= 1514, "the server sent a \(frame.count)-byte frame")
            guard let ethernet = try? EthernetHeader(parsing: frame), ethernet.etherType == .ipv4 else { return }
            if let segment = try? TCPSegment(parsing: frame) {
                precondition(segment.payloadRange.count <= 1460, "the server sent a \(segment.payloadRange.count)-byte segment")
                precondition(segment.ip.source == serverIP, "a segment from \(segment.ip.source)")
                frames.append(Array(frame))
            } else {
                precondition((try? UDPDatagram(parsing: frame)) != nil, "the server sent a malformed IPv4 frame")
            }
        }
    }

    static func run(_ input: inout FuzzInput) {
        let flags = input.u8()
        var c = BootServerConfiguration(mac: serverMAC, ip: serverIP, pool: IPv4Address(10, 0, 2, 100)...IPv4Address(10, 0, 2, 103),
                                        tftpRoot: FuzzTFTPRoot.path)
        c.httpPort = httpPort
        c.proxyDHCP = flags & 1 != 0
        let clock = VirtualClock()
        guard let server = try? BootServer(configuration: c, clock: clock), let http = server.http else {
            preconditionFailure("the boot server cannot serve \(FuzzTFTPRoot.path) over HTTP")
        }
        let limit = 1 + Int(flags >> 1) % 4
        http.maximumConnections = limit
        let wire = Wire()
        server.port.transmitter = wire
        var clients = (0..<4).map { Client(port: 40000 + UInt16($0)) }
        let clientMAC = MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56)
        let clientIP = IPv4Address(10, 0, 2, 100)
        let buffer = FrameBuffer(capacity: 1514)

        func send(_ i: Int, sequence: UInt32, ack: UInt32, flags: TCPHeader.Flags, window: UInt16, mss: UInt16? = nil,
                  payload: UnsafeRawBufferPointer) {
            let header = TCPHeader(sourcePort: clients[i].port, destinationPort: httpPort, sequenceNumber: sequence,
                                   acknowledgmentNumber: ack, flags: flags, window: window, maximumSegmentSize: mss)
            let area = TCPFrame.payloadArea(of: buffer)
            let n = mss == nil ? min(payload.count, area.count) : 0
            if n > 0 { UnsafeMutableRawBufferPointer(rebasing: area[0..<n]).copyMemory(from: UnsafeRawBufferPointer(rebasing: payload[0..<n])) }
            guard (try? TCPFrame.finish(buffer, sourceMAC: clientMAC, destinationMAC: serverMAC, source: clientIP, destination: serverIP,
                                        header: header, payloadCount: n)) != nil else { return }
            _ = server.port.offer(buffer.bytes)
            collect()
        }

        /// Learns from the server's segments how far it has sent to each client.
        func collect() {
            for frame in wire.frames {
                frame.withUnsafeBytes { bytes in
                    guard let s = try? TCPSegment(parsing: bytes),
                          let i = clients.firstIndex(where: { $0.port == s.tcp.destinationPort }) else { return }
                    let end = s.tcp.sequenceNumber &+ UInt32(truncatingIfNeeded: s.sequenceLength)
                    if s.tcp.flags.contains(.syn) { clients[i].serverNext = end }
                    if end &- clients[i].serverNext < 1 << 31 { clients[i].serverNext = end }
                    if s.tcp.flags.contains(.rst) { clients[i].open = false }
                }
            }
            wire.frames.removeAll(keepingCapacity: true)
            precondition(http.activeConnections <= limit, "\(http.activeConnections) connections, limit \(limit)")
        }

        var ops = 0
        while !input.isAtEnd, ops < maxOps {
            ops += 1
            guard let op = Op(rawValue: input.u8() % UInt8(Op.allCases.count)) else { continue }
            switch op {
            case .connect:
                let i = Int(input.u8() % 4)
                let isn = input.u32()
                let mss = input.u16()
                let window = input.u16()
                clients[i].sequence = isn &+ 1
                clients[i].open = true
                send(i, sequence: isn, ack: 0, flags: .syn, window: window, mss: mss == 0 ? nil : mss, payload: UnsafeRawBufferPointer(start: nil, count: 0))
                send(i, sequence: clients[i].sequence, ack: clients[i].serverNext, flags: .ack, window: window,
                     payload: UnsafeRawBufferPointer(start: nil, count: 0))
            case .segment:
                let i = Int(input.u8() % 4)
                let flagBits = TCPHeader.Flags(rawValue: input.u8() & 0x1F)
                let delta = Int16(bitPattern: input.u16())
                let ackMode = input.u8()
                let window = input.u16()
                let payload = input.take(Int(input.u16() % 1461))
                let sequence = clients[i].sequence &+ UInt32(bitPattern: Int32(delta))
                let ack: UInt32 = switch ackMode % 4 {
                case 0: clients[i].serverNext
                case 1: clients[i].serverNext &- UInt32(ackMode >> 2)
                case 2: clients[i].serverNext &+ UInt32(ackMode >> 2)
                default: input.u32()
                }
                send(i, sequence: sequence, ack: ack, flags: flagBits, window: window, payload: payload)
                if delta == 0 {
                    clients[i].sequence &+= UInt32(truncatingIfNeeded: payload.count + (flagBits.contains(.fin) ? 1 : 0))
                }
            case .request:
                let i = Int(input.u8() % 4)
                let text = Array(templates[Int(input.u8()) % templates.count].utf8)
                text.withUnsafeBytes { send(i, sequence: clients[i].sequence, ack: clients[i].serverNext, flags: [.ack, .psh], window: 65535, payload: $0) }
                clients[i].sequence &+= UInt32(text.count)
            case .ackAll:
                let i = Int(input.u8() % 4)
                send(i, sequence: clients[i].sequence, ack: clients[i].serverNext, flags: .ack, window: 65535,
                     payload: UnsafeRawBufferPointer(start: nil, count: 0))
            case .frame:
                let flags = input.u8()
                var frame = Array(input.take(Int(input.u16() % 1515)))
                if flags & 1 != 0 { FrameChecksums.fix(&frame) }
                frame.withUnsafeBytes { _ = server.port.offer($0) }
                collect()
            case .advance:
                guard clock.now < maxVirtualTime else { continue }
                clock.advance(by: UInt64(input.u16()) * VirtualClock.millisecond)
                collect()
            }
        }
    }
}
