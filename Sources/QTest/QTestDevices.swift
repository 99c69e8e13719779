import Board
import NICCore

/// Builds the device models behind each `-device` driver name.
enum QTestDevices {
    static func makePCI(_ d: QEMUOptions.Device, mac: MACAddress, board: Board) throws(QEMUOptionsError) -> (PCIFunction, NetworkDevice) {
        throw QEMUOptionsError("-device \(d.driver.rawValue): this model is not in this build of nicsim")
    }

    static func makeISA(_ d: QEMUOptions.Device, mac: MACAddress, board: Board) throws(QEMUOptionsError) -> NetworkDevice {
        throw QEMUOptionsError("-device \(d.driver.rawValue): this model is not in this build of nicsim")
    }
}
