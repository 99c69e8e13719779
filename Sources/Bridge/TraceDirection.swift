/// Which way a frame crossed an interface, as pcapng's `epb_flags` records
/// it. For a switch port, inbound means into the switch from the attached
/// device or backend; for a NIC, a frame it received.
public enum TraceDirection: Sendable, Equatable {
    /// Received on the interface (epb_flags direction 01).
    case inbound
    /// Sent from the interface (epb_flags direction 10).
    case outbound
}
