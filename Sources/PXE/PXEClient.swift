import Board
import NICCore
import UNDI
import Wire

/// Why a network boot stopped.
public enum PXEClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The UNDI or DHCP phase failed with this PXE status.
    case rom(PXEStatus)
    /// The built-in pxelinux failed.
    case nbp(PXELinuxError)
    /// The ROM's structures don't fit in guest memory.
    case memory(String)

    public var description: String {
        switch self {
        case .rom(let s): "PXE ROM: \(s)"
        case .nbp(let e): "pxelinux: \(e)"
        case .memory(let s): "guest memory: \(s)"
        }
    }
}

/// What a network boot did.
public struct PXEBootReport: Sendable {
    public var dhcp: DHCPResult
    /// The boot file the ROM loaded at 0000:7C00 (the NBP the built-in
    /// pxelinux stands in for).
    public var nbpFile: LoadedFile
    public var nbp: PXELinuxBoot
    /// Virtual time from power-on to the kernel in memory.
    public var elapsed: UInt64
}

/// A PXE client in one piece: the software option ROM (UNDI over the
/// card's driver, base code, PXE API with its structures in guest memory)
/// and the built-in pxelinux as the NBP. `boot()` does what a PC does
/// from the ROM's start to the kernel in memory.
public final class PXEClient {
    public let board: Board
    public let undi: UNDI
    public let baseCode: PXEBaseCode
    public let api: PXEAPI
    public let loader: PXELinuxLoader

    public init(board: Board, driver: NICDriver, identity: PXEClientIdentity = PXEClientIdentity(),
                layout: PXELayout = PXELayout()) throws(PXEClientError) {
        self.board = board
        undi = UNDI(driver: driver, bus: DriverBus(board: board))
        baseCode = PXEBaseCode(undi: undi, identity: identity)
        api = PXEAPI(baseCode: baseCode, memory: board.memory, layout: layout)
        loader = PXELinuxLoader(api: api)
        do throws(DMAError) { try api.install() } catch { throw .memory("\(error)") }
    }

    /// Progress of DHCP and TFTP.
    public var onEvent: ((PXEEvent) -> Void)? {
        get { baseCode.onEvent }
        set { baseCode.onEvent = newValue }
    }

    /// ROM (UNDI bring-up, DHCP, cached packets in memory, the boot file
    /// loaded at 0000:7C00), then pxelinux.
    public func boot() throws(PXEClientError) -> PXEBootReport {
        let start = board.clock.now
        let dhcp: DHCPResult
        do throws(PXEStatus) { dhcp = try baseCode.boot() } catch { throw .rom(error) }
        do throws(DMAError) { try api.storeCachedPackets() } catch { throw .memory("\(error)") }
        let nbpSize: Int
        do throws(PXEStatus) {
            nbpSize = try baseCode.loadNBP(below: RealModeAddress(segment: api.layout.undiCodeSegment, offset: 0).linear)
        } catch {
            throw .rom(error)
        }
        let nbpFile = LoadedFile(name: dhcp.bootFile, address: PXEBaseCode.nbpAddress, size: nbpSize)
        let nbp: PXELinuxBoot
        do throws(PXELinuxError) { nbp = try loader.run() } catch { throw .nbp(error) }
        return PXEBootReport(dhcp: dhcp, nbpFile: nbpFile, nbp: nbp, elapsed: board.clock.now - start)
    }
}
