import NICCore

/// Records a switch's traffic in a pcapng file: one interface per switch
/// port ("port 0", "port 1", ...), every frame entering the switch as
/// inbound on its port and every frame a port delivers (after faults) as
/// outbound, stamped with the virtual clock; frames the corruption fault
/// spoiled appear as outbound with the CRC-error flag. Open it in Wireshark
/// to see in and out per port. The first write error stops the capture and is
/// kept in `error`; the switch goes on.
public final class SwitchCapture: SwitchTap {
    public let writer: PcapNGWriter
    /// Nanoseconds added to virtual time for the file's timestamps (the
    /// wall-clock start of the run, say), so files sort sensibly.
    public let epoch: UInt64
    @exclusivity(unchecked)
    public private(set) var error: TraceFileError?
    @exclusivity(unchecked)
    public private(set) var framesWritten = 0

    /// Creates `path` and starts recording `switch` (it becomes the switch's tap).
    public init(path: String, switch sw: VirtualSwitch, epoch: UInt64 = 0) throws(TraceFileError) {
        writer = try PcapNGWriter(path: path, interfaces: [])
        self.epoch = epoch
        sw.tap = self
    }

    public func switchPort(_ index: Int, saw frame: UnsafeRawBufferPointer, direction: TraceDirection, at time: UInt64) {
        record(frame, port: index, direction: direction, crcError: false, at: time)
    }

    /// A frame the fault injector corrupted: written as outbound on its port
    /// with the CRC-error flag, so Wireshark shows what the NIC never got.
    public func switchPort(_ index: Int, droppedBadFCS frame: UnsafeRawBufferPointer, at time: UInt64) {
        record(frame, port: index, direction: .outbound, crcError: true, at: time)
    }

    private func record(_ frame: UnsafeRawBufferPointer, port index: Int, direction: TraceDirection, crcError: Bool, at time: UInt64) {
        guard error == nil else { return }
        do {
            while writer.interfaces.count <= index {
                try writer.addInterface(.init(name: "port \(writer.interfaces.count)"))
            }
            try writer.write(frame, interface: index, timestamp: epoch &+ time, direction: direction, crcError: crcError)
            framesWritten += 1
        } catch {
            self.error = error
        }
    }

    /// Flushes and closes the file.
    public func close() throws(TraceFileError) {
        if let error { throw error }
        try writer.close()
    }
}
