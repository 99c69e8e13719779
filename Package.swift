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
        .library(name: "NICSim", targets: ["NICSim"]),
        .library(name: "OptionROM", targets: ["OptionROM"]),
        .library(name: "Machine", targets: ["Machine"]),
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
        // libpcap, for live host NICs.
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        // PCI expansion ROM images: parse, validate, build.
        .target(name: "OptionROM", dependencies: ["NICCore"], swiftSettings: swiftSettings),
        // Unicorn, the x86 CPU emulator under the Machine.
        .systemLibrary(
            name: "CUnicorn",
            pkgConfig: "unicorn",
            providers: [.apt(["libunicorn-dev"])]
        ),
        // An x86 PC on the Board: CPU, PC memory map, BIOS services, option ROM boot.
        .target(name: "Machine", dependencies: ["NICCore", "Board", "OptionROM", "CUnicorn"], swiftSettings: swiftSettings),
        // Everything, for emulators that link the lot.
        .target(name: "NICSim", dependencies: ["NICCore", "Board", "UNDI", "OptionROM", "Machine"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "nicsim",
            dependencies: [
                "NICCore", "Board", "UNDI", "OptionROM", "Machine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "NICCoreTests", dependencies: ["NICCore"], swiftSettings: swiftSettings),
        .testTarget(name: "BoardTests", dependencies: ["Board", "NICCore"], swiftSettings: swiftSettings),
        .testTarget(name: "UNDITests", dependencies: ["UNDI", "Board", "NICCore"], swiftSettings: swiftSettings),
        .testTarget(name: "OptionROMTests", dependencies: ["OptionROM", "NICCore"], swiftSettings: swiftSettings),
        .testTarget(name: "MachineTests", dependencies: ["Machine", "Board", "NICCore", "OptionROM"], swiftSettings: swiftSettings),
        .testTarget(name: "nicsimTests", dependencies: ["nicsim"], swiftSettings: swiftSettings),
    ]
)
