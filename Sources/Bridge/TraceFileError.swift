/// Why a trace file could not be read or written. Every problem with a
/// file's contents names the byte offset where it was found.
public enum TraceFileError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or created.
    case cannotOpen(path: String, reason: String)
    /// The contents break the format at `offset`.
    case malformed(offset: UInt64, reason: String)
    /// The file ends inside a header, record or block that starts at `offset`.
    case truncated(offset: UInt64, reason: String)
    /// Reading or writing failed in the operating system.
    case io(reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open \(path): \(reason)"
        case .malformed(let offset, let reason): "byte \(offset): \(reason)"
        case .truncated(let offset, let reason): "byte \(offset): file ends inside \(reason)"
        case .io(let reason): reason
        }
    }

    /// The byte offset the error names, if it is about the contents.
    public var offset: UInt64? {
        switch self {
        case .malformed(let o, _), .truncated(let o, _): o
        default: nil
        }
    }
}
