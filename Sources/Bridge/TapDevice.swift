#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import NICCore

/// Why a TAP device could not be opened. Each case reads as one line
/// telling the user what to do.
public enum TapDeviceError: Error, Equatable, CustomStringConvertible {
    case invalidName(String)
    case noTunDevice(String)
    case permissionDenied(String)
    case busy(String)
    case namespace(String)
    case noSuchBridge(tap: String, bridge: String)
    case failed(String, reason: String)

    public var description: String {
        switch self {
        case .invalidName(let name):
            return "TAP name \(name) is not valid: use 1 to 15 characters without '/', spaces or '%'"
        case .noTunDevice(let reason):
            return "cannot open /dev/net/tun (\(reason)): load the tun module (`modprobe tun`) or create the device node"
        case .permissionDenied(let name):
            return "no permission to open TAP \(name): run nicsim as root, give it CAP_NET_ADMIN "
                + "(`sudo setcap cap_net_raw,cap_net_admin=eip $(command -v nicsim)`), or make the TAP yours "
                + "(`sudo ip tuntap add mode tap \(name) user $USER`)"
        case .busy(let name):
            return "TAP \(name) is in use by another program (or is not a TAP): pick another name"
        case .namespace(let reason):
            return reason
        case .noSuchBridge(let tap, let bridge):
            return "cannot attach TAP \(tap) to \(bridge): \(bridge) is not a Linux bridge here (create it with `ip link add \(bridge) type bridge`)"
        case .failed(let name, let reason):
            return "TAP \(name): \(reason)"
        }
    }
}

/// A TAP device as a backend: the way QEMU's `-netdev tap` and `bridge`
/// reach the host. The card's frames are written to /dev/net/tun and come
/// out of the host interface `interface` as if a NIC had received them, so
/// the host's own stack (a DHCP/TFTP server on this host, a Linux bridge
/// the TAP is a port of) talks to the simulated client, which a libpcap
/// capture cannot do.
///
/// The device is opened with `IFF_TAP | IFF_NO_PI | IFF_VNET_HDR`: every
/// frame carries a 10-byte virtio-net header (struct virtio_net_hdr,
/// virtio 1.x 5.1.6). The reader accepts checksum offload (`TUN_F_CSUM`)
/// and no segmentation offload, so the kernel hands over partial checksums
/// marked NEEDS_CSUM, which are finished here as a NIC would, and never a
/// frame larger than the MTU. DATA_VALID needs nothing: the checksum is
/// already right. Frames written carry a header of zeros (no offload).
///
/// A TAP missing at open is created, brought up, and (with `attach`) made
/// a port of a Linux bridge; it disappears when nicsim closes it. An
/// existing (persistent) TAP is used as it is, and a bridge port nicsim
/// added is removed again at close.
///
/// `poll()` reads without blocking on the Board's thread into one
/// preallocated buffer; nothing allocates per frame.
public final class TapDevice: HostLink {
    public let interface: String
    public let port: FramePort
    /// True when nicsim created the device (it goes when nicsim closes it).
    public let created: Bool
    /// The bridge the TAP was made a port of, if any.
    public let bridge: String?
    public let completeChecksums: Bool
    public private(set) var counters = HostLinkCounters()
    public private(set) var failure: String?
    /// A TAP receives whatever its reader writes: no filter to program.
    public var addressFilter: HostAddressFilter { .passesEverything(driver: "tun") }
    /// Where a stopped link is reported (stderr by default).
    public var log: (String) -> Void = { message in
        let line = Array("nicsim: \(message)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// struct virtio_net_hdr without num_buffers: the kernel's default
    /// TUNSETVNETHDRSZ.
    static let headerSize = 10
    /// The largest frame read or written: a 64 KiB buffer covers any MTU
    /// the kernel can hand over without segmentation offload.
    static let bufferSize = 65536 + 16

    private var fd: Int32
    private let networkNamespace: String?
    private let detachOnClose: Bool
    private let receiveBuffer: UnsafeMutableRawBufferPointer
    private let transmitHeader: UnsafeMutableRawBufferPointer
    private let vectors: UnsafeMutablePointer<iovec>

    /// Opens (creating if missing) the TAP `name` and joins it to `port`,
    /// which this device becomes the transmitter of. With `attach`, the TAP
    /// becomes a port of that Linux bridge.
    public init(name: String, port: FramePort, attach: String? = nil, completeChecksums: Bool = true,
                networkNamespace: String? = nil) throws(TapDeviceError) {
        guard Self.isValidName(name) else { throw .invalidName(name) }
        if let attach, !Self.isValidName(attach) { throw .noSuchBridge(tap: name, bridge: attach) }
        let opened: Result<(fd: Int32, created: Bool, attached: Bool), TapDeviceError>
        if let networkNamespace {
            do {
                opened = try NetworkNamespace.run(networkNamespace) { Self.open(name, attach: attach) }
            } catch {
                throw .namespace(error.description)
            }
        } else {
            opened = Self.open(name, attach: attach)
        }
        let handle = try opened.get()
        fd = handle.fd
        created = handle.created
        detachOnClose = handle.attached && !handle.created
        interface = name
        bridge = attach
        self.port = port
        self.completeChecksums = completeChecksums
        self.networkNamespace = networkNamespace
        receiveBuffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
        transmitHeader = .allocate(byteCount: Self.headerSize, alignment: 16)
        transmitHeader.initializeMemory(as: UInt8.self, repeating: 0)
        vectors = .allocate(capacity: 2)
        vectors.initialize(repeating: iovec(), count: 2)
        port.transmitter = self
        port.setLink(up: true)
    }

    deinit {
        close()
        receiveBuffer.deallocate()
        transmitHeader.deallocate()
        vectors.deallocate()
    }

    static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        return (1..<16).contains(bytes.count)
            && !bytes.contains { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "%") || $0 <= 0x20 || $0 >= 0x7F }
    }

    // MARK: Opening

    /// open(/dev/net/tun), TUNSETIFF, TUNSETOFFLOAD, O_NONBLOCK; bring the
    /// interface up; SIOCBRADDIF. In the calling thread's namespace.
    private static func open(_ name: String, attach: String?) -> Result<(fd: Int32, created: Bool, attached: Bool), TapDeviceError> {
        let existed = if_nametoindex(name) != 0
        let fd = Glibc.open("/dev/net/tun", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            return .failure(e == EACCES || e == EPERM ? .permissionDenied(name) : .noTunDevice(String(cString: strerror(e))))
        }
        var rc = nicsim_tap_set_iff(fd, name)
        guard rc == 0 else {
            Glibc.close(fd)
            switch -rc {
            case EPERM, EACCES: return .failure(.permissionDenied(name))
            case EBUSY, EINVAL: return .failure(.busy(name))
            default: return .failure(.failed(name, reason: "TUNSETIFF: \(String(cString: strerror(-rc)))"))
            }
        }
        func fail(_ what: String, _ code: Int32) -> Result<(fd: Int32, created: Bool, attached: Bool), TapDeviceError> {
            Glibc.close(fd)
            return .failure(code == EPERM || code == EACCES ? .permissionDenied(name) : .failed(name, reason: "\(what): \(String(cString: strerror(code)))"))
        }
        rc = nicsim_tap_set_vnet_hdr_size(fd, Int32(headerSize))
        guard rc == 0 else { return fail("TUNSETVNETHDRSZ", -rc) }
        rc = nicsim_tap_accept_checksum_offload(fd)
        guard rc == 0 else { return fail("TUNSETOFFLOAD", -rc) }
        let fl = fcntl(fd, F_GETFL)
        guard fl >= 0, fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 else { return fail("O_NONBLOCK", errno) }

        let sock = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard sock >= 0 else { return fail("socket", errno) }
        defer { Glibc.close(sock) }
        rc = nicsim_if_bring_up(sock, name)
        guard rc == 0 else { return fail("bringing it up", -rc) }
        var attached = false
        if let attach {
            guard InterfaceInfo.isBridge(attach) else {
                Glibc.close(fd)
                return .failure(.noSuchBridge(tap: name, bridge: attach))
            }
            rc = nicsim_bridge_add_port(sock, attach, Int32(bitPattern: if_nametoindex(name)))
            // EBUSY: already a port of a bridge (this one, for a persistent TAP).
            guard rc == 0 || (-rc == EBUSY && existed) else { return fail("adding it to bridge \(attach)", -rc) }
            attached = rc == 0
        }
        return .success((fd, !existed, attached))
    }

    /// Closes the device: a TAP nicsim created disappears; an existing one
    /// leaves the bridge nicsim put it in.
    public func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
        port.setLink(up: false)
        if detachOnClose, let bridge {
            let name = interface
            let detach = {
                let sock = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                guard sock >= 0 else { return }
                _ = nicsim_bridge_remove_port(sock, bridge, Int32(bitPattern: if_nametoindex(name)))
                Glibc.close(sock)
            }
            if let networkNamespace { _ = try? NetworkNamespace.run(networkNamespace, detach) } else { detach() }
        }
    }

    /// A TAP hands over whatever is written to it: nothing to follow.
    public func update(macAddress: MACAddress, promiscuous: Bool) {}

    // MARK: Event loop

    /// Reads what the host sent (at most 256 frames per pass), finishes
    /// NEEDS_CSUM checksums and offers each frame to the port.
    public func poll() -> Bool {
        guard fd >= 0, failure == nil, let base = receiveBuffer.baseAddress else { return false }
        var n = 0
        while n < 256 {
            let got = read(fd, base, receiveBuffer.count)
            if got < 0 {
                let e = errno
                if e == EAGAIN || e == EWOULDBLOCK || e == EINTR { break }
                failure = String(cString: strerror(e))
                log("TAP \(interface) stopped: \(failure ?? "")")
                port.setLink(up: false)
                break
            }
            if got == 0 { break }
            n += 1
            deliver(count: got)
        }
        return n > 0
    }

    /// One read: the virtio-net header, then the frame.
    private func deliver(count: Int) {
        guard count > Self.headerSize + 13 else {
            counters.droppedMalformed += 1
            return
        }
        let header = UnsafeRawBufferPointer(rebasing: receiveBuffer[0..<Self.headerSize])
        let frame = UnsafeMutableRawBufferPointer(rebasing: receiveBuffer[Self.headerSize..<count])
        // No segmentation offload was accepted, so a GSO frame is malformed.
        guard header[1] == VirtioNetHeaderFlags.gsoNone else {
            counters.droppedMalformed += 1
            return
        }
        if header[0] & VirtioNetHeaderFlags.needsChecksum != 0 {
            let start = Int(header[6]) | Int(header[7]) << 8
            let offset = Int(header[8]) | Int(header[9]) << 8
            if completeChecksums {
                guard ChecksumOffload.complete(frame, start: start, offset: offset) else {
                    counters.droppedMalformed += 1
                    return
                }
                counters.checksumsCompleted += 1
            }
        }
        counters.framesIn += 1
        counters.bytesIn += frame.count
        port.offer(UnsafeRawBufferPointer(frame))
    }

    // MARK: Transmit

    /// A frame from the NIC goes to the host: a zero header, then the frame
    /// (writev, so the frame is not copied).
    public func transmit(frame: UnsafeRawBufferPointer, from port: FramePort) {
        guard fd >= 0, let base = frame.baseAddress, frame.count > 0 else {
            counters.injectErrors += 1
            return
        }
        vectors[0] = iovec(iov_base: transmitHeader.baseAddress, iov_len: Self.headerSize)
        vectors[1] = iovec(iov_base: UnsafeMutableRawPointer(mutating: base), iov_len: frame.count)
        if writev(fd, vectors, 2) == Self.headerSize + frame.count {
            counters.framesOut += 1
        } else {
            counters.injectErrors += 1
        }
    }
}

/// The virtio-net header's flag and GSO values a TAP uses (virtio 1.x
/// 5.1.6: VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE).
enum VirtioNetHeaderFlags {
    static let needsChecksum: UInt8 = 1
    static let dataValid: UInt8 = 2
    static let gsoNone: UInt8 = 0
}
