import ArgumentParser
import Foundation
import OptionROM

/// `nicsim rom`: PCI expansion ROM images.
struct Rom: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rom",
        abstract: "Inspect PCI expansion ROM images (legacy PXE, $PnP, UNDI, EFI).",
        subcommands: [Inspect.self]
    )

    /// `nicsim rom inspect FILE`: parse, validate and print the structure.
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect",
            abstract: "Print a ROM's images, PCIR, $PnP (BCV/BEV), UNDI ROM ID and EFI headers; exit 1 on any problem."
        )

        @Argument(help: "The ROM image file.")
        var file: String

        func run() throws {
            let bytes = try Rom.load(file)
            let rom: ExpansionROM
            do {
                rom = try ExpansionROM(bytes: bytes)
            } catch {
                throw CLIError(description: "\(file): \(error)")
            }
            for line in rom.report { print(line) }
            if let first = rom.issues.first {
                throw CLIError(description: "\(file): \(first)")
            }
        }
    }

    /// The file's bytes, or one clear line if it cannot be read.
    static func load(_ path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw CLIError(description: "\(path): no such file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError(description: "\(path): cannot read it (check permissions)")
        }
        guard data.count <= 16 << 20 else {
            throw CLIError(description: "\(path): \(data.count) bytes is larger than any expansion ROM (16 MiB)")
        }
        return [UInt8](data)
    }
}
