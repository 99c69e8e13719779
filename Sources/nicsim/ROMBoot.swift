import Board
import Foundation
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
    static func run(_ rom: ExpansionROM, on board: Board, slot: PCIAddress, until: String?,
                    timeout: UInt64, live: Bool) throws -> ROMBoot {
        let machine: Machine
        do { machine = try Machine(board: board) } catch { throw CLIError(description: "\(error)") }
        // Search the console only when it has grown, not on every slice.
        var written = 0, searched = 0, found = false
        machine.bios.onConsole = { c in
            written += 1
            if live { withUnsafeBytes(of: c) { _ = Glibc.write(1, $0.baseAddress, 1) } }
        }
        let condition: () -> Bool = {
            guard let until, written != searched else { return found }
            searched = written
            found = machine.bios.console.contains(until)
            return found
        }
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
        return ROMBoot(machine: machine, stop: stop)
    }
}
