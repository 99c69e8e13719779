import PXE

/// The pxelinux configuration parser, fed the input as a configuration
/// file (bytes decoded as pxelinux reads them, invalid UTF-8 replaced),
/// and what the built-in pxelinux does with the result: the unattended
/// choice, every label's entry, its final command line and its initrds.
enum PXELinuxConfigFuzz {
    static func run(_ input: inout FuzzInput) {
        let text = String(decoding: input.rest(), as: UTF8.self)
        let config = PXELinuxConfig(parsing: text)
        _ = (config.timeout, config.prompt, config.globalSysAppend)
        var entries: [PXELinuxBootEntry] = []
        if let entry = config.unattendedEntry() { entries.append(entry) }
        for label in config.labels.prefix(64) {
            if let found = config.label(named: label.name) { _ = found.kernel }
            if let entry = PXELinuxConfig(parsing: "DEFAULT \(label.name)\n" + text).unattendedEntry() { entries.append(entry) }
        }
        for entry in entries {
            _ = entry.finalCommandLine(client: "10.0.2.100", server: "10.0.2.2", gateway: "0.0.0.0", netmask: "255.255.255.0",
                                       mac: "52-54-00-12-34-56", uuid: "00000000-0000-0000-0000-000000000000")
            _ = entry.initrds
        }
    }
}
