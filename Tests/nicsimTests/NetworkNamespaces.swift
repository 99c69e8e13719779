import Foundation
import XCTest

/// A pair of network namespaces joined by veth (scripts/netns.sh):
/// `nsim-bootserver-NAME-srv` with srv0 and `nsim-bootserver-NAME-cli` with
/// cli0. Removed again at `down()`.
final class NetworkNamespaces {
    let name: String
    var server: String { "nsim-\(name)-srv" }
    var client: String { "nsim-\(name)-cli" }

    static var scripts: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts")
    }

    init(_ suffix: String, prefix: String = "bootserver") throws {
        name = "\(prefix)-\(suffix)"
        try HostTools.require(HostTools.ip, package: "iproute2")
        guard getuid() == 0 else {
            XCTFail("network namespace tests need root (CI runs as root)")
            throw CocoaError(.featureUnsupported)
        }
        let r = try HostTools.run("/bin/bash", [Self.scripts.appendingPathComponent("netns.sh").path, "up", name])
        guard r.status == 0 else {
            XCTFail("netns.sh up failed: \(r.output)")
            throw CocoaError(.featureUnsupported)
        }
    }

    /// Runs `command` inside `namespace` and waits for it.
    @discardableResult
    func run(in namespace: String, _ command: [String], timeout: TimeInterval = 60) throws -> (status: Int32, output: String) {
        try HostTools.run(HostTools.ip, ["netns", "exec", namespace] + command, timeout: timeout)
    }

    /// Starts `command` inside `namespace` in the background.
    func start(in namespace: String, _ command: [String]) throws -> Background {
        let b = Background(HostTools.ip, ["netns", "exec", namespace] + command)
        try b.start()
        return b
    }

    func down() {
        _ = try? HostTools.run("/bin/bash", [Self.scripts.appendingPathComponent("netns.sh").path, "down", name])
    }
}

func sha256(_ path: String) throws -> String {
    let r = try HostTools.run("/usr/bin/sha256sum", [path])
    return String(r.output.prefix(64))
}
