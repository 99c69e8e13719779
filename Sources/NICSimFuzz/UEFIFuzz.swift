import Board
import Machine
import NICCore

/// The UEFI machine fed a PE file: the PE32+ loader first (headers,
/// sections, relocations), then, when it loads, the image runs as an EFI
/// application for a few milliseconds of virtual time against the
/// firmware's services, every argument its code passes being the input's.
enum UEFIFuzz {
    static func run(_ input: inout FuzzInput) {
        let bytes = Array(input.rest())
        guard let pe = try? PEImage(bytes: bytes) else { return }
        precondition(pe.entryPoint < pe.imageSize, "entry point outside the image")
        guard pe.imageSize <= 4 << 20 else { return }
        if let laid = try? pe.layout(at: 0x20_0000) { precondition(laid.count == pe.imageSize, "layout of the wrong size") }
        guard let machine = try? UEFIMachine(board: Board(memorySize: 32 << 20)),
              let handle = try? machine.loadImage(bytes), (try? machine.start(image: handle)) != nil else { return }
        _ = try? machine.run(timeout: 2 * VirtualClock.millisecond)
        precondition(machine.console.utf8.count <= machine.consoleLimit + 4096, "console past its limit")
        precondition(machine.log.count <= 256, "log past its limit")
    }
}
