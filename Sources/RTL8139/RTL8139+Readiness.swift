import NICCore

/// The RTL8139 takes frames while its clock runs and CR.RE is set.
extension RTL8139: ReceiveReadiness {
    public var mightReceive: Bool { clockRunning && receiverEnabled }
}
