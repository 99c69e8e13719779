import CUnicorn
import NICCore

/// What the host asks of the firmware between runs, as a boot manager
/// would: start an image, connect a controller, boot through a Load File
/// protocol. Each becomes the bottom frame of the next run, which ends
/// with `.returned` when the firmware call completes (`lastExitStatus`).
extension UEFIMachine {
    static let loadFileGUID = EFIGUID(0x56EC_3091, 0x954C, 0x11D2, [0x8E, 0x3F, 0x00, 0xA0, 0xC9, 0x69, 0x72, 0x3B])

    /// A 128 KiB stack for host-initiated calls, made once.
    var hostStack: UInt64 {
        if hostStackTop == 0, let base = memoryMap.allocate(pages: 32, type: .bootServicesData, maximum: 0xFFFF_FFFF) {
            hostStackTop = base + 32 * 4096 - 64
        }
        return hostStackTop
    }

    /// Runs `body` as a firmware service called by the host: its guest
    /// calls happen in the next `run`, which returns `.returned` with the
    /// final status in `lastExitStatus`.
    func hostInvoke(_ body: (UEFIMachine) -> ServiceResult) throws(MachineError) {
        let stack = hostStack
        guard stack != 0 else { throw .optionROM("no room for the firmware's stack") }
        // The bottom frame: the call "returns" to the call-return stub,
        // whose continuation records the status and ends the run.
        w64(stack, callReturnStub)
        frames.append(Frame(rsp: stack &+ 8, continuation: { m, status in
            m.lastExitStatus = status
            return .stop(.returned)
        }, image: nil))
        entryRSP = stack
        lastExitStatus = nil
        complete(body(self), rsp: stack, atOwnStub: false)
        stopRequest = nil
    }

    /// ConnectController(handle, NULL, NULL, TRUE), as a boot manager
    /// connects a device before booting from it. Run the machine to let
    /// the drivers' Supported and Start run.
    public func connect(controller handle: UInt64) throws(MachineError) {
        try hostInvoke { m in m.connectController(handle, drivers: 0, remaining: 0) }
    }

    /// Boots through the Load File protocol on `handle` (BootPolicy TRUE,
    /// no buffer), as a boot manager's network boot option does: a driver
    /// such as iPXE's runs its whole network boot from there.
    public func bootLoadFile(on handle: UInt64) throws(MachineError) {
        guard let loadFile = interface(handle, Self.loadFileGUID) else { throw .optionROM("no Load File protocol on that handle") }
        let path = interface(handle, .devicePath) ?? 0
        let size = firmwareAllocate(8)
        try hostInvoke { m in .call(m.r64(loadFile), [loadFile, path, 1, size, 0]) { _, status in .done(status) } }
    }

    /// Handles with a Load File protocol (a network boot option each), in the order they were made.
    public var loadFileHandles: [UInt64] { handles(with: Self.loadFileGUID) }
}
