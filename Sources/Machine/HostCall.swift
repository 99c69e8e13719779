/// The doors from guest code into firmware written in Swift.
///
/// Each host call is a few bytes in the BIOS segment: a NOP the machine
/// traps before executing it, then the instructions that return to the
/// caller. An option ROM nicsim builds (`SoftwarePXEROM`) far-calls or
/// far-jumps to them, so its whole 16-bit code is a handful of
/// instructions and the work (UNDI, DHCP, TFTP, the PXE API) is Swift on
/// the guest's registers and memory. Nothing is ever resumed in the middle
/// of guest code: the host does its work at the trap, and the guest's own
/// return instruction goes back.
public enum HostCall: CaseIterable, Sendable {
    /// The ROM's INIT (PCI Firmware 3.0 §5.2.1): far call, returns by RETF.
    case romInit
    /// The ROM's boot (reached from its $PnP BEV): far call; AX=0 when an
    /// NBP is loaded and the registers for entering it are set.
    case romBoot
    /// The NBP returned to the ROM: far call, returns by RETF.
    case nbpReturned
    /// The UNDI ROM ID's UNDI loader: far call, returns by RETF.
    case undiLoader
    /// PXENV+ RMEntry (far call, opcode in BX, parameter block at ES:DI);
    /// returns the exit code in AX, CF set on failure.
    case pxenvEntry
    /// !PXE EntryPointSP (far call, opcode and parameter block pointer on
    /// the stack); returns the exit code in AX, CF set on failure.
    case bangPXEEntry

    /// Offset of the call in the BIOS segment F000h.
    public var offset: UInt16 {
        switch self {
        case .romInit: 0xE380
        case .romBoot: 0xE384
        case .nbpReturned: 0xE388
        case .undiLoader: 0xE38C
        case .pxenvEntry: 0xE390
        case .bangPXEEntry: 0xE398
        }
    }

    /// The bytes at `offset`.
    var stub: [UInt8] {
        switch self {
        case .pxenvEntry, .bangPXEEntry:
            // NOP (trap); CMP AX,1; CMC; RETF: CF = (AX != PXENV_EXIT_SUCCESS),
            // computed by the guest so the host never writes FLAGS mid-run.
            [0x90, 0x3D, 0x01, 0x00, 0xF5, 0xCB]
        default:
            [0x90, 0xCB]  // NOP (trap); RETF
        }
    }

    /// The far pointer a ROM jumps or calls through.
    public var segment: UInt16 { PCMemoryMap.biosSegment }
}

/// Firmware written in Swift that runs on the machine through host calls,
/// set as `machine.bios.firmware`.
public protocol HostFirmware: AnyObject {
    /// The guest reached `call`; its registers and memory are the machine's.
    func hostCall(_ call: HostCall, on machine: Machine)
    /// Where PXENV+ is, for INT 1Ah AX=5650h; nil when no PXE API is installed.
    var pxenvAddress: (segment: UInt16, offset: UInt16)? { get }
}

extension BIOS {
    /// A host call: hand it to the firmware, or fail it when there is none
    /// (an image built by `nicsim rom build` run without its host).
    func hostCall(_ call: HostCall) {
        if let firmware {
            firmware.hostCall(call, on: machine)
            return
        }
        switch call {
        case .romInit, .nbpReturned:
            break
        case .romBoot:
            print("nicsim PXE ROM: no host firmware on this machine\r\n")
            ax = 1
        case .undiLoader, .pxenvEntry, .bangPXEEntry:
            ax = 1  // PXENV_EXIT_FAILURE
        }
    }

    /// INT 1Ah AX=5650h, the PXE installation check (PXE 2.1 §2.4.2.1):
    /// AX=564Eh ("VN"), ES:BX at PXENV+, CF clear. Without a PXE API the
    /// call is left as it came, CF set.
    func pxeInstallationCheck() {
        guard let at = firmware?.pxenvAddress else {
            returnCarry(true)
            return
        }
        ax = 0x564E
        machine[.es] = UInt32(at.segment)
        bx = at.offset
        returnCarry(false)
    }

    /// Prints `text` on the console as INT 10h teletype output would.
    public func print(_ text: String) {
        for c in text.utf8 { teletype(c) }
    }
}
