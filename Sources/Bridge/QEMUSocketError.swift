/// Why a QEMU socket could not be set up. Each says what to do in one line.
public enum QEMUSocketError: Error, Equatable, CustomStringConvertible {
    case badAddress(String)
    case system(String)

    public var description: String {
        switch self {
        case .badAddress(let s), .system(let s): s
        }
    }
}
