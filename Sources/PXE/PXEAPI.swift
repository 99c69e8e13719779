import NICCore
import UNDI
import Wire

/// The PXE API as an NBP calls it: an opcode and a parameter block in guest
/// memory at a real-mode segment:offset address. The block is read, the
/// call runs against the UNDI and the base code, results are written back
/// into the block, and the PXE status is written as its first word. The
/// exit code (what AX holds on return) is PXENV_EXIT_SUCCESS when the
/// status is SUCCESS and PXENV_EXIT_FAILURE otherwise.
///
/// Both calling conventions are represented: `callPXENV(bx:es:di:)` (the
/// PXENV+ entry: opcode in BX, block at ES:DI) and `callBangPXE(stack:)`
/// (the !PXE entry: opcode and far pointer on the stack). Handlers live in
/// `PXEAPI+UNDI.swift`, `PXE+CachedInfo.swift`, `PXE+TFTP.swift`,
/// `PXE+UDP.swift` and `PXE+Preboot.swift`.
public final class PXEAPI {
    /// What opcode 0x0015 means. PXE 2.1 gives both PXENV_STOP_UNDI and
    /// PXENV_UNDI_GET_STATE this code; the blocks differ in size, so a host
    /// must choose. STOP_UNDI is what NBPs use in practice (pxelinux calls
    /// it to unload), so it is the default.
    public enum Opcode0015: Sendable {
        case stopUNDI
        case getState
    }

    public let baseCode: PXEBaseCode
    public let memory: GuestMemory
    public let layout: PXELayout
    @exclusivity(unchecked)
    public var opcode0015: Opcode0015 = .stopUNDI
    /// Set by PXENV_RESTART_TFTP: the NBP it loaded at 0000:7C00 and its size.
    @exclusivity(unchecked)
    public internal(set) var restartedNBP: (file: String, size: Int)?
    /// The most recent calls, oldest first (opcode and status), for
    /// tracing; at most `callLogLimit` are kept.
    @exclusivity(unchecked)
    public internal(set) var callLog: [(opcode: UInt16, status: PXEStatus)] = []
    @exclusivity(unchecked)
    public var callLogLimit = 1024
    /// Where RESTART_TFTP loads the NBP.
    public static let nbpLoadAddress: UInt64 = 0x7C00

    public init(baseCode: PXEBaseCode, memory: GuestMemory, layout: PXELayout = PXELayout()) {
        self.baseCode = baseCode
        self.memory = memory
        self.layout = layout
        baseCode.undi.romSegment = layout.undiCodeSegment
    }

    public var undi: UNDI { baseCode.undi }

    /// Writes PXENV+ and !PXE into guest memory.
    public func install() throws(DMAError) {
        try PXEStructures.install(layout, in: memory)
    }

    // MARK: Entry points

    /// The PXENV+ entry (RMEntry): opcode in BX, parameter block at ES:DI.
    @discardableResult
    public func callPXENV(bx: UInt16, es: UInt16, di: UInt16) -> PXEExit {
        call(opcode: bx, block: RealModeAddress(segment: es, offset: di))
    }

    /// The !PXE entry (EntryPointSP). `stack` is SS:SP at the entry point:
    /// the far return address at SP, then the opcode word at SP+4 and the
    /// parameter block's offset and segment at SP+6 and SP+8.
    @discardableResult
    public func callBangPXE(stack: RealModeAddress) -> PXEExit {
        do throws(PXEStatus) {
            let opcode = try GuestBlock(memory, at: stack.advanced(by: 4).linear).u16(0)
            let offset = try GuestBlock(memory, at: stack.advanced(by: 6).linear).u16(0)
            let segment = try GuestBlock(memory, at: stack.advanced(by: 8).linear).u16(0)
            return call(opcode: opcode, block: RealModeAddress(segment: segment, offset: offset))
        } catch {
            return .failure
        }
    }

    /// Runs `opcode` on the parameter block at `block`. Unknown opcodes
    /// return PXENV_STATUS_UNSUPPORTED.
    @discardableResult
    public func call(opcode: UInt16, block: RealModeAddress) -> PXEExit {
        let b = GuestBlock(memory, at: block.linear)
        var status = PXEStatus.success
        do throws(PXEStatus) {
            try dispatch(opcode, b)
        } catch {
            status = error
        }
        if callLog.count >= max(callLogLimit, 1) { callLog.removeFirst(callLog.count - max(callLogLimit, 1) / 2) }
        callLog.append((opcode, status))
        do throws(PXEStatus) {
            try b.set16(0, status.rawValue)
        } catch {
            return .failure
        }
        return PXEExit(status)
    }

    private func dispatch(_ opcode: UInt16, _ b: GuestBlock) throws(PXEStatus) {
        guard let op = PXEOpcode(rawValue: opcode) else { throw .unsupported }
        switch op {
        case .startUNDI: try startUNDI(b)
        case .stopUNDI:
            switch opcode0015 {
            case .stopUNDI: try stopUNDI(b)
            case .getState: try undiGetState(b)
            }
        case .undiStartup: try check(undi.startup())
        case .undiCleanup: try check(undi.cleanup())
        case .undiInitialize: try check(undi.initialize())
        case .undiResetAdapter: try undiResetAdapter(b)
        case .undiShutdown: try undiShutdown(b)
        case .undiOpen: try undiOpen(b)
        case .undiClose: try check(undi.close())
        case .undiTransmit: try undiTransmit(b)
        case .undiSetMulticastAddress: try undiSetMulticastAddress(b)
        case .undiSetStationAddress: try undiSetStationAddress(b)
        case .undiSetPacketFilter: try undiSetPacketFilter(b)
        case .undiGetInformation: try undiGetInformation(b)
        case .undiGetStatistics: try undiGetStatistics(b)
        case .undiClearStatistics: try check(undi.clearStatistics())
        case .undiInitiateDiags: try check(undi.initiateDiagnostics())
        case .undiForceInterrupt: try check(undi.forceInterrupt())
        case .undiGetMulticastAddress: try undiGetMulticastAddress(b)
        case .undiGetNICType: try undiGetNICType(b)
        case .undiGetIfaceInfo: try undiGetIfaceInfo(b)
        case .undiISR: try undiISR(b)
        case .tftpOpen: try tftpOpen(b)
        case .tftpClose: try tftpClose(b)
        case .tftpRead: try tftpRead(b)
        case .tftpReadFile: try tftpReadFile(b)
        case .tftpGetFileSize: try tftpGetFileSize(b)
        case .udpOpen: try udpOpen(b)
        case .udpClose: try udpClose(b)
        case .udpRead: try udpRead(b)
        case .udpWrite: try udpWrite(b)
        case .unloadStack: try unloadStack(b)
        case .getCachedInfo: try getCachedInfo(b)
        case .restartTFTP: try restartTFTP(b)
        case .startBase: try startBase(b)
        case .stopBase: try stopBase(b)
        }
    }

    func check(_ status: PXEStatus) throws(PXEStatus) {
        guard status.isSuccess else { throw status }
    }

    /// Base-code services exist only while the base code runs.
    func requireBaseCode() throws(PXEStatus) {
        guard baseCode.state == .running else { throw .badFunction }
    }
}
