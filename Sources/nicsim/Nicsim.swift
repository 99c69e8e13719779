import ArgumentParser
import NICSim

/// `nicsim`: the root command. With no subcommand it boots (so
/// `nicsim --model rtl8139 --bridge eth0` is `nicsim boot --model rtl8139 --bridge eth0`).
struct Nicsim: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "nicsim",
        abstract: "A user-space virtual NIC emulator with a PXE option ROM in software.",
        discussion: """
            Register-level models of the NE2000 (RTL8029 PCI and ISA), RTL8139 (classic and C+) \
            and virtio-net (legacy and modern), a PXE stack over them, and bridges to real networks.
            With no subcommand, nicsim runs `boot`.
            """,
        version: version,
        subcommands: [Boot.self, Replay.self, Serve.self, QTest.self, BoardInfo.self, Bench.self, Rom.self],
        defaultSubcommand: Boot.self
    )
}

/// The CLI's run-time error is the library's: one line and an exit code.
typealias CLIError = NICSimError
