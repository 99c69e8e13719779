/// Why a host interface could not be opened for bridging. Each case reads
/// as one line telling the user what to do.
public enum LiveCaptureError: Error, Equatable, CustomStringConvertible {
    case noSuchInterface(String, available: [String])
    case permissionDenied(String)
    case interfaceDown(String)
    case namespace(String)
    case failed(String, reason: String)

    public var description: String {
        switch self {
        case .noSuchInterface(let name, let available):
            let list = available.isEmpty ? "none visible" : available.joined(separator: ", ")
            return "interface \(name) not found (available: \(list)): pass one of them to --bridge"
        case .permissionDenied(let name):
            return "no permission to capture on \(name): run nicsim as root, or grant it CAP_NET_RAW and CAP_NET_ADMIN with `sudo setcap cap_net_raw,cap_net_admin=eip $(command -v nicsim)`"
        case .interfaceDown(let name):
            return "interface \(name) is down: bring it up with `ip link set \(name) up` and try again"
        case .namespace(let reason):
            return reason
        case .failed(let name, let reason):
            return "cannot capture on \(name): \(reason)"
        }
    }
}
