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
    /// The NBP the ROM loaded at 0000:7C00: its name and size.
    public private(set) var nbp: (name: String, size: Int)?
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
        do throws(DMAError) {
            try client.api.install()
            try m.load(Self.undiCode, at: layout.undiCodeSegment.linear)
        } catch {
            return fail(bios, "PXE-E05: cannot install UNDI in base memory: \(error)")
        }
        installed = true
        // Protect the UNDI and base code: base memory ends below them.
        let kib = UInt16(layout.undiCodeSegment.linear >> 10)
        if m.read16(PCMemoryMap.bda + BDA.memorySize) > kib { m.write16(PCMemoryMap.bda + BDA.memorySize, kib) }

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
        bios.print("TFTP: \(result.bootFile) from \(result.tftpServer)\r\n")
        let size: Int
        do throws(PXEStatus) { size = try client.baseCode.loadNBP(below: layout.undiCodeSegment.linear) } catch {
            return fail(bios, "PXE-E32: TFTP of \(result.bootFile) failed: \(error)")
        }
        m.cpu.forgetCode(from: PCMemoryMap.bootAddress, count: size)
        nbp = (result.bootFile, size)

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
