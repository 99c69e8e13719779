// swift-tools-version:6.1
import PackageDescription
import Foundation

// nicsim benchmarks, built only when asked: `make bench` (or
// `cd Benchmarks && swift package benchmark`). Every folder here named
// `<Something>Benchmarks` is one benchmark executable.

let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
// SwiftPM names a path dependency after its folder, so the main package's
// identity is whatever the checkout is called (main, a worktree, a CI clone).
let rootIdentity = here.deletingLastPathComponent().lastPathComponent.lowercased()
let names = ((try? FileManager.default.contentsOfDirectory(atPath: here.path)) ?? [])
    .filter { $0.hasSuffix("Benchmarks") }
    .sorted()

let package = Package(
    name: "nicsim-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Baselines and test frames every benchmark shares.
        .target(
            name: "BenchmarkSupport",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "NICSim", package: rootIdentity),
            ],
            path: "BenchmarkSupport",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ] + names.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "NICSim", package: rootIdentity),
            ],
            path: name,
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        )
    }
)
