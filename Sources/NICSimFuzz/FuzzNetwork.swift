import NICCore
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// Frames the network targets build around payloads from the input, so
/// mutations reach DHCP and TFTP instead of dying at a checksum or an
/// address check.
enum FuzzFrames {
    /// An Ethernet/IPv4/UDP frame with valid headers and checksums.
    static func udp(from source: UDPEndpoint, to destination: UDPEndpoint, payload: UnsafeRawBufferPointer,
                    identification: UInt16 = 0) -> [UInt8] {
        let buffer = FrameBuffer(capacity: 9216)
        let room = UDPFrame.payloadArea(of: buffer).count
        let body = UnsafeRawBufferPointer(rebasing: payload[0..<min(payload.count, room)])
        guard (try? UDPFrame.build(buffer, from: source, to: destination, payload: body, identification: identification)) != nil else { return [] }
        buffer.pad(to: 60)
        return Array(buffer.bytes)
    }

    /// A UDP frame answering `frame` (a UDP frame someone sent): from its
    /// destination back to its source. A frame sent to the broadcast
    /// address is answered from `me` (`mac`, and `ip` when given). Nil when
    /// `frame` is not UDP.
    static func reply(to frame: [UInt8], payload: UnsafeRawBufferPointer, mac: MACAddress, ip: IPv4Address) -> [UInt8]? {
        let parsed = frame.withUnsafeBytes { try? UDPDatagram(parsing: $0) }
        guard let datagram = parsed else { return nil }
        var source = datagram.destination
        if source.mac.isBroadcast { source.mac = mac }
        if source.ip.isBroadcast { source.ip = ip }
        return udp(from: source, to: datagram.source, payload: payload)
    }
}

/// A small TFTP root in a private temporary directory, made once per
/// process and removed at exit: a boot file, a pxelinux configuration, a
/// kernel and an initrd (a few KiB each), a 70 KiB file for windowed and
/// large-block transfers, a text file for netascii, a subdirectory, and
/// a symlink that leaves the root (which the server must refuse).
enum FuzzTFTPRoot {
    static let files: [(String, [UInt8])] = [
        ("pxelinux.0", pattern(2000, seed: 1)),
        ("pxelinux.cfg/default", Array("""
            DEFAULT linux
            PROMPT 0
            LABEL linux
              KERNEL vmlinuz
              APPEND initrd=initrd.img console=ttyS0
              IPAPPEND 3
            LABEL local
              LOCALBOOT 0

            """.utf8)),
        ("vmlinuz", pattern(3000, seed: 2)),
        ("initrd.img", pattern(1500, seed: 3)),
        ("boot.ipxe", Array("#!ipxe\necho hello\n".utf8)),
        ("large.bin", pattern(70 * 1024, seed: 4)),
        ("notes.txt", Array("line one\nline two\r\nbare\r carriage\n".utf8)),
        ("sub/dir/file", pattern(600, seed: 5)),
    ]

    static func pattern(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) }
    }

    /// The root's path.
    static let path: String = {
        var template = Array("/tmp/nicsim-fuzz-tftp-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            preconditionFailure("cannot make a TFTP root: errno \(errno)")
        }
        let root = String(cString: made)
        for (name, bytes) in files {
            var directory = ""
            for part in name.split(separator: "/").dropLast() {
                directory += "/" + part
                mkdir(root + directory, 0o755)
            }
            let fd = open(root + "/" + name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            precondition(fd >= 0, "cannot write \(name) in the TFTP root: errno \(errno)")
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        symlink("/etc/hostname", root + "/escape")
        createdRoot = root
        atexit { FuzzTFTPRoot.remove() }
        return root
    }()

    nonisolated(unsafe) private static var createdRoot = ""

    private static func remove() {
        let root = createdRoot
        guard !root.isEmpty else { return }
        unlink(root + "/escape")
        for (name, _) in files { unlink(root + "/" + name) }
        for directory in ["/sub/dir", "/sub", "/pxelinux.cfg", ""] { rmdir(root + directory) }
    }
}

/// Two ports joined by a cable with a microsecond of delay: each frame one
/// side sends reaches the other on the virtual clock, never from inside
/// the sender's transmit.
final class FuzzCable: FrameTransmitter {
    let a: FramePort
    let b: FramePort
    let clock: VirtualClock
    private var toA: [[UInt8]] = []
    private var toB: [[UInt8]] = []
    private var scheduled = false

    init(_ a: FramePort, _ b: FramePort, clock: VirtualClock) {
        self.a = a
        self.b = b
        self.clock = clock
        a.transmitter = self
        b.transmitter = self
    }

    func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        if port === a { toB.append(Array(frame)) } else { toA.append(Array(frame)) }
        guard !scheduled else { return }
        scheduled = true
        _ = clock.schedule(after: VirtualClock.microsecond) { [weak self] in self?.deliver() }
    }

    private func deliver() {
        scheduled = false
        let forA = toA, forB = toB
        toA = []
        toB = []
        for f in forB { f.withUnsafeBytes { _ = b.offer($0) } }
        for f in forA { f.withUnsafeBytes { _ = a.offer($0) } }
    }
}
