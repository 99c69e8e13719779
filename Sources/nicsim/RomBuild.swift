import ArgumentParser
import Board
import Foundation
import Machine
import NICCore
import NICSim
import OptionROM

extension Rom {
    /// `nicsim rom build --model M -o FILE`: nicsim's own PXE option ROM
    /// for a model, as a file a BIOS (or `rom inspect`) can read.
    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "build",
            abstract: "Write nicsim's PXE option ROM for a model: header, PCIR, $PnP (BEV), UNDI ROM ID, and 16-bit stubs that trap to nicsim's Swift PXE API (it runs only on nicsim's machine)."
        )

        @Option(help: "NIC model: \(ModelName.allCases.map(\.rawValue).joined(separator: ", ")).")
        var model: ModelName = .rtl8139

        @Option(name: [.customShort("o"), .customLong("output")], help: "Where to write the image.")
        var output: String

        func run() throws {
            // The IDs come from the model as it sits on the board.
            let pc = SimulatedPC(model: model, mac: MACAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56))
            guard let identity = pc.board.function(at: SimulatedPC.slot)?.config.identity else {
                throw CLIError(description: "no PCI function for \(model.rawValue)")
            }
            let bytes: [UInt8]
            do { bytes = try SoftwarePXEROM.image(vendorID: identity.vendorID, deviceID: identity.deviceID) } catch {
                throw CLIError(description: "\(error)")
            }
            guard FileManager.default.createFile(atPath: output, contents: Data(bytes)) else {
                throw CLIError(description: "\(output): cannot write it (check the directory and permissions)")
            }
            print("nicsim rom build: \(output), \(bytes.count) bytes, PCI \(hex(identity.vendorID)):\(hex(identity.deviceID)) (\(pc.modelName))")
        }

        private func hex(_ v: UInt16) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: max(0, 4 - s.count)) + s
        }
    }
}
