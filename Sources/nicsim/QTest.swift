import ArgumentParser
import NICSim
import QTest

/// `nicsim qtest`: QEMU's qtest protocol on a QEMU `pc`-like board, with
/// QEMU's own single-dash options, so one harness can launch either
/// program. ArgumentParser can't read single-dash long options, so every
/// argument is captured and parsed by `QEMUOptions`.
struct QTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qtest",
        abstract: "Speak QEMU's qtest protocol against the board and models.",
        discussion: """
            Takes QEMU's options: -device rtl8139|ne2k_pci|ne2k_isa|virtio-net-pci[,netdev=ID][,addr=SLOT][,mac=MAC]\
            [,disable-legacy=on|off][,disable-modern=on|off], -netdev socket,id=ID,fd=N, \
            -netdev stream,id=ID,addr.type=unix,addr.path=PATH[,server=on], -m SIZE, \
            -qtest stdio|unix:PATH[,server=on]. -machine, -display, -nodefaults, -monitor, -serial, \
            -bios and -qtest-log are accepted and ignored.
            Example: nicsim qtest -machine pc -nodefaults -device rtl8139,addr=3 -qtest stdio
            """
    )

    @Argument(parsing: .captureForPassthrough, help: "QEMU-style options.")
    var options: [String] = []

    func run() throws {
        if options.contains(where: { ["-h", "-help", "--help"].contains($0) }) {
            throw CleanExit.helpRequest(self)
        }
        let parsed: QEMUOptions
        do {
            parsed = try QEMUOptions.parse(options)
        } catch {
            throw CLIError(description: error.description, exitCode: 2)
        }
        let session: QTestSession
        do {
            session = try QTestSession(options: parsed)
        } catch {
            throw CLIError(description: error.description)
        }
        session.run()
    }
}
