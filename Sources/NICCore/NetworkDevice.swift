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

/// What a card's receive filter admits right now, as its driver programmed
/// it: the unicast station address and whether the guest asked for every
/// frame. A host link follows it (a host interface's own address filter
/// must let the station address in; promiscuous mode only when asked).
public struct StationFilter: Sendable, Equatable {
    /// The station address (RTL8139 IDR0-5, DP8390 PAR0-5, virtio-net's
    /// current MAC).
    public var address: MACAddress
    /// The guest asked for every frame (RTL8139 RCR.AAP, DP8390 RCR.PRO,
    /// virtio-net VIRTIO_NET_CTRL_RX_PROMISC with CTRL_RX negotiated).
    public var promiscuous: Bool

    public init(address: MACAddress, promiscuous: Bool) {
        self.address = address
        self.promiscuous = promiscuous
    }
}

/// A card whose host can follow its receive filter.
public protocol StationFilterSource: AnyObject {
    /// The filter as the guest's driver left it.
    var stationFilter: StationFilter { get }
}
