/// PXE API function codes (PXE 2.1), as passed in BX (PXENV+) or on the
/// stack (!PXE).
public enum PXEOpcode: UInt16, Sendable, CaseIterable {
    case startUNDI = 0x0000
    case undiStartup = 0x0001
    case undiCleanup = 0x0002
    case undiInitialize = 0x0003
    case undiResetAdapter = 0x0004
    case undiShutdown = 0x0005
    case undiOpen = 0x0006
    case undiClose = 0x0007
    case undiTransmit = 0x0008
    case undiSetMulticastAddress = 0x0009
    case undiSetStationAddress = 0x000A
    case undiSetPacketFilter = 0x000B
    case undiGetInformation = 0x000C
    case undiGetStatistics = 0x000D
    case undiClearStatistics = 0x000E
    case undiInitiateDiags = 0x000F
    case undiForceInterrupt = 0x0010
    case undiGetMulticastAddress = 0x0011
    case undiGetNICType = 0x0012
    case undiGetIfaceInfo = 0x0013
    case undiISR = 0x0014
    /// PXENV_STOP_UNDI; PXE 2.1 also gives PXENV_UNDI_GET_STATE this
    /// code (see `PXEAPI.opcode0015`).
    case stopUNDI = 0x0015
    case tftpOpen = 0x0020
    case tftpClose = 0x0021
    case tftpRead = 0x0022
    case tftpReadFile = 0x0023
    case tftpGetFileSize = 0x0025
    case udpOpen = 0x0030
    case udpClose = 0x0031
    case udpRead = 0x0032
    case udpWrite = 0x0033
    case unloadStack = 0x0070
    case getCachedInfo = 0x0071
    case restartTFTP = 0x0073
    case startBase = 0x0075
    case stopBase = 0x0076
}
