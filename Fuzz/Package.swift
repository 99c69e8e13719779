// swift-tools-version:6.1
import PackageDescription
import Foundation

// nicsim's libFuzzer binary, built only when asked: `make fuzz` (or
// `scripts/fuzz.sh`) builds it with `swift build -c release
// --sanitize=fuzzer --sanitize=address`. One executable serves every
// target in `NICSimFuzz`; NICSIM_FUZZ_TARGET picks one.

let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
// SwiftPM names a path dependency after its folder, so the main package's
// identity is whatever the checkout is called (main, a worktree, a CI clone).
let rootIdentity = here.deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "nicsim-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "nicsim-fuzz",
            dependencies: [.product(name: "NICSimFuzz", package: rootIdentity)],
            path: "Sources/nicsim-fuzz",
            // libFuzzer brings main(); the Swift module must not.
            swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
