/// A PCI function that can signal MSI or MSI-X messages (PCI Local Bus
/// 3.0 6.8): a message is a DWORD memory write of the Message Data to the
/// Message Address the guest programmed, made by the function as a bus
/// master. The function decides when to send (enable, mask and pending
/// bits are its own); its host decides where the write lands (guest RAM,
/// an interrupt controller, an emulator's callback).
public protocol MessageSignalingFunction: PCIFunction {
    /// Hands every message the function sends to `deliver`, replacing any
    /// earlier receiver.
    func connectMessages(_ deliver: @escaping (_ address: UInt64, _ data: UInt32) -> Void)
}
