/// Why a frame or message was refused. Parsers throw these instead of
/// trusting lengths that came off the wire.
public enum WireError: Error, Sendable, Equatable {
    /// Fewer bytes than the header or a length field needs.
    case truncated
    /// A version, type or length field holds a value the format forbids.
    case malformed
    /// A checksum over the received bytes does not verify.
    case badChecksum
    /// The output buffer is too small for what was asked to be written.
    case noRoom
}
