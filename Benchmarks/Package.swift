// swift-tools-version:6.1
import PackageDescription
import Foundation

// nicsim benchmarks, built only when asked: `make bench` (or
// `cd Benchmarks && swift package benchmark`). Every folder here named
// `<Something>Benchmarks` is one benchmark executable.

let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let names = ((try? FileManager.default.contentsOfDirectory(atPath: here.path)) ?? [])
    .filter { $0.hasSuffix("Benchmarks") }
    .sorted()
// A path dependency's identity is its directory's name (not always "nicsim",
// e.g. in a git worktree).
let nicsimPackage = here.deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "nicsim-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: names.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "NICSim", package: nicsimPackage),
            ],
            path: name,
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        )
    }
)
