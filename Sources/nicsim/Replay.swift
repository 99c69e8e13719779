import ArgumentParser

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Drive a model's wire side with a pcap/pcapng trace."
    )

    func run() throws {
        throw CLIError(description: "'replay' is not available in this build yet")
    }
}
