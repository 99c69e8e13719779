// swift-tools-version:6.1
import PackageDescription

// nicsim: register-level NIC models, a PXE option ROM in software, and bridges.
// Layers (see ARCHITECTURE.md): NICCore <- device models <- Board <- UNDI <- PXE,
// with Bridge and BootServer beside them and the `nicsim` CLI on top.

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "nicsim",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "NICCore", targets: ["NICCore"]),
        .library(name: "Board", targets: ["Board"]),
        .library(name: "Wire", targets: ["Wire"]),
        .library(name: "BootServer", targets: ["BootServer"]),
        .library(name: "NICSim", targets: ["NICSim"]),
        .executable(name: "nicsim", targets: ["nicsim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Contracts shared by every model and host.
        .target(name: "NICCore", swiftSettings: swiftSettings),
        // The smallest PC the cards plug into.
        .target(name: "Board", dependencies: ["NICCore"], swiftSettings: swiftSettings),
        // Universal UNDI state machine and one driver per NIC, over the Board's buses.
        .target(name: "UNDI", dependencies: ["NICCore", "Board"], swiftSettings: swiftSettings),
        // Wire formats: Ethernet, ARP, IPv4, UDP, DHCP (+PXE options), TFTP.
        .target(name: "Wire", dependencies: ["NICCore"], swiftSettings: swiftSettings),
        // The embedded DHCP/proxyDHCP and TFTP server with its own IP endpoint.
        .target(name: "BootServer", dependencies: ["NICCore", "Wire"], swiftSettings: swiftSettings),
        // libpcap, for live host NICs.
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        // Everything, for emulators that link the lot.
        .target(name: "NICSim", dependencies: ["NICCore", "Board", "UNDI", "Wire", "BootServer"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "nicsim",
            dependencies: [
                "NICCore", "Board", "UNDI", "Wire", "BootServer", "CPcap",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "NICCoreTests", dependencies: ["NICCore"], swiftSettings: swiftSettings),
        .testTarget(name: "BoardTests", dependencies: ["Board", "NICCore"], swiftSettings: swiftSettings),
        .testTarget(name: "UNDITests", dependencies: ["UNDI", "Board", "NICCore"], swiftSettings: swiftSettings),
        .testTarget(name: "WireTests", dependencies: ["Wire", "NICCore"], swiftSettings: swiftSettings),
        .testTarget(name: "BootServerTests", dependencies: ["BootServer", "Wire", "NICCore"], swiftSettings: swiftSettings),
        .testTarget(name: "nicsimTests", dependencies: ["nicsim"], swiftSettings: swiftSettings),
    ]
)
