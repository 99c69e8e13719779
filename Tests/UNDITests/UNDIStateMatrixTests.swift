import Board
import NICCore
import XCTest

@testable import UNDI

/// Every UNDI opcode in every state: what PXE 2.1's call order allows
/// succeeds, everything else is PXENV_STATUS_UNDI_INVALID_STATE.
final class UNDIStateMatrixTests: XCTestCase {
    private typealias Call = (name: String, run: (UNDI) -> PXEStatus)

    private let group = MACAddress(0x01, 0x00, 0x5E, 0x00, 0x00, 0x01)

    private var calls: [Call] {
        [
            ("START_UNDI", { $0.startUNDI() }),
            ("STARTUP", { $0.startup() }),
            ("CLEANUP", { $0.cleanup() }),
            ("INITIALIZE", { $0.initialize() }),
            ("RESET_ADAPTER", { $0.resetAdapter(multicast: []) }),
            ("SHUTDOWN", { $0.shutdown() }),
            ("OPEN", { $0.open(filter: [.directed], multicast: []) }),
            ("CLOSE", { $0.close() }),
            ("TRANSMIT", { u in [UInt8](repeating: 0, count: 50).withUnsafeBytes { u.transmit(protocol: .ip, broadcast: true, fragments: [$0]) } }),
            ("SET_MCAST_ADDRESS", { [group] u in u.setMulticastAddresses([group]) }),
            ("SET_STATION_ADDRESS", { $0.setStationAddress(MACAddress(0x02, 1, 1, 1, 1, 1)) }),
            ("SET_PACKET_FILTER", { $0.setPacketFilter([.directed]) }),
            ("GET_INFORMATION", { u in Self.status { _ = try u.information() } }),
            ("GET_STATISTICS", { u in Self.status { _ = try u.statistics() } }),
            ("CLEAR_STATISTICS", { $0.clearStatistics() }),
            ("INITIATE_DIAGS", { $0.initiateDiagnostics() }),
            ("FORCE_INTERRUPT", { $0.forceInterrupt() }),
            ("GET_MCAST_ADDRESS", { u in Self.status { _ = try u.multicastAddress(forIPv4: 0xE000_0001) } }),
            ("GET_NIC_TYPE", { u in Self.status { _ = try u.nicType() } }),
            ("GET_IFACE_INFO", { u in Self.status { _ = try u.interfaceInfo() } }),
            ("ISR", { u in Self.status { _ = try u.isr(.getNext) } }),
            ("STOP_UNDI", { $0.stopUNDI() }),
        ]
    }

    private static func status(_ body: () throws -> Void) -> PXEStatus {
        do { try body() } catch { return (error as? PXEStatus) ?? .failure }
        return .success
    }

    /// Opcodes allowed in each state (by name). Queries need the card probed
    /// and STARTUP done; `started` below means after START_UNDI and STARTUP
    /// (STARTUP may come again there: iPXE's undionly does after SHUTDOWN).
    private let allowed: [UNDIState: Set<String>] = [
        .stopped: ["START_UNDI"],
        .started: ["STARTUP", "CLEANUP", "INITIALIZE", "GET_INFORMATION", "GET_STATISTICS", "CLEAR_STATISTICS",
                   "GET_MCAST_ADDRESS", "GET_NIC_TYPE", "GET_IFACE_INFO", "STOP_UNDI"],
        .initialized: ["RESET_ADAPTER", "SHUTDOWN", "OPEN", "SET_MCAST_ADDRESS", "SET_STATION_ADDRESS",
                       "GET_INFORMATION", "GET_STATISTICS", "CLEAR_STATISTICS", "INITIATE_DIAGS",
                       "GET_MCAST_ADDRESS", "GET_NIC_TYPE", "GET_IFACE_INFO"],
        .opened: ["RESET_ADAPTER", "SHUTDOWN", "OPEN", "CLOSE", "TRANSMIT", "SET_MCAST_ADDRESS", "SET_STATION_ADDRESS",
                  "SET_PACKET_FILTER", "GET_INFORMATION", "GET_STATISTICS", "CLEAR_STATISTICS", "FORCE_INTERRUPT",
                  "GET_MCAST_ADDRESS", "GET_NIC_TYPE", "GET_IFACE_INFO", "ISR"],
    ]

    private func check(_ state: UNDIState) {
        for call in calls {
            // A fresh UNDI per call: some calls change the state.
            let (undi, _) = makeUNDI(upTo: state)
            let status = call.run(undi)
            if allowed[state, default: []].contains(call.name) {
                XCTAssertEqual(status, .success, "\(call.name) in \(state)")
            } else {
                XCTAssertEqual(status, .undiInvalidState, "\(call.name) in \(state)")
                XCTAssertEqual(undi.state, state, "\(call.name) in \(state) changed the state")
            }
        }
    }

    func testEveryOpcodeWhileStopped() { check(.stopped) }
    func testEveryOpcodeAfterStartup() { check(.started) }
    func testEveryOpcodeWhileInitialized() { check(.initialized) }
    func testEveryOpcodeWhileOpened() { check(.opened) }

    func testStartupNeedsStartUNDIAndMayBeRepeated() {
        let (undi, _) = makeUNDI(upTo: .stopped)
        XCTAssertEqual(undi.startup(), .undiInvalidState)
        XCTAssertEqual(undi.startUNDI(), .success)
        XCTAssertEqual(Self.status { _ = try undi.information() }, .undiInvalidState)
        XCTAssertEqual(undi.startup(), .success)
        XCTAssertEqual(undi.startup(), .success)
    }
}
