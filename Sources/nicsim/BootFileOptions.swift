import ArgumentParser

/// Parsing shared by `serve` and `boot` for the boot-file options.
enum BootFileOptions {
    /// `ARCH=FILE` values (`--boot-file-for`) as a map from option 93
    /// architecture type to file; a repeated architecture is an error.
    static func architectureMap(_ values: [String]) throws -> [UInt16: String] {
        var map: [UInt16: String] = [:]
        for value in values {
            guard let eq = value.firstIndex(of: "="), let arch = UInt16(value[..<eq]),
                  case let file = String(value[value.index(after: eq)...]), !file.isEmpty else {
                throw ValidationError("--boot-file-for takes ARCH=FILE with ARCH a number 0-65535 (option 93), e.g. 11=grubaa64.efi; got '\(value)'")
            }
            guard map[arch] == nil else { throw ValidationError("--boot-file-for gives architecture \(arch) twice") }
            map[arch] = file
        }
        return map
    }
}
