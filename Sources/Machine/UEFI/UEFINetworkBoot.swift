import Board
import NICCore
import PXE
import UNDI

/// A UEFI network boot as firmware does it: the card's UNDI driver under
/// nicsim's PXE base code sends DHCP as an x64 UEFI client (option 93 =
/// 7, class "PXEClient:Arch:00007"), fetches the boot file over TFTP,
/// then hands the card to the Simple Network Protocol and starts the boot
/// file as an EFI application whose device is the card's handle.
public final class UEFINetworkBoot {
    /// x64 UEFI (RFC 4578 / IANA processor architecture type 7).
    public static let architecture: UInt16 = 7

    public let machine: UEFIMachine
    public let baseCode: PXEBaseCode
    let undi: UNDI
    let driver: NICDriver
    let slot: PCIAddress
    /// The DHCP outcome, once `boot` got that far.
    public private(set) var dhcp: DHCPResult?
    /// The boot file's name and size, once it was fetched.
    public private(set) var nbp: (name: String, size: Int)?
    /// Why the boot stopped before the NBP ran, in one line.
    public private(set) var failure: String?

    /// The firmware on `board` with `driver`'s card at `slot`.
    public init(board: Board, driver: NICDriver, slot: PCIAddress, uuid: [UInt8]? = nil) throws(MachineError) {
        machine = try UEFIMachine(board: board)
        undi = UNDI(driver: driver, bus: DriverBus(board: board))
        baseCode = PXEBaseCode(undi: undi, identity: PXEClientIdentity(architecture: Self.architecture, uuid: uuid))
        self.driver = driver
        self.slot = slot
    }

    /// DHCP and TFTP, then the NBP on the CPU until `condition` holds, the
    /// NBP returns, or `timeout` ns of virtual time pass (counted from the
    /// power-on). Throws if the machine faults; a failed DHCP or TFTP
    /// ends with `failure` set and `.bootFailed`.
    public func boot(until condition: @escaping () -> Bool = { false }, timeout: UInt64) throws(MachineError) -> MachineStop {
        let start = machine.board.clock.now
        let result: DHCPResult
        do throws(PXEStatus) { result = try baseCode.boot() } catch {
            failure = "DHCP failed: \(error); is a DHCP server with a boot file for UEFI clients (arch 7) on the network?"
            return .bootFailed
        }
        dhcp = result
        var image: [UInt8] = []
        do {
            _ = try baseCode.tftp.readFile(server: result.tftpServer, file: result.bootFile, options: baseCode.tftpOptions) {
                (offset, bytes) throws(PXEStatus) in
                guard offset == image.count, image.count + bytes.count <= PEImage.maximumImageSize else { throw PXEStatus.failure }
                image.append(contentsOf: bytes)
            }
        } catch {
            failure = "TFTP \(result.bootFile) from \(result.tftpServer): \(error)"
            return .bootFailed
        }
        nbp = (result.bootFile, image.count)
        // The base code is done with the card; the NBP reaches it through SNP.
        _ = undi.close()
        _ = undi.shutdown()
        let device = try machine.addNetworkDevice(driver: driver, slot: slot)
        machine.installPXEBaseCode(on: device, baseCode: baseCode, lease: result)
        let handle = try machine.loadImage(image, device: device, filePath: result.bootFile)
        try machine.start(image: handle)
        let used = machine.board.clock.now &- start
        return try machine.run(until: condition, timeout: timeout > used ? timeout - used : 1)
    }
}
