/// What every NIC model offers its host besides its registers: the wire
/// side, the burnt-in address, and a hardware reset (power-on state).
public protocol NetworkDevice: AnyObject {
    /// Short model name, e.g. "RTL8139".
    var modelName: String { get }
    /// The wire side; a backend attaches here.
    var port: FramePort { get }
    /// The address in the card's PROM/EEPROM/config space.
    var macAddress: MACAddress { get }
    /// Power-on reset: every register to its datasheet reset value.
    func hardwareReset()
}
