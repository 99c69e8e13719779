import Board
import Foundation
import NICSim
#if canImport(Glibc)
import Glibc
#endif
import Machine
import NICCore
import OptionROM

/// A real option ROM image booting on the Machine, as `nicsim boot --rom`
/// and `nicsim rom run` run it: POST (shadow the legacy image, far-call
/// INIT), then the ROM's $PnP Bootstrap Entry Vector, until the console
/// shows `until` or `timeout` of virtual time passes. With `live`, every
/// character the guest prints goes to standard output as it prints it.
struct ROMBoot {
    let machine: Machine
    let stop: MachineStop
    /// The Swift firmware behind the ROM's host calls, when the image is
    /// nicsim's own PXE ROM (held here: the BIOS holds it weakly).
    let firmware: HostFirmware?

    /// Everything the guest printed.
    var console: String { machine.bios.console }

    /// Whether the console shows `text`.
    func shows(_ text: String) -> Bool { console.contains(text) }

    /// Reads and parses `path`; one line when it is not an option ROM.
    static func load(_ path: String) throws -> ExpansionROM {
        let bytes = try Rom.load(path)
        do { return try ExpansionROM(bytes: bytes) } catch { throw CLIError(description: "\(path): \(error)") }
    }

    /// Boots `rom` for the card at `slot` on `board` (resources already
    /// assigned). Guest faults and ROMs that can't be run are one line.
    /// `firmware` builds the Swift firmware for nicsim's own PXE ROM
    /// image (`nicsim rom build`); it is asked only for such an image.
    static func run(_ rom: ExpansionROM, on board: Board, slot: PCIAddress, until: String?,
                    timeout: UInt64, live: Bool,
                    firmware makeFirmware: (Machine) throws -> HostFirmware? = { _ in nil }) throws -> ROMBoot {
        let machine: Machine
        var firmware: HostFirmware?
        do {
            machine = try Machine(board: board)
            if SoftwarePXEROM.isImage(rom) { firmware = try makeFirmware(machine) }
        } catch { throw CLIError(description: "\(error)") }
        if live {
            machine.bios.onConsole = echoToStandardOutput
        }
        let condition = until.map(machine.consoleShows) ?? { false }
        let stop: MachineStop
        do {
            var shadowed = try machine.shadow(rom, for: slot)
            let initStop = try machine.initialize(&shadowed, timeout: timeout)
            if initStop != .returned {
                stop = initStop
            } else {
                stop = try machine.bootstrap(shadowed, until: condition, timeout: timeout)
            }
        } catch {
            throw CLIError(description: "\(error)")
        }
        return ROMBoot(machine: machine, stop: stop, firmware: firmware)
    }
}

/// The guest's console, live: each byte to standard output as the guest
/// prints it, without buffering or allocating.
func echoToStandardOutput(_ c: UInt8) {
    withUnsafeBytes(of: c) { _ = Glibc.write(1, $0.baseAddress, 1) }
}
