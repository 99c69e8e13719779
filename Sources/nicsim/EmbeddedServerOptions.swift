import ArgumentParser
import BootServer

/// The boot-file and HTTP options of the embedded server that `boot`
/// shares with `serve`: per-kind and per-architecture boot files and the
/// built-in HTTP server.
struct EmbeddedServerOptions: ParsableArguments {
    @Option(name: .customLong("efi-boot-file"), help: "Embedded server: boot file for EFI clients (option 93).")
    var efiBootFile: String?

    @Option(name: .customLong("ipxe-boot-file"), help: "Embedded server: boot file for clients already running iPXE.")
    var ipxeBootFile: String?

    @Option(name: .customLong("boot-file-for"), parsing: .singleValue,
            help: "Embedded server: boot file for one client architecture, ARCH=FILE, repeatable (e.g. 7=snponly.efi).")
    var bootFileFor: [String] = []

    @Option(name: .customLong("http-port"), help: "Embedded server: also serve the TFTP root over HTTP on this port (80 is fine inside the virtual switch).")
    var httpPort: UInt16?

    func validate() throws {
        _ = try BootFileOptions.architectureMap(bootFileFor)
        if httpPort == 0 { throw ValidationError("--http-port must be 1-65535") }
    }

    /// True when any option is given (they need the embedded server).
    var isRequested: Bool { efiBootFile != nil || ipxeBootFile != nil || !bootFileFor.isEmpty || httpPort != nil }

    /// Applies the options to the embedded server's configuration.
    func apply(to configuration: inout BootServerConfiguration) {
        if let efiBootFile { configuration.efiBootFile = efiBootFile }
        if let ipxeBootFile { configuration.ipxeBootFile = ipxeBootFile }
        configuration.bootFilesByArchitecture.merge((try? BootFileOptions.architectureMap(bootFileFor)) ?? [:]) { $1 }
        if let httpPort { configuration.httpPort = httpPort }
    }
}
