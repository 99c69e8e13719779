import ArgumentParser

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the embedded PXE boot server (DHCP, proxyDHCP, TFTP)."
    )

    func run() throws {
        throw CLIError(description: "'serve' is not available in this build yet")
    }
}
