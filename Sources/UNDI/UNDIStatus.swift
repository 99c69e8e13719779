/// A PXE 2.1 status code (PXENV_STATUS_xxx), the first word of every
/// parameter block after a call.
///
/// Values are those of the PXE 2.1 specification's status-code table; the
/// names drop the `PXENV_STATUS_` prefix.
public struct PXEStatus: RawRepresentable, Hashable, Sendable, Error, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    // Generic codes.
    /// PXENV_STATUS_SUCCESS
    public static let success = PXEStatus(rawValue: 0x00)
    /// PXENV_STATUS_FAILURE
    public static let failure = PXEStatus(rawValue: 0x01)
    /// PXENV_STATUS_BAD_FUNC: the call is not valid at this point.
    public static let badFunction = PXEStatus(rawValue: 0x02)
    /// PXENV_STATUS_UNSUPPORTED: unknown or unimplemented opcode.
    public static let unsupported = PXEStatus(rawValue: 0x03)
    /// PXENV_STATUS_KEEP_UNDI
    public static let keepUNDI = PXEStatus(rawValue: 0x04)
    /// PXENV_STATUS_KEEP_ALL
    public static let keepAll = PXEStatus(rawValue: 0x05)
    /// PXENV_STATUS_OUT_OF_RESOURCES
    public static let outOfResources = PXEStatus(rawValue: 0x06)

    // ARP and UDP.
    /// PXENV_STATUS_ARP_TIMEOUT
    public static let arpTimeout = PXEStatus(rawValue: 0x11)
    /// PXENV_STATUS_UDP_CLOSED
    public static let udpClosed = PXEStatus(rawValue: 0x18)
    /// PXENV_STATUS_UDP_OPEN
    public static let udpOpen = PXEStatus(rawValue: 0x19)
    /// PXENV_STATUS_TFTP_CLOSED
    public static let tftpClosed = PXEStatus(rawValue: 0x1A)
    /// PXENV_STATUS_TFTP_OPEN
    public static let tftpOpen = PXEStatus(rawValue: 0x1B)

    // TFTP.
    /// PXENV_STATUS_TFTP_CANNOT_ARP_ADDRESS
    public static let tftpCannotARPAddress = PXEStatus(rawValue: 0x30)
    /// PXENV_STATUS_TFTP_OPEN_TIMEOUT
    public static let tftpOpenTimeout = PXEStatus(rawValue: 0x32)
    /// PXENV_STATUS_TFTP_UNKNOWN_OPCODE
    public static let tftpUnknownOpcode = PXEStatus(rawValue: 0x33)
    /// PXENV_STATUS_TFTP_READ_TIMEOUT
    public static let tftpReadTimeout = PXEStatus(rawValue: 0x35)
    /// PXENV_STATUS_TFTP_ERROR_OPCODE: the server sent an ERROR packet.
    public static let tftpErrorOpcode = PXEStatus(rawValue: 0x36)
    /// PXENV_STATUS_TFTP_CANNOT_OPEN_CONNECTION
    public static let tftpCannotOpenConnection = PXEStatus(rawValue: 0x38)
    /// PXENV_STATUS_TFTP_CANNOT_READ_FROM_CONNECTION
    public static let tftpCannotReadFromConnection = PXEStatus(rawValue: 0x39)
    /// PXENV_STATUS_TFTP_TOO_MANY_PACKAGES
    public static let tftpTooManyPackages = PXEStatus(rawValue: 0x3A)
    /// PXENV_STATUS_TFTP_FILE_NOT_FOUND (TFTP error 1)
    public static let tftpFileNotFound = PXEStatus(rawValue: 0x3B)
    /// PXENV_STATUS_TFTP_ACCESS_VIOLATION (TFTP error 2)
    public static let tftpAccessViolation = PXEStatus(rawValue: 0x3C)
    /// PXENV_STATUS_TFTP_NO_MCAST_ADDRESS
    public static let tftpNoMulticastAddress = PXEStatus(rawValue: 0x3D)
    /// PXENV_STATUS_TFTP_NO_FILESIZE: the server did not answer tsize.
    public static let tftpNoFileSize = PXEStatus(rawValue: 0x3E)
    /// PXENV_STATUS_TFTP_INVALID_PACKET_SIZE
    public static let tftpInvalidPacketSize = PXEStatus(rawValue: 0x3F)

    // DHCP.
    /// PXENV_STATUS_DHCP_TIMEOUT
    public static let dhcpTimeout = PXEStatus(rawValue: 0x51)
    /// PXENV_STATUS_DHCP_NO_IP_ADDRESS
    public static let dhcpNoIPAddress = PXEStatus(rawValue: 0x52)
    /// PXENV_STATUS_DHCP_NO_BOOTFILE_NAME
    public static let dhcpNoBootfileName = PXEStatus(rawValue: 0x53)
    /// PXENV_STATUS_DHCP_BAD_IP_ADDRESS
    public static let dhcpBadIPAddress = PXEStatus(rawValue: 0x54)

    // UNDI.
    /// PXENV_STATUS_UNDI_INVALID_FUNCTION
    public static let undiInvalidFunction = PXEStatus(rawValue: 0x60)
    /// PXENV_STATUS_UNDI_MEDIATEST_FAILED
    public static let undiMediaTestFailed = PXEStatus(rawValue: 0x61)
    /// PXENV_STATUS_UNDI_CANNOT_INIT_NIC_FOR_MCAST
    public static let undiCannotInitNICForMulticast = PXEStatus(rawValue: 0x62)
    /// PXENV_STATUS_UNDI_CANNOT_INITIALIZE_NIC
    public static let undiCannotInitializeNIC = PXEStatus(rawValue: 0x63)
    /// PXENV_STATUS_UNDI_CANNOT_INITIALIZE_PHY
    public static let undiCannotInitializePHY = PXEStatus(rawValue: 0x64)
    /// PXENV_STATUS_UNDI_CANNOT_READ_CONFIG_DATA
    public static let undiCannotReadConfigData = PXEStatus(rawValue: 0x65)
    /// PXENV_STATUS_UNDI_CANNOT_READ_INIT_DATA
    public static let undiCannotReadInitData = PXEStatus(rawValue: 0x66)
    /// PXENV_STATUS_UNDI_BAD_MAC_ADDRESS
    public static let undiBadMACAddress = PXEStatus(rawValue: 0x67)
    /// PXENV_STATUS_UNDI_BAD_EEPROM_CHECKSUM
    public static let undiBadEEPROMChecksum = PXEStatus(rawValue: 0x68)
    /// PXENV_STATUS_UNDI_ERROR_SETTING_ISR
    public static let undiErrorSettingISR = PXEStatus(rawValue: 0x69)
    /// PXENV_STATUS_UNDI_INVALID_STATE: the call came out of order.
    public static let undiInvalidState = PXEStatus(rawValue: 0x6A)
    /// PXENV_STATUS_UNDI_TRANSMIT_ERROR
    public static let undiTransmitError = PXEStatus(rawValue: 0x6B)
    /// PXENV_STATUS_UNDI_INVALID_PARAMETER
    public static let undiInvalidParameter = PXEStatus(rawValue: 0x6C)

    // Bootstrap and discovery.
    /// PXENV_STATUS_BSTRAP_PROMPT_MENU
    public static let bootstrapPromptMenu = PXEStatus(rawValue: 0x74)
    /// PXENV_STATUS_BSTRAP_MCAST_ADDR
    public static let bootstrapMulticastAddress = PXEStatus(rawValue: 0x76)
    /// PXENV_STATUS_BSTRAP_MISSING_LIST
    public static let bootstrapMissingList = PXEStatus(rawValue: 0x77)
    /// PXENV_STATUS_BSTRAP_NO_RESPONSE
    public static let bootstrapNoResponse = PXEStatus(rawValue: 0x78)
    /// PXENV_STATUS_BSTRAP_FILE_TOO_BIG
    public static let bootstrapFileTooBig = PXEStatus(rawValue: 0x79)

    public var isSuccess: Bool { self == .success }

    public var description: String {
        let hex = String(rawValue, radix: 16)
        return "PXENV_STATUS 0x" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}

/// What a PXE API call leaves in AX: PXENV_EXIT_SUCCESS or PXENV_EXIT_FAILURE.
public enum PXEExit: UInt16, Sendable {
    case success = 0
    case failure = 1

    public init(_ status: PXEStatus) {
        self = status.isSuccess ? .success : .failure
    }
}
