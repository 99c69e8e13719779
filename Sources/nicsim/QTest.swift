import ArgumentParser

struct QTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qtest",
        abstract: "Speak QEMU's qtest protocol against the board and models."
    )

    func run() throws {
        throw CLIError(description: "'qtest' is not available in this build yet")
    }
}
