import Board
import NICCore
import OptionROM
import PXE
import UNDI
import Wire


/// nicsim's own PXE option ROM, run by the machine as a PC runs a NIC's
/// boot ROM: POST shadows it and calls INIT, the BIOS boots through its
/// $PnP Bootstrap Entry Vector, and the ROM brings up UNDI, does DHCP,
/// loads the NBP over TFTP at 0000:7C00 and jumps to it with the PXE
/// register conventions (PXE 2.1 §4.4.5): ES:BX and EDX at PXENV+,
/// SS:SP at a far return into the ROM followed by the far pointer to !PXE.
///
/// The image (`image(vendorID:deviceID:product:)`) is a valid PXE option
/// ROM whose 16-bit code is a few instructions around host calls (see
/// `HostCall`); the UNDI, the base code and the PXE API it offers the NBP
/// are nicsim's Swift ones (`PXEClient`), over the model's UNDI driver.
/// The PXENV+ RMEntry and the !PXE EntryPointSP, in the UNDI code segment
/// in base memory, jump to the PXE API host calls; INT 1Ah AX=5650h finds
/// PXENV+.
public final class SoftwarePXEROM: HostFirmware {
    public let machine: Machine
    /// The UNDI, base code and PXE API behind the ROM.
    public let client: PXEClient
    /// The PCI function the ROM drives.
    public let address: PCIAddress
    /// Where the ROM puts its UNDI and base code: the top of base memory,
    /// below the EBDA, as PXE ROMs do (BDA 40:13 is lowered to protect it).
    public static let layout = PXELayout(baseSegment: 0x9C80)

    /// DHCP's outcome, once the ROM booted.
    public private(set) var dhcp: DHCPResult?
    /// The NBP the ROM loaded at 0000:7C00: its name and its bytes as they
    /// arrived (before it ran and perhaps moved itself).
    public private(set) var nbp: (name: String, bytes: [UInt8])?
    /// Decides, once the NBP is in memory, whether the ROM jumps to it.
    /// When it says no, the boot stops with `MachineStop.returned` at the
    /// point an NBP would start (the host runs its own stand-in instead).
    public var shouldExecute: (_ name: String, _ bytes: [UInt8]) -> Bool = { _, _ in true }
    /// The ROM stopped before the NBP because `shouldExecute` said no.
    public private(set) var handedOver = false
    /// The NBP gave control back to the ROM (far return), with this AX.
    public private(set) var nbpReturnCode: UInt16?
    /// Why the ROM could not boot, as it printed it.
    public private(set) var failure: String?

    /// The ROM for the card at `address`, driven by `driver`; becomes the
    /// machine's host firmware.
    public init(machine: Machine, driver: NICDriver, at address: PCIAddress,
                identity: PXEClientIdentity = PXEClientIdentity()) throws(MachineError) {
        self.machine = machine
        self.address = address
        do { client = try PXEClient(board: machine.board, driver: driver, identity: identity, layout: Self.layout) } catch {
            throw .optionROM("\(error)")
        }
        machine.bios.firmware = self
    }

    public var pxenvAddress: (segment: UInt16, offset: UInt16)? {
        installed ? (Self.layout.pxenvAddress.segment, Self.layout.pxenvAddress.offset) : nil
    }

    /// True once the boot installed the UNDI and the PXE API in base memory.
    public private(set) var installed = false

    // MARK: Booting

    /// POST and boot: shadow this ROM for the card, run INIT, then boot
    /// through the BEV until `condition` holds, `timeout` ns of virtual
    /// time pass, or the guest stops the machine.
    @discardableResult
    public func boot(until condition: @escaping () -> Bool = { false }, timeout: UInt64) throws(MachineError) -> MachineStop {
        let identity = machine.board.function(at: address)?.config.identity
        let rom: ExpansionROM
        do {
            rom = try ExpansionROM(bytes: try Self.image(vendorID: identity?.vendorID ?? 0, deviceID: identity?.deviceID ?? 0))
        } catch {
            throw .optionROM("cannot build the software PXE ROM: \(error)")
        }
        var shadowed = try machine.shadow(rom, for: address)
        let initStop = try machine.initialize(&shadowed, timeout: timeout)
        guard initStop == .returned else { return initStop }
        return try machine.bootstrap(shadowed, until: condition, timeout: timeout)
    }

    // MARK: Host calls

    public func hostCall(_ call: HostCall, on machine: Machine) {
        let bios = machine.bios
        switch call {
        case .romInit:
            bios.print("nicsim PXE ROM 2.1, UNDI for \(modelName) at PCI \(address)\r\n")
            bios.ax = 0
        case .romBoot:
            bios.ax = bootNBP(on: machine) ? 0 : 1
        case .nbpReturned:
            nbpReturnCode = bios.ax
            bios.print("nicsim PXE ROM: the NBP returned (AX=\(hex(bios.ax)))\r\n")
        case .undiLoader:
            // Loading the UNDI into segments a caller chooses is not
            // offered: the UNDI lives where the boot put it.
            bios.ax = PXEExit.failure.rawValue
        case .pxenvEntry:
            bios.ax = client.api.callPXENV(bx: bios.bx, es: bios.es, di: bios.di).rawValue
        case .bangPXEEntry:
            let stack = RealModeAddress(segment: UInt16(truncatingIfNeeded: machine[.ss]),
                                        offset: UInt16(truncatingIfNeeded: machine[.esp]))
            bios.ax = client.api.callBangPXE(stack: stack).rawValue
        }
    }

    /// What the BEV asks of the host: install UNDI and the PXE API in base
    /// memory, DHCP, TFTP the NBP to 0000:7C00, and set the registers the
    /// ROM's code enters it with (ES from DI, SS:SP from CX:SI).
    private func bootNBP(on m: Machine) -> Bool {
        let bios = m.bios
        let layout = Self.layout
        let romSegment = m.read16(Machine.linear(m[.ss], m[.esp] &+ 2))
        do throws(MachineError) { try install() } catch {
            return fail(bios, "PXE-E05: cannot install UNDI in base memory: \(error)")
        }

        if let mac = (m.board.function(at: address) as? NetworkDevice)?.macAddress {
            bios.print("CLIENT MAC ADDR: \(mac)\r\n")
        }
        let result: DHCPResult
        do throws(PXEStatus) { result = try client.baseCode.boot() } catch {
            return fail(bios, error == .dhcpTimeout ? "PXE-E51: No DHCP or proxyDHCP offers were received." : "PXE-E51: DHCP failed: \(error)")
        }
        dhcp = result
        bios.print("CLIENT IP: \(result.address)  MASK: \(result.subnetMask)  DHCP IP: \(result.serverIdentifier)\r\n")
        if result.router != IPv4Address(0, 0, 0, 0) { bios.print("GATEWAY IP: \(result.router)\r\n") }
        guard !result.bootFile.isEmpty else { return fail(bios, "PXE-E53: No boot filename received.") }
        do throws(DMAError) { try client.api.storeCachedPackets() } catch {
            return fail(bios, "PXE-E05: cannot store the DHCP packets: \(error)")
        }
        // The boot file name is the DHCP server's: escaped for the console.
        let bootFile = TerminalSafe.escaping(result.bootFile)
        bios.print("TFTP: \(bootFile) from \(result.tftpServer)\r\n")
        let size: Int
        do throws(PXEStatus) { size = try client.baseCode.loadNBP(below: layout.undiCodeSegment.linear) } catch {
            return fail(bios, "PXE-E32: TFTP of \(bootFile) failed: \(error)")
        }
        m.cpu.forgetCode(from: PCMemoryMap.bootAddress, count: size)
        let bytes = (try? m.memory.readBytes(at: PCMemoryMap.bootAddress, count: size)) ?? []
        nbp = (result.bootFile, bytes)
        guard shouldExecute(result.bootFile, bytes) else {
            handedOver = true
            m.finish(.returned)
            return true
        }

        let stack = RealModeAddress(segment: layout.stackSegment, offset: PXELayout.stackSize - 8)
        let entry: (es: UInt16, bx: UInt16)
        do throws(DMAError) {
            entry = try client.api.prepareNBPEntry(stack: stack, returnAddress: RealModeAddress(segment: romSegment, offset: Self.nbpReturnOffset))
        } catch {
            return fail(bios, "PXE-E05: cannot prepare the NBP's stack: \(error)")
        }
        m[.ebx] = UInt32(entry.bx)
        m[.edi] = UInt32(entry.es)
        m[.ecx] = UInt32(stack.segment)
        m[.esi] = UInt32(stack.offset)
        m[.edx] = UInt32(truncatingIfNeeded: layout.pxenvAddress.linear)
        return true
    }

    /// The card's model name, as the ROM prints it.
    var modelName: String {
        (machine.board.function(at: address) as? NetworkDevice)?.modelName ?? "PCI \(address)"
    }

    /// Puts the UNDI and the PXE API in base memory: PXENV+, !PXE, the
    /// entry points in the UNDI code segment, BDA 40:13 lowered below them,
    /// INT 1Ah AX=5650h answering. The boot does this before DHCP.
    public func install() throws(MachineError) {
        let layout = Self.layout
        do throws(DMAError) {
            try client.api.install()
            try machine.load(Self.undiCode, at: layout.undiCodeSegment.linear)
        } catch {
            throw .optionROM("\(error)")
        }
        installed = true
        let kib = UInt16(layout.undiCodeSegment.linear >> 10)
        if machine.read16(PCMemoryMap.bda + BDA.memorySize) > kib { machine.write16(PCMemoryMap.bda + BDA.memorySize, kib) }
    }

    private func fail(_ bios: BIOS, _ message: String) -> Bool {
        failure = message
        bios.print(message + "\r\n")
        return false
    }

    private func hex(_ v: UInt16) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }
}

extension UInt16 {
    /// A real-mode segment's linear address.
    fileprivate var linear: UInt64 { UInt64(self) << 4 }
}
