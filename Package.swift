// swift-tools-version:6.1
import PackageDescription

// nicsim: register-level NIC models, a PXE option ROM in software, and bridges.
// Layers (see ARCHITECTURE.md): NICCore <- device models <- Board <- UNDI <- PXE,
// with Bridge and BootServer beside them and the `nicsim` CLI on top.
// Linux only: the Bridge, the Machine and the CLI call Glibc, libpcap,
// /dev/net/tun and packet sockets directly, so no other platform is claimed.

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "nicsim",
    products: [
        .library(name: "NICCore", targets: ["NICCore"]),
        .library(name: "Board", targets: ["Board"]),
        .library(name: "QTest", targets: ["QTest"]),
        .library(name: "NE2000", targets: ["NE2000"]),
        .library(name: "RTL8139", targets: ["RTL8139"]),
        .library(name: "VirtioNet", targets: ["VirtioNet"]),
        .library(name: "Wire", targets: ["Wire"]),
        .library(name: "BootServer", targets: ["BootServer"]),
        .library(name: "UNDI", targets: ["UNDI"]),
        .library(name: "PXE", targets: ["PXE"]),
        .library(name: "Bridge", targets: ["Bridge"]),
        .library(name: "NICSim", targets: ["NICSim"]),
        .library(name: "OptionROM", targets: ["OptionROM"]),
        .library(name: "Machine", targets: ["Machine"]),
        .library(name: "NICCatalogue", targets: ["NICCatalogue"]),
        // The C ABI (include/nicsim.h): `make install` ships it as libnicsim.so.
        .library(name: "NICSimABI", type: .dynamic, targets: ["NICSimC"]),
        // The same ABI as a static archive (libnicsim.a once installed).
        .library(name: "NICSimABIStatic", type: .static, targets: ["NICSimC"]),
        .library(name: "NICSimFuzz", targets: ["NICSimFuzz"]),
        .library(name: "Fleet", targets: ["Fleet"]),
        .executable(name: "nicsim", targets: ["nicsim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `make docs`: the DocC catalogue in Sources/NICSim/NICSim.docc.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // CRC-32 by carry-less multiplication (PCLMULQDQ), which Swift cannot reach.
        .target(name: "CCRC32"),
        // Contracts shared by every model and host.
        .target(name: "NICCore", dependencies: ["CCRC32"], swiftSettings: swiftSettings),
        // NE2000: the DP8390 core, the RTL8029 PCI card and the ISA board.
        .target(name: "NE2000", dependencies: ["NICCore"], swiftSettings: swiftSettings),
        // The smallest PC the cards plug into.
        .target(name: "Board", dependencies: ["NICCore"], swiftSettings: swiftSettings),
        // RTL8139 / RTL8139C+ device model.
        .target(name: "RTL8139", dependencies: ["NICCore"], swiftSettings: swiftSettings),
        // virtio-net: legacy, transitional and modern virtio-pci.
        .target(name: "VirtioNet", dependencies: ["NICCore"], swiftSettings: swiftSettings),
        // Universal UNDI state machine and one driver per NIC, over the Board's buses.
        .target(name: "UNDI", dependencies: ["NICCore", "Board", "NICCatalogue"], swiftSettings: swiftSettings),
        // Wire formats: Ethernet, ARP, IPv4, UDP, DHCP (+PXE options), TFTP.
        .target(name: "Wire", dependencies: ["NICCore"], swiftSettings: swiftSettings),
        // The embedded DHCP/proxyDHCP and TFTP server with its own IP endpoint.
        .target(name: "BootServer", dependencies: ["NICCore", "Wire"], swiftSettings: swiftSettings),
        // PXE option ROM in software: the PXE API over guest memory, the base
        // code (ARP, IPv4, UDP, DHCP, TFTP) and a pxelinux-compatible NBP.
        .target(name: "PXE", dependencies: ["NICCore", "Board", "UNDI", "Wire"], swiftSettings: swiftSettings),
        // libpcap, for live host NICs.
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        // Linux's TAP, packet-socket and interface ioctls, typed for Swift.
        .target(name: "CLinuxNet"),
        // Backends behind FramePort: virtual switch, trace files, live host NICs, QEMU sockets.
        .target(name: "Bridge", dependencies: ["NICCore", "CPcap", "CLinuxNet"], swiftSettings: swiftSettings),
        // One entry per card: names (nicsim's and QEMU's), PCI IDs, options, link speed, how to build it.
        .target(name: "NICCatalogue", dependencies: ["NICCore", "NE2000", "RTL8139", "VirtioNet"], swiftSettings: swiftSettings),
        // The C ABI's types (nicsim_host, nicsim_device), from include/nicsim.h.
        .target(name: "CNICSim"),
        // The C ABI: @_cdecl functions over the catalogue, no Board and no Foundation.
        // The shared library's SONAME follows NICSIM_API_VERSION_MAJOR: a
        // program linked against libnicsim.so.0 keeps loading any 0.x.
        .target(name: "NICSimC", dependencies: ["NICCore", "NICCatalogue", "CNICSim"], swiftSettings: swiftSettings,
                linkerSettings: [.unsafeFlags(["-Xlinker", "-soname=libnicsim.so.0"])]),
        // QEMU's qtest protocol and command line on a `pc`-like board.
        .target(name: "QTest", dependencies: ["NICCore", "Board", "Bridge", "NICCatalogue", "NE2000", "RTL8139", "VirtioNet"], swiftSettings: swiftSettings),
        // PCI expansion ROM images: parse, validate, build.
        .target(name: "OptionROM", dependencies: ["NICCore"], swiftSettings: swiftSettings),
        // Unicorn, the x86 CPU emulator under the Machine.
        .systemLibrary(
            name: "CUnicorn",
            pkgConfig: "unicorn",
            providers: [.apt(["libunicorn-dev"])]
        ),
        // An x86 PC on the Board: CPU, PC memory map, BIOS services, option ROM boot.
        .target(name: "Machine", dependencies: ["NICCore", "Board", "OptionROM", "CUnicorn", "UNDI", "PXE", "Wire"], swiftSettings: swiftSettings),
        // Everything, for emulators that link the lot, and what the CLI assembles
        // from it: the simulated PC, the boot networks, the reports.
        .target(name: "NICSim", dependencies: ["NICCore", "NICCatalogue", "Board", "UNDI", "NE2000", "RTL8139", "VirtioNet", "Wire", "BootServer", "PXE", "Bridge", "QTest", "OptionROM", "Machine"], swiftSettings: swiftSettings),
        // One fuzz harness per surface, each driving the real code from a byte
        // string. Built in every `swift build` so `FuzzTests` replays the
        // corpora; the libFuzzer binary is the separate package in `Fuzz/`.
        .target(name: "NICSimFuzz", dependencies: ["NICSimC", "CNICSim", "NICCore", "Board", "UNDI", "NE2000", "RTL8139", "VirtioNet", "Wire", "BootServer", "PXE", "Bridge", "QTest", "OptionROM", "Machine"], swiftSettings: swiftSettings),
        // Many simulated PCs on one clock and switch: `nicsim fleet`.
        .target(name: "Fleet", dependencies: ["NICCore", "Board", "NICCatalogue", "UNDI", "Wire", "BootServer", "PXE", "Bridge", "Machine"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "nicsim",
            dependencies: [
                "NICSim", "NICCatalogue", "NICCore", "Board", "UNDI", "NE2000", "RTL8139", "VirtioNet", "Wire", "BootServer", "PXE", "Bridge", "QTest", "OptionROM", "Machine",
                "Fleet",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "NICCoreTests", dependencies: ["NICCore"], swiftSettings: swiftSettings),
        .testTarget(name: "BoardTests", dependencies: ["Board", "NICCore"], swiftSettings: swiftSettings),
        // Test doubles shared by several test targets (never shipped in a product).
        .target(name: "NICSimTestSupport", dependencies: ["UNDI", "Board", "NICCore"], path: "Tests/Support", swiftSettings: swiftSettings),
        .testTarget(name: "UNDITests", dependencies: ["UNDI", "Board", "NICCore", "NE2000", "RTL8139", "VirtioNet", "NICSimTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "NE2000Tests", dependencies: ["NE2000", "NICCore"], swiftSettings: swiftSettings),
        .testTarget(name: "RTL8139Tests", dependencies: ["RTL8139", "NICCore"], swiftSettings: swiftSettings),
        .testTarget(name: "VirtioNetTests", dependencies: ["VirtioNet", "NICCore"], swiftSettings: swiftSettings),
        .testTarget(name: "QTestTests", dependencies: ["QTest", "Board", "Bridge", "NICCore"], swiftSettings: swiftSettings),
        .testTarget(name: "BridgeTests", dependencies: ["Bridge", "Board", "NICCore", "UNDI", "NE2000", "RTL8139"], swiftSettings: swiftSettings),
        .testTarget(name: "PXETests", dependencies: ["PXE", "UNDI", "Wire", "Board", "NICCore", "NE2000", "RTL8139", "VirtioNet", "BootServer", "Bridge", "NICSimTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "WireTests", dependencies: ["Wire", "NICCore"], swiftSettings: swiftSettings),
        .testTarget(name: "BootServerTests", dependencies: ["BootServer", "Wire", "NICCore", "Board", "RTL8139", "UNDI", "PXE", "Bridge"], swiftSettings: swiftSettings),
        .testTarget(name: "OptionROMTests", dependencies: ["OptionROM", "NICCore"], swiftSettings: swiftSettings),
        .testTarget(name: "MachineTests", dependencies: ["Machine", "Board", "NICCore", "OptionROM", "NE2000", "RTL8139", "VirtioNet", "Bridge", "BootServer", "Wire", "UNDI", "PXE", "NICSimTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "NICCatalogueTests", dependencies: ["NICCatalogue", "NICSimC", "CNICSim", "NICCore", "VirtioNet", "RTL8139", "NE2000"], swiftSettings: swiftSettings),
        .testTarget(name: "FuzzTests", dependencies: ["NICSimFuzz"], swiftSettings: swiftSettings),
        .testTarget(name: "NICSimTests", dependencies: ["NICSim", "NICCatalogue"], swiftSettings: swiftSettings),
        .testTarget(name: "nicsimTests", dependencies: ["nicsim", "Fleet"], swiftSettings: swiftSettings),
    ]
)
