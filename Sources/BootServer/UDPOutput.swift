import NICCore
import Wire

/// How the TFTP server puts datagrams on the wire without allocating: it
/// writes the UDP payload straight into the sender's frame buffer, then
/// asks for the headers and the transmission.
protocol UDPOutput: AnyObject {
    /// The address datagrams go out from.
    var address: IPv4Address { get }
    /// Where the next datagram's payload goes.
    var payloadArea: UnsafeMutableRawBufferPointer { get }
    /// Sends the `payloadCount` bytes in `payloadArea` from our port to `destination`.
    func sendUDP(payloadCount: Int, from localPort: UInt16, to destination: UDPEndpoint)
}
