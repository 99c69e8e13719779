import NICCore

/// The DP8390 takes frames from the wire only while started (CR.STA,
/// not STP) and out of loopback (TCR.LB = 00).
extension RTL8029: ReceiveReadiness {
    public var mightReceive: Bool { nic.isStarted && nic.loopbackMode == 0 }
}

extension NE2000ISA: ReceiveReadiness {
    public var mightReceive: Bool { nic.isStarted && nic.loopbackMode == 0 }
}
